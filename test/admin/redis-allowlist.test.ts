/**
 * The shared store's parts against a real redis-server, in one process: the repo's compare-and-set (the
 * file's If-Match semantics), an empty store never read as an empty allowlist, followers applying a
 * change on message and on the periodic check, fail-static when Redis is gone, logouts and draining.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { createLogger } from '../../src/ops/logger';
import { createAllowlistStore } from '../../src/control-plane/allowlist-store';
import { connectSharedRedis, type SharedRedis } from '../../src/control-plane/redis-shared';
import { createRedisRevokedSessions, followRedisDraining } from '../../src/control-plane/redis-sessions';
import { createUpstreamRegistry } from '../../src/control-plane/upstreams';
import { createRedisTokensRepo, followRedisAllowlist } from '../../src/admin/redis-allowlist';
import { etagOf } from '../../src/admin/tokens-repo';
import { AdminError } from '../../src/admin/admin-error';
import { startRedis, type RedisProcess } from '../support/process-harness';

const A = 'first-token-0123456789abcdefghij';
const B = 'second-token-0123456789abcdefghij';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = () => createLogger({ level: 'error', format: 'json' }, { stream: new PassThrough().resume(), isTTY: false });

async function until(ms: number, probe: () => boolean): Promise<boolean> {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(20)) if (probe()) return true;
  return probe();
}

describe('the shared store in Redis', () => {
  let redis: RedisProcess;
  const opened: SharedRedis[] = [];
  let n = 0;
  const replica = (checkMs = 1000) => {
    const shared = connectSharedRedis({ url: redis.url, prefix: `t${n}:`, checkMs, logger: quiet() });
    opened.push(shared);
    return shared;
  };
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const s of opened) await s.close();
    await redis.stop();
  });

  it('writes with the file’s If-Match semantics: a stale version is a 409 with the current one, and nothing is lost', async () => {
    n++;
    const shared = replica();
    await shared.start(2000);
    const repo = createRedisTokensRepo({ send: shared.send, prefix: shared.prefix, channel: shared.channel, where: 'test' });
    // An empty store refuses edits (it is not an empty allowlist) but reads as empty for an import.
    await assert.rejects(repo.read(), (e: AdminError) => e.code === 'ADMIN_STORE_UNAVAILABLE');
    const empty = await repo.read({ missingOk: true });
    assert.deepEqual(empty, { text: '', etag: etagOf('') });
    await assert.rejects(repo.update(empty.etag, (t) => ({ text: `${t}${A}=alice\n`, changed: true })), (e: AdminError) => e.code === 'ADMIN_STORE_UNAVAILABLE');
    const first = await repo.update(empty.etag, () => ({ text: `${A}=alice\n`, changed: true }), undefined, { initialize: true });
    assert.equal(first.etagAfter, etagOf(`${A}=alice\n`));
    // Two writers from the same version: one wins, the other learns the winner's version.
    const other = createRedisTokensRepo({ send: shared.send, prefix: shared.prefix, channel: shared.channel, where: 'test' });
    const results = await Promise.allSettled([
      repo.update(first.etagAfter, (t) => ({ text: `${t}${B}=bob\n`, changed: true })),
      other.update(first.etagAfter, (t) => ({ text: `${t}${B}=carol\n`, changed: true })),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost[0]!.reason.code, 'ADMIN_CONFLICT');
    assert.equal(lost[0]!.reason.data.etag, (await repo.read()).etag);
  });

  it('every follower applies a change within the check interval even when the message is lost, and keeps its rules without Redis', async () => {
    n++;
    const writer = replica();
    const shared = replica(200);
    const store = createAllowlistStore({ file: 'shared', logger: quiet() });
    const follower = followRedisAllowlist(shared, store);
    await shared.start(2000);
    assert.equal(follower.loaded(), false, 'nothing in the store: nothing allowed, not ready');
    assert.equal(shared.healthy(), false);
    await writer.start(2000);
    const repo = createRedisTokensRepo({ send: writer.send, prefix: writer.prefix, channel: writer.channel, where: 'test' });
    await repo.update(etagOf(''), () => ({ text: `${A}=alice\n${B}=bob\n`, changed: true }), undefined, { initialize: true });
    assert.ok(await until(1500, () => store.current().decide(B, 'bob') === 'allowed'), 'the change arrived');
    assert.ok(follower.loaded() && shared.healthy());
    // A change written behind the channel's back (no PUBLISH): the periodic check finds it.
    const raw = createClient({ url: redis.url });
    await raw.connect();
    await raw.mSet([`${shared.prefix}allowlist`, `${A}=alice\n`, `${shared.prefix}allowlist:version`, etagOf(`${A}=alice\n`)]);
    assert.ok(await until(1000, () => store.current().decide(B, 'bob') === 'unknown-token'), 'the periodic check applied the revocation');
    // Redis forgets everything: the rules stay (never an empty allowlist), and the follower says why.
    await raw.flushAll();
    await raw.quit();
    assert.ok(await until(1000, () => !shared.healthy()));
    assert.match(shared.problem()!, /holds no allowlist/);
    assert.equal(store.current().decide(A, 'alice'), 'allowed');
  });

  it('logouts and draining reach every replica, and a logout survives Redis forgetting it', async () => {
    n++;
    const [one, two] = [replica(200), replica(200)];
    const sessions = [createRedisRevokedSessions(one, 200), createRedisRevokedSessions(two, 200)];
    const registries = [0, 1].map(() => createUpstreamRegistry([{ name: 'e1:9104', url: 'http://127.0.0.1:9' }, { name: 'e2:9104', url: 'http://127.0.0.1:9' }], { failureThreshold: 3, ejectMs: 10_000 }));
    const draining = [followRedisDraining(one, registries[0]!, ['e2:9104']), followRedisDraining(two, registries[1]!, ['e2:9104'])];
    await Promise.all([one.start(2000), two.start(2000)]);
    assert.equal(registries[1]!.get('e2:9104')!.draining, true, 'gateway.entrance.draining until an admin says otherwise');
    sessions[0]!.revoke({ id: 'session-1', expires: Date.now() + 60_000 });
    assert.ok(await until(1000, () => sessions[1]!.has('session-1')));
    const out = await draining[0]!.coordinator({ name: 'e1:9104', draining: true, admin: 'anna' });
    assert.deepEqual(out, { changed: true, workers: 1, applied: 1, shared: true });
    const undrain = await draining[0]!.coordinator({ name: 'e2:9104', draining: false, admin: 'anna' });
    assert.equal(undrain.changed, true, 'undraining a configured name is a change');
    assert.ok(await until(1000, () => registries[1]!.get('e1:9104')!.draining && !registries[1]!.get('e2:9104')!.draining));
    const raw = createClient({ url: redis.url });
    await raw.connect();
    await raw.flushAll();
    await raw.quit();
    await two.check();
    assert.equal(sessions[1]!.has('session-1'), true, 'a logged-out session never comes back');
    for (const s of sessions) s.close();
    for (const d of draining) d.close();
  });
});
