/**
 * The allowlist shared by every replica (gateway.allowlist.store=redis): the text of proxy.properties in one
 * Redis key, its version (the SHA-256 of the text, the same ETag as the file's) in another.
 *
 * Writers (the admin API of any replica, the CLI) go through createRedisTokensRepo, the same TokensRepo the
 * file has: read, edit the text with the very code that edits the file, then one Lua script that writes only
 * if the version is still the one the edit started from, and PUBLISHes. Two admins on two replicas: one
 * wins, the other gets 409 with the current version, as with the file. The whole text, not entries:
 * labels, comments and order stay exactly what the file's edits make of them, and import/export is a copy.
 *
 * Readers (every replica's data plane) follow it with followRedisAllowlist, a part of the shared connection
 * (redis-shared.ts): a changed version is fetched and applied with the same all-or-nothing build as a file
 * reload. A key that is gone (a Redis restarted without persistence) is never taken for an empty allowlist:
 * the replica keeps its rules and says so, and the admin API refuses to write until someone imports.
 */
import type { AllowlistStore } from '../control-plane/allowlist-store';
import type { SharedPart, SharedRedis } from '../control-plane/redis-shared';
import type { SendCommand } from '../control-plane/redis-commands';
import { AdminError } from './admin-error';
import { etagOf, type TokensRepo, type Updated } from './tokens-repo';

export const ALLOWLIST_PART = 'allowlist';

export const allowlistKeys = (prefix: string) => ({ text: `${prefix}allowlist`, version: `${prefix}allowlist:version` });

/** Compare-and-set: KEYS text, version; ARGV expected version ('' = absent), text, new version, channel, part. */
const CAS = `
local cur = redis.call('GET', KEYS[2]) or ''
if cur ~= ARGV[1] then return {0, cur} end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return {1, ARGV[3]}`;

/** The version of an absent store: the ETag of empty text, as a missing proxy.properties reads. */
const ABSENT_ETAG = etagOf('');

const EMPTY_STORE = 'the shared allowlist store holds no allowlist (a new Redis, or one restarted without persistence): put proxy.properties there with `linkis-gateway tokens import`';

/** A Redis failure as the admin's answer: nothing was changed, or, after a timeout on the write, maybe. */
function unavailable(err: unknown, writing = false): AdminError {
  if (err instanceof AdminError) return err;
  const why = (err as Error)?.message ?? String(err);
  return new AdminError('ADMIN_STORE_UNAVAILABLE', writing ? `${why}; the change may or may not have been made: list the tokens to see` : why);
}

export interface RedisTokensRepoOptions {
  send: SendCommand;
  prefix: string;
  channel: string;
  /** For messages: where the allowlist lives. */
  where: string;
  onWritten?: (etag: string, text: string) => unknown;
}

export function createRedisTokensRepo(opts: RedisTokensRepoOptions): TokensRepo {
  const { send } = opts;
  const keys = allowlistKeys(opts.prefix);
  let chain: Promise<unknown> = Promise.resolve();
  let written: string | null = null;
  let closed = false;
  // Queued in this process, so one replica's admins do not 409 each other for nothing; across replicas the script decides.
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  };
  const current = async (missingOk: boolean): Promise<{ text: string; etag: string; absent: boolean }> => {
    const [text, version] = (await send('MGET', keys.text, keys.version).catch((err) => Promise.reject(unavailable(err)))) as Array<string | null>;
    if (version === null || text === null) {
      if (!missingOk) throw new AdminError('ADMIN_STORE_UNAVAILABLE', EMPTY_STORE);
      return { text: '', etag: ABSENT_ETAG, absent: true };
    }
    return { text, etag: version, absent: false };
  };
  return {
    file: opts.where,
    async read(o) {
      const { text, etag } = await current(o?.missingOk ?? false);
      return { text, etag };
    },
    update(ifMatch, edit, onReplaced, o) {
      return exclusive(async () => {
        if (closed) throw new AdminError('ADMIN_FILE_BUSY', 'the admin service is shutting down');
        const cur = await current(o?.initialize ?? false);
        if (cur.etag !== ifMatch) throw new AdminError('ADMIN_CONFLICT', undefined, { etag: cur.etag });
        const result = await edit(cur.text);
        if (!result.changed && !cur.absent) return { result, etagBefore: cur.etag, etagAfter: cur.etag };
        const etagAfter = etagOf(result.text);
        const reply = (await send('EVAL', CAS, '2', keys.text, keys.version, cur.absent ? '' : cur.etag, result.text, etagAfter, opts.channel, ALLOWLIST_PART).catch((err) =>
          Promise.reject(unavailable(err, true)),
        )) as [number, string];
        if (Number(reply[0]) !== 1) throw new AdminError('ADMIN_CONFLICT', 'another admin changed the shared allowlist meanwhile', { etag: reply[1] || ABSENT_ETAG });
        const u: Updated<typeof result> = { result, etagBefore: cur.etag, etagAfter };
        await onReplaced?.(u);
        written = etagAfter;
        await opts.onWritten?.(etagAfter, result.text);
        return u;
      });
    },
    lastWrittenEtag: () => written,
    async close() {
      closed = true;
      await chain;
    },
  };
}

export interface RedisAllowlistFollower {
  /** False until rules were read from Redis once (until then nothing is allowed: fail closed). */
  loaded(): boolean;
  /** For the repo's onWritten: this replica wrote `text`; apply it now, not at the next message. */
  noteWritten(etag: string, text: string): Promise<void>;
}

/** Makes `store` follow the shared allowlist; registers itself on `shared`. */
export function followRedisAllowlist(shared: SharedRedis, store: AllowlistStore): RedisAllowlistFollower {
  const keys = allowlistKeys(shared.prefix);
  let applied: string | null = null;
  let loaded = false;
  const apply = async (version: string, text: string, reason: string) => {
    const r = await store.applyBytes(reason, Buffer.from(text, 'utf8'));
    // A refused text (logged by the store) is not fetched again every second; a superseded build is.
    if (r.ok || r.problems.length > 0) applied = version;
    loaded ||= r.ok;
  };
  const part: SharedPart = {
    name: ALLOWLIST_PART,
    versionKey: keys.version,
    async sync(version) {
      if (version === null) throw new Error(EMPTY_STORE);
      if (version === applied) return;
      const [text, v] = (await shared.send('MGET', keys.text, keys.version)) as Array<string | null>;
      if (text === null || v === null) throw new Error(EMPTY_STORE);
      if (v !== applied) await apply(v, text, 'shared-store');
    },
  };
  shared.register(part);
  return {
    loaded: () => loaded,
    noteWritten: (etag, text) => apply(etag, text, 'admin-write'),
  };
}
