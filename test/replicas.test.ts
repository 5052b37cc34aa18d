/**
 * Three replicas, one shared store (gateway.allowlist.store=redis): real gateway processes, a real
 * redis-server, simulated Entrances. An edit through one replica's admin API is enforced by the others
 * within 2 s, two admins on two replicas never lose an update, a logout and a drain reach every replica,
 * and with Redis killed no replica fails open (a revoked token stays refused); all catch up after.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../src/cli/main';
import { startSimulatedLinkis, type SimulatedLinkis } from '../src/simulator/linkis';
import { LinkisHttp } from './support/linkis-clients';
import { freePort, startMain, startRedis, writeConf, type MainProcess, type RedisProcess } from './support/process-harness';

const ADMIN = 'replicas-admin-token-0123456789';
const TOKEN = 'replicas-token-alice-0123456789abcdef';
const REVOKED = 'replicas-token-bob-0123456789abcdef';
const SECRET = 'replicas-session-secret-0123456789abcdef0123456789';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Milliseconds until `probe` is true, or -1 after `limitMs`. */
async function within(limitMs: number, probe: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    if (await probe()) return Date.now() - t0;
    await sleep(50);
  }
  return -1;
}

describe('three replicas sharing the allowlist, logouts and draining in Redis', () => {
  let linkis: SimulatedLinkis;
  let redis: RedisProcess;
  let redisPort: number;
  const redisDir = mkdtempSync(join(tmpdir(), 'lgw-redis-'));
  // Persistence, so that "killed and restarted" is an outage, not a loss (see README: Shared allowlist).
  const redisArgs = ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', redisDir];
  const confs: string[] = [];
  const gws: MainProcess[] = [];
  const admins: string[] = [];

  const allowed = async (gw: MainProcess, user: string, token: string) =>
    (await fetch(`${gw.url}/api/rest_j/v1/jobhistory/list`, { headers: { 'Proxy-User': user, 'Validation-Code': token } })).status === 200;
  const api = async (i: number, method: string, path: string, body?: unknown, ifMatch?: string) => {
    const headers: Record<string, string> = { authorization: `Bearer ${ADMIN}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (ifMatch) headers['if-match'] = `"${ifMatch}"`;
    const r = await fetch(`${admins[i]}/admin/api/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as any };
  };
  const ready = async (gw: MainProcess) => (await (await fetch(`${gw.url}/ready`)).json()) as any;

  before(async () => {
    linkis = await startSimulatedLinkis({ entrances: 2 });
    redisPort = await freePort();
    redis = await startRedis(redisPort, redisArgs);
    for (let i = 1; i <= 3; i++) {
      const conf = writeConf({
        'gateway.entrance.instances': linkis.entrances.map((e) => `${e.instance}=${e.url}`).join(','),
        'gateway.publicservice.instances': `${linkis.publicservice.instance}=${linkis.publicservice.url}`,
        'gateway.allowlist.store': 'redis',
        'gateway.allowlist.redis.url': redis.url,
        'gateway.replica.name': `replica-${i}`,
        'gateway.admin.port': '0',
        'gateway.session.secret': SECRET,
      });
      writeFileSync(join(conf, 'admin.properties'), `ops=${ADMIN}\n`);
      confs.push(conf);
    }
    // proxy.properties into the empty store, with the CLI (the store is what gateway.properties names).
    const file = join(confs[0]!, 'import.properties');
    writeFileSync(file, `# alice's service\n${TOKEN}=alice\n${REVOKED}=bob\n`);
    const err: string[] = [];
    assert.equal(await runCli(['tokens', 'import', file, '--conf', confs[0]!, '--as', 'anna'], {}, { out: () => undefined, err: (t) => err.push(t) }), 0, err.join('\n'));
    for (const conf of confs) gws.push(await startMain(conf));
    for (const gw of gws) admins.push(`http://127.0.0.1:${gw.lines().find((l) => l.event === 'admin.listening')!.port}`);
  });
  after(async () => {
    await Promise.all(gws.map((g) => g.stop()));
    await redis?.stop();
    await linkis.close();
  });

  it('every replica starts with the imported rules, and exports them byte for byte', async () => {
    for (const gw of gws) {
      assert.equal(await allowed(gw, 'alice', TOKEN), true);
      assert.equal((await ready(gw)).data.sharedStore, true);
    }
    const out = join(confs[1]!, 'export.properties');
    assert.equal(await runCli(['tokens', 'export', out, '--conf', confs[1]!], {}, { out: () => undefined, err: () => undefined }), 0);
    assert.equal(readFileSync(out, 'utf8'), `# alice's service\n${TOKEN}=alice\n${REVOKED}=bob\n`);
  });

  it("an edit through replica 1's admin API is enforced by replicas 2 and 3 within 2 s; a revoked token stops working", async () => {
    const { body } = await api(0, 'GET', 'tokens');
    const created = await api(0, 'POST', 'tokens', { users: ['carol'], label: 'made on replica 1' }, body.data.etag);
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const token = created.body.data.token as string;
    for (const gw of gws.slice(1)) {
      const ms = await within(2000, () => allowed(gw, 'carol', token));
      assert.ok(ms >= 0, `replica ${gw.url} did not let the new token in within 2 s`);
    }
    const bob = (await api(0, 'GET', 'tokens')).body.data;
    const fp = bob.tokens.find((t: any) => t.users[0] === 'bob').fingerprint;
    assert.equal((await api(0, 'DELETE', `tokens/${fp}`, undefined, bob.etag)).status, 200);
    for (const gw of gws) assert.ok((await within(2000, async () => !(await allowed(gw, 'bob', REVOKED)))) >= 0, 'the revoked token still works after 2 s');
    const audit = readFileSync(join(confs[0]!, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(audit.slice(-2).map((r) => [r.replica, r.operation]), [['replica-1', 'create'], ['replica-1', 'delete']]);
  });

  it('two admins writing through different replicas never lose an update: one gets 409', async () => {
    const etag = (await api(0, 'GET', 'tokens')).body.data.etag;
    const [a, b] = await Promise.all([api(0, 'POST', 'tokens', { users: ['dave'] }, etag), api(1, 'POST', 'tokens', { users: ['erin'] }, etag)]);
    assert.deepEqual([a.status, b.status].sort(), [200, 409], JSON.stringify([a.body, b.body]));
    const loser = a.status === 409 ? { i: 0, users: ['dave'], r: a } : { i: 1, users: ['erin'], r: b };
    const retried = await api(loser.i, 'POST', 'tokens', { users: loser.users }, loser.r.body.data.etag);
    assert.equal(retried.status, 200);
    const users = (await api(2, 'GET', 'tokens')).body.data.tokens.map((t: any) => t.users.join(','));
    assert.ok(users.includes('dave') && users.includes('erin'), `both writes kept: ${users}`);
  });

  it('a logout on one replica ends the session on the others within 2 s', async () => {
    const one = new LinkisHttp(gws[0]!.url);
    await one.ok('POST', 'user/login', undefined, { userName: 'alice', password: TOKEN });
    const others = gws.slice(1).map((g) => {
      const c = new LinkisHttp(g.url);
      one.jar.copyTo(c.jar);
      return c;
    });
    for (const c of others) assert.equal((await c.send('GET', 'jobhistory/list')).env.status, 0);
    await one.ok('POST', 'user/logout');
    for (const c of others) assert.ok((await within(2000, async () => (await c.send('GET', 'jobhistory/list')).http === 401)) >= 0, 'the session outlived the logout by 2 s');
  });

  it("draining through one replica's API applies on all", async () => {
    const name = linkis.entrances[0]!.instance;
    const r = await api(1, 'PUT', `entrances/${encodeURIComponent(name)}/draining`, { draining: true });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(r.body.message, /every other replica within 2 s/);
    for (let i = 0; i < 3; i++) {
      const ms = await within(2000, async () => (await api(i, 'GET', 'entrances')).body.data.entrances.find((e: any) => e.name === name).draining === true);
      assert.ok(ms >= 0, `replica ${i + 1} did not drain within 2 s`);
    }
    assert.equal((await api(2, 'PUT', `entrances/${encodeURIComponent(name)}/draining`, { draining: false })).status, 200);
    for (let i = 0; i < 3; i++) assert.ok((await within(2000, async () => (await api(i, 'GET', 'entrances')).body.data.entrances.find((e: any) => e.name === name).draining === false)) >= 0);
  });

  it('Redis killed under traffic: no replica fails open, /ready says so; restarted: all catch up', async () => {
    await redis.stop();
    for (const gw of gws) {
      const ms = await within(4000, async () => (await ready(gw)).data.sharedStore === false);
      assert.ok(ms >= 0, 'a replica did not notice Redis was gone');
      const r = await ready(gw);
      assert.equal(r.status, 0, 'fail-static: still serving the last rules');
      assert.equal(await allowed(gw, 'bob', REVOKED), false, 'the revoked token stays refused');
      assert.equal(await allowed(gw, 'alice', TOKEN), true, 'the rules in force stay in force');
    }
    assert.ok(gws[0]!.lines().some((l) => l.event === 'shared.store.unreachable'), 'said so in the log');
    // Writes are refused, not queued: nothing changes behind an admin's back.
    const refused = await api(0, 'GET', 'tokens');
    assert.equal(refused.status, 503, JSON.stringify(refused.body));

    redis = await startRedis(redisPort, redisArgs);
    for (const gw of gws) assert.ok((await within(5000, async () => (await ready(gw)).data.sharedStore === true)) >= 0, 'a replica did not catch up with Redis');
    const { body } = await api(2, 'GET', 'tokens');
    const made = await api(2, 'POST', 'tokens', { users: ['frank'] }, body.data.etag);
    assert.equal(made.status, 200, JSON.stringify(made.body));
    for (const gw of gws) assert.ok((await within(2000, () => allowed(gw, 'frank', made.body.data.token))) >= 0, 'an edit after the restart did not reach every replica');
    assert.equal(await allowed(gws[1]!, 'bob', REVOKED), false);
  });
});
