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
import { boundedCommands, withDeadline, type BoundedCommands, type SendCommand } from '../control-plane/redis-commands';

export { boundedCommands, withDeadline, type BoundedCommands, type SendCommand };

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
