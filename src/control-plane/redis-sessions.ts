/**
 * Logouts and admin draining for every replica, with the shared store on (gateway.allowlist.store=redis):
 * two more parts of the shared connection (redis-shared.ts), each a version key, state, and a script that
 * changes the state, bumps the version and PUBLISHes in one step.
 *
 * Logouts: a sorted set of session ids scored by when they would have expired anyway (expired ones are
 * pruned by each logout, so it stays as small as the sessions still alive). A replica keeps every id it
 * has learnt until it expires, even when Redis forgets it (restarted without persistence): a logged-out
 * session never comes back to life. A logout while Redis is away ends the session on this replica at once
 * and reaches the others as soon as Redis answers again (retried every check).
 *
 * Draining: a hash of instance name to 1 or 0. An instance an admin never touched keeps what
 * gateway.entrance.draining says, so an admin's undrain of a configured name is recorded, not forgotten.
 */
import type { DrainCoordinator } from './draining';
import type { SharedRedis } from './redis-shared';
import type { RevokedSessionStore } from './session-store';
import type { UpstreamRegistry } from './upstreams';
import { GatewayError } from '../linkis/errors';

export const SESSIONS_PART = 'sessions';
export const DRAINING_PART = 'draining';

/** KEYS set, version; ARGV id, expires, now, channel, part. */
const REVOKE = `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1`;

/** KEYS hash, version; ARGV name, '1' or '0', channel, part. Returns the value before (nil: never set). */
const DRAIN = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return old`;

/** RESP2 answers pairs as a flat list; be ready for a map too. */
function pairs(reply: unknown): Array<[string, string]> {
  if (Array.isArray(reply)) {
    const out: Array<[string, string]> = [];
    for (let i = 0; i + 1 < reply.length; i += 2) out.push([String(reply[i]), String(reply[i + 1])]);
    return out;
  }
  return reply && typeof reply === 'object' ? Object.entries(reply as Record<string, unknown>).map(([k, v]) => [k, String(v)]) : [];
}

export function createRedisRevokedSessions(shared: SharedRedis, checkMs: number, now: () => number = Date.now): RevokedSessionStore {
  const set = `${shared.prefix}sessions:revoked`;
  const version = `${shared.prefix}sessions:version`;
  const revoked = new Map<string, number>();
  const unsent = new Map<string, number>();
  const prune = () => {
    const t = now();
    for (const [id, expires] of revoked) if (expires <= t) revoked.delete(id);
  };
  const flush = async () => {
    for (const [id, expires] of unsent) {
      if (expires <= now()) {
        unsent.delete(id);
        continue;
      }
      try {
        await shared.send('EVAL', REVOKE, '2', set, version, id, String(expires), String(now()), shared.channel, SESSIONS_PART);
        unsent.delete(id);
      } catch {
        return; // Redis away: the next tick tries again; this replica refuses the session meanwhile
      }
    }
  };
  const retry = setInterval(() => void (unsent.size > 0 && flush()), checkMs);
  retry.unref();
  shared.register({
    name: SESSIONS_PART,
    versionKey: version,
    async sync(v) {
      prune();
      if (v === null) return; // nothing revoked, or Redis forgot: what this replica knows stays
      const t = now();
      for (const [id, score] of pairs(await shared.send('ZRANGEBYSCORE', set, String(t), '+inf', 'WITHSCORES'))) revoked.set(id, Number(score));
    },
  });
  return {
    file: `${set} (Redis)`,
    has: (id) => revoked.has(id),
    revoke({ id, expires }) {
      revoked.set(id, expires);
      unsent.set(id, expires);
      void flush();
    },
    reload: () => void shared.check(),
    close() {
      clearInterval(retry);
      revoked.clear();
    },
  };
}

export interface RedisDraining {
  coordinator: DrainCoordinator;
  close(): void;
}

export function followRedisDraining(shared: SharedRedis, registry: UpstreamRegistry, configured: readonly string[]): RedisDraining {
  const hash = `${shared.prefix}draining`;
  const version = `${shared.prefix}draining:version`;
  const initial = new Set(configured);
  let state = new Map<string, boolean>();
  const wanted = (name: string) => state.get(name) ?? initial.has(name);
  const applyAll = () => {
    for (const u of registry.all()) if (u.draining !== wanted(u.name)) registry.setDraining(u.name, wanted(u.name));
  };
  shared.register({
    name: DRAINING_PART,
    versionKey: version,
    async sync(v) {
      // A forgotten hash (Redis restarted without persistence) means gateway.entrance.draining again.
      state = v === null ? new Map() : new Map(pairs(await shared.send('HGETALL', hash)).map(([k, x]) => [k, x === '1']));
      applyAll();
    },
  });
  // An instance that appears later (gateway.discovery) takes the shared state too.
  const stop = registry.onChange((u) => {
    if (u.draining !== wanted(u.name) && registry.get(u.name) === u) registry.setDraining(u.name, wanted(u.name));
  });
  const coordinator: DrainCoordinator = async ({ name, draining }) => {
    let before: string | null;
    try {
      before = (await shared.send('EVAL', DRAIN, '2', hash, version, name, draining ? '1' : '0', shared.channel, DRAINING_PART)) as string | null;
    } catch (err) {
      throw new GatewayError('ADMIN_STORE_UNAVAILABLE', `draining is kept in the shared store, which did not answer (${(err as Error).message}); nothing was changed, or, after a timeout, maybe: list the Entrances to see`);
    }
    state.set(name, draining);
    registry.setDraining(name, draining);
    const was = before === null || before === undefined ? initial.has(name) : before === '1';
    return { changed: was !== draining, workers: 1, applied: 1, shared: true };
  };
  return { coordinator, close: stop };
}
