/**
 * The admin flow of the shipped compose, end to end without Docker: /app/conf is laid out as
 * docker-compose.yml mounts it (./conf owned by the host user, the files mounted over it, read-only where
 * the compose file says so) and the real gateway and CLI run as the compose `user`. An admin creates a token
 * through the API, the audit records it, the CLI run as `docker compose exec` would run it lists it.
 * Needs root to run processes as another user (CI runs as root); skipped otherwise.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, checkCompose, composeText, mountsOf } from './compose-file';

const MAIN = join(ROOT, 'src', 'main.ts');
const CLI = join(ROOT, 'src', 'cli', 'main.ts');
const ADMIN_TOKEN = 'compose-admin-token-0123456789abcdef';
// Loopback and free ports instead of the container network, and no Entrance to reach: what is under test
// is the conf directory and the user, not the network.
const LOCAL = ['gateway.server.host=127.0.0.1', 'gateway.server.port=0', 'gateway.admin.host=127.0.0.1', 'gateway.admin.port=0',
  'gateway.entrance.instances=linkis:9104=http://127.0.0.1:1', 'gateway.publicservice.instances=linkis:9105=http://127.0.0.1:1', 'gateway.health.check.mode=off', 'gateway.log.format=json'];

/** /app/conf as the container sees it, owned as the host's ./conf would be (by the compose user). */
function containerConf(gateway: any, uid: number, gid: number): string {
  const parent = mkdtempSync(join(tmpdir(), 'lgw-compose-'));
  chmodSync(parent, 0o755); // mkdtemp's 0700 would hide everything below it from the compose user
  const dir = join(parent, 'conf');
  const mounts = mountsOf(gateway);
  const conf = mounts.find((m) => m.target === '/app/conf')!;
  cpSync(join(ROOT, conf.source), dir, { recursive: true });
  rmSync(join(dir, 'admin.properties'), { force: true });
  writeFileSync(join(dir, 'admin.properties'), `anna=${ADMIN_TOKEN}\n`, { mode: 0o600 });
  const overlays = mounts.filter((m) => m.target.startsWith('/app/conf/'));
  for (const m of overlays) writeFileSync(join(dir, m.target.slice('/app/conf/'.length)), readFileSync(join(ROOT, m.source)));
  writeFileSync(join(dir, 'gateway.properties'), `${readFileSync(join(dir, 'gateway.properties'), 'utf8')}\n${LOCAL.join('\n')}\n`);
  chownSync(dir, uid, gid);
  for (const f of readdirSync(dir)) chownSync(join(dir, f), uid, gid);
  for (const m of overlays.filter((m) => m.readOnly)) chmodSync(join(dir, m.target.slice('/app/conf/'.length)), 0o444);
  if (conf.readOnly) chmodSync(dir, 0o555);
  return dir;
}

describe('the shipped compose: the admin flow', () => {
  const asRoot = process.getuid?.() === 0;

  it('creates a token through the admin API, audits it, and the CLI sees it, as the compose user', { skip: !asRoot && 'needs root to run as the compose user' }, async (t) => {
    const { doc } = checkCompose(composeText());
    const [uid, gid] = String(doc.services.gateway.user ?? '0:0').split(':').map(Number) as [number, number];
    assert.notEqual(uid, 0, 'the gateway does not run as root');
    const dir = containerConf(doc.services.gateway, uid, gid);
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--conf', dir], { uid, gid, cwd: ROOT, env: { ...process.env, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const admin = await new Promise<string>((ok, fail) => {
      const done = (e: Error | null, url = '') => (clearInterval(poll), clearTimeout(timer), e ? fail(e) : ok(url));
      const timer = setTimeout(() => done(new Error(`no admin listener within 20 s: ${out}${err}`)), 20_000);
      child.once('exit', (code) => done(new Error(`the gateway exited with ${code}: ${err}${out.slice(-2000)}`)));
      const poll = setInterval(() => {
        const line = out.split('\n').find((l) => l.includes('"admin.listening"'));
        if (line) done(null, `http://127.0.0.1:${JSON.parse(line).port}`);
      }, 25);
    });
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const list = await fetch(`${admin}/admin/api/tokens`, { headers });
    assert.equal(list.status, 200);
    const created = await fetch(`${admin}/admin/api/tokens`, { method: 'POST', headers: { ...headers, 'if-match': list.headers.get('etag')! }, body: JSON.stringify({ users: ['alice'] }) });
    const body = (await created.json()) as any;
    assert.equal(created.status, 200, JSON.stringify(body));
    const fingerprint: string = body.data.fingerprint;
    // Written where compose mounts ./conf, still owned by the host user.
    const proxy = join(dir, 'proxy.properties');
    assert.ok(readFileSync(proxy, 'utf8').includes(`${body.data.token}=alice`));
    assert.equal(statSync(proxy).uid, uid);
    const audit = readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(audit.some((a) => a.operation === 'create' && a.admin === 'anna' && a.token === fingerprint), JSON.stringify(audit));
    // `docker compose exec gateway node dist/src/cli/main.js tokens list --conf /app/conf --as anna`: same user.
    const cli = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'tokens', 'list', '--conf', dir, '--as', 'anna', '--json'], { uid, gid, cwd: ROOT, env: { ...process.env, HOME: dir }, encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.ok(cli.stdout.includes(fingerprint), cli.stdout);
  });
});
