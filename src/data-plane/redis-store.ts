/**
 * rate-limit-redis, made to survive Redis being away. RedisStore loads its Lua scripts once in init();
 * if Redis was down then, the loaded-script promise stays rejected and every later count fails, so the
 * limits would silently stay off even after Redis came back. This wrapper starts a fresh RedisStore
 * (which loads the scripts again) after a failure, so counting resumes as soon as Redis answers.
 */
import type { ClientRateLimitInfo, IncrementResponse, Options, Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';

export function createResilientRedisStore(prefix: string, sendCommand: (...args: string[]) => Promise<unknown>): Store {
  let options: Options | undefined;
  let inner: RedisStore | undefined;
  const fresh = (): RedisStore => {
    const store = new RedisStore({ prefix, sendCommand: sendCommand as never });
    // A failed script load is reported by the next count; it must not be an unhandled rejection.
    if (options) void Promise.resolve(store.init(options)).catch(() => undefined);
    return store;
  };
  const current = (): RedisStore => (inner ??= fresh());
  const guarded = async <T>(op: (s: RedisStore) => Promise<T>): Promise<T> => {
    const store = current();
    try {
      return await op(store);
    } catch (err) {
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
