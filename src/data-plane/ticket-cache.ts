import type { TicketCodec } from '../linkis/ticket';

export interface TicketCache {
  ticketFor(user: string): string;
  close(): void;
}

/**
 * Reuses one minted ticket per user for ttlMs (the hot path mints per request otherwise).
 * A Map keeps insertion order and we re-insert on every re-mint, so the first key is always the
 * oldest: eviction beyond maxEntries is O(1) and no timer is needed.
 */
export function createTicketCache(
  codec: TicketCodec,
  ttlMs: number,
  now: () => number = Date.now,
  maxEntries = 10_000,
): TicketCache {
  if (!(ttlMs >= 0) || !Number.isFinite(ttlMs)) throw new RangeError(`ticket cache ttlMs must be >= 0, got ${ttlMs}`);
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`ticket cache maxEntries must be >= 1, got ${maxEntries}`);
  const entries = new Map<string, { ticket: string; mintedAt: number }>();
  let closed = false;

  return {
    ticketFor(user: string): string {
      const t = now();
      const hit = entries.get(user);
      // t < mintedAt means the clock went back: do not trust the entry.
      if (hit !== undefined && t - hit.mintedAt < ttlMs && t >= hit.mintedAt) return hit.ticket;
      const ticket = codec.mint(user, Math.floor(t));
      if (closed) return ticket;
      entries.delete(user);
      entries.set(user, { ticket, mintedAt: t });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      return ticket;
    },
    close(): void {
      closed = true;
      entries.clear();
    },
  };
}
