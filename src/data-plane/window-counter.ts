/**
 * A synchronous fixed-window counter with the semantics of express-rate-limit's MemoryStore: a key's
 * window opens at its first hit and lasts `windowMs`; the first hit after it ends opens the next one.
 * Keys idle for a whole window are dropped in bulk (two maps swapped every windowMs, as MemoryStore does),
 * so a stream of one-off clients cannot grow it.
 *
 * Why not MemoryStore itself: express-rate-limit reaches its store through an async path (five awaits per
 * request) that cost about as much as the rest of the gateway's own work on a status poll (bench/RESULTS.md);
 * this does the same counting in well under a microsecond. test/data-plane/window-counter.test.ts replays
 * generated request sequences against MemoryStore and this, and requires the same counts and reset times.
 */
export interface WindowHit {
  /** Hits of this key in its current window, this one included. */
  totalHits: number;
  /** When the current window ends (ms since the epoch). */
  resetAt: number;
}

export interface WindowCounter {
  hit(key: string, now?: number): WindowHit;
  readonly size: number;
  close(): void;
}

export function createWindowCounter(windowMs: number): WindowCounter {
  let previous = new Map<string, WindowHit>();
  let current = new Map<string, WindowHit>();
  const sweep = setInterval(() => {
    previous = current;
    current = new Map();
  }, windowMs);
  sweep.unref();
  return {
    hit(key, now = Date.now()) {
      let entry = current.get(key);
      if (!entry) {
        entry = previous.get(key);
        if (entry) previous.delete(key);
        else entry = { totalHits: 0, resetAt: now + windowMs };
        current.set(key, entry);
      }
      if (entry.resetAt <= now) {
        entry.totalHits = 0;
        entry.resetAt = now + windowMs;
      }
      entry.totalHits++;
      return entry;
    },
    get size() {
      return current.size + previous.size;
    },
    close() {
      clearInterval(sweep);
      current.clear();
      previous.clear();
    },
  };
}
