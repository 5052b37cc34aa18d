/**
 * rate-limit-redis, made to survive Redis being away or hung. RedisStore loads its Lua scripts once in
 * init(); if Redis was down then, the loaded-script promise stays rejected and every later count fails, so
 * the limits would silently stay off even after Redis came back. This wrapper starts a fresh RedisStore
 * (which loads the scripts again) after a failure, so counting resumes as soon as Redis answers.
 *
 * A hung Redis (stopped, partitioned: the TCP connection stays up, no reply ever comes) is the harder
 * case: node-redis's per-command `timeout` only covers commands not yet written to the socket, so a
 * written command waits as long as Redis does. Every call here races a timer of its own instead, and once
 * one missed its deadline the store stops sending (fails at once) until a background PING answers again.
 */
import type { ClientRateLimitInfo, IncrementResponse, Options, Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';

export type SendCommand = (...args: string[]) => Promise<unknown>;

/** Rejects with a timeout error when `work` has not settled within `ms`; the timer really fires. */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_ok, fail) => {
    timer = setTimeout(() => fail(Object.assign(new Error(`${what} did not answer within ${ms} ms`), { code: 'GW_STORE_TIMEOUT' })), ms);
  });
  // The loser of the race must not become an unhandled rejection.
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export interface BoundedCommands {
  send: SendCommand;
  /** True while Redis is taken to be hung (commands fail at once). */
  stalled(): boolean;
  /** A caller's own deadline on Redis passed: the same as a command missing its deadline. */
  missed(): void;
  close(): void;
}

/**
 * Every command bounded by `timeoutMs`. After a command misses its deadline, commands fail at once
 * (no request waits, nothing piles up in the client's queue) while a PING every `probeMs` asks whether
 * Redis answers again; the first answer from Redis, the PING's or a late reply, ends the stall.
 */
export function boundedCommands(send: SendCommand, timeoutMs: number, probeMs = timeoutMs): BoundedCommands {
  let stalled = false;
  let closed = false;
  let probe: NodeJS.Timeout | undefined;
  const answered = () => {
    stalled = false;
    clearTimeout(probe);
    probe = undefined;
  };
  const scheduleProbe = () => {
    if (closed || probe) return;
    probe = setTimeout(() => {
      probe = undefined;
      if (!stalled || closed) return;
      withDeadline(send('PING'), timeoutMs, 'Redis').then(answered, () => scheduleProbe());
    }, probeMs);
    probe.unref(); // a probe must not keep a shutting-down process alive
  };
  const timedOut = () => {
    stalled = true;
    scheduleProbe();
  };
  return {
    send(...args) {
      if (stalled) return Promise.reject(Object.assign(new Error(`Redis missed its ${timeoutMs} ms deadline; not waiting for it until it answers a PING`), { code: 'GW_STORE_STALLED' }));
      const sent = send(...args);
      sent.then(answered, () => undefined);
      const bounded = withDeadline(sent, timeoutMs, 'Redis');
      bounded.catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'GW_STORE_TIMEOUT') timedOut();
      });
      return bounded;
    },
    stalled: () => stalled,
    missed: timedOut,
    close() {
      closed = true;
      clearTimeout(probe);
    },
  };
}

/**
 * `timeoutMs` bounds each store operation as a whole: an increment may take two round trips (a script
 * load, then EVALSHA), and the request must not wait for both deadlines.
 */
export function createResilientRedisStore(prefix: string, commands: Pick<BoundedCommands, 'send' | 'missed'>, timeoutMs: number): Store {
  let options: Options | undefined;
  let inner: RedisStore | undefined;
  const fresh = (): RedisStore => {
    const store = new RedisStore({ prefix, sendCommand: commands.send as never });
    // A failed script load is reported by the next count; it must not be an unhandled rejection.
    if (options) void Promise.resolve(store.init(options)).catch(() => undefined);
    return store;
  };
  const current = (): RedisStore => (inner ??= fresh());
  const guarded = async <T>(op: (s: RedisStore) => Promise<T>): Promise<T> => {
    const store = current();
    try {
      return await withDeadline(op(store), timeoutMs, 'Redis');
    } catch (err) {
      // This deadline may pass a moment before the command's own: the next request must not wait too.
      if ((err as NodeJS.ErrnoException).code === 'GW_STORE_TIMEOUT') commands.missed();
      if (inner === store) inner = undefined; // the next call starts over with a freshly loaded script
      throw err;
    }
  };
  return {
    prefix,
    init(opts: Options) {
      options = opts;
      inner = fresh();
    },
    increment: (key: string): Promise<IncrementResponse> => guarded((s) => s.increment(key)),
    decrement: (key: string) => guarded((s) => s.decrement(key)),
    resetKey: (key: string) => guarded((s) => s.resetKey(key)),
    get: (key: string): Promise<ClientRateLimitInfo | undefined> => guarded((s) => s.get(key)),
  };
}
