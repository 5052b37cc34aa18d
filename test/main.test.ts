/**
 * The gateway as operators run it: the real main process, its config loading, its file watcher and
 * its signal handling. Simulated Entrances run in the test process; the gateway in a child process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ENTRANCE, OTHER_TOKEN, TOKEN, asUser, call, isEnvelope, startSimulators } from './support/harness';
import type { EntranceSimulator } from '../src/simulator/entrance';
import { startMain, type MainProcess } from './support/process-harness';

const MAIN = join(__dirname, '..', 'src', 'main.ts');

const stop = (r: MainProcess): Promise<number | null> => r.stop('SIGTERM');

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((ok) => child.once('exit', (code) => ok({ code, stderr })));
}

/** Polls until `check` passes or 2 s (the hot-reload promise) have gone by. */
async function within2s(check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < 2000) {
    if (await check()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met within 2 s');
}

describe('main process', () => {
  let sims: EntranceSimulator[];
  let confDir: string;
  let gw: MainProcess;
  const status = async (token: string, user = 'alice') => (await call(`${gw.url}${ENTRANCE}/operation/metrics/runningtask?instance=${sims[0].instance}`, { headers: asUser(user, token) })).status;

  before(async () => {
    sims = await startSimulators(2);
    confDir = mkdtempSync(join(tmpdir(), 'lgw-main-'));
    writeFileSync(
      join(confDir, 'gateway.properties'),
      `gateway.server.host=127.0.0.1\ngateway.server.port=0\ngateway.log.format=json\ngateway.entrance.instances=${sims.map((s) => s.instance).join(',')}\n`,
    );
    writeFileSync(join(confDir, 'proxy.properties'), `${TOKEN}=alice\n`);
    gw = await startMain(confDir);
  });
  after(async () => {
    await stop(gw);
    await Promise.all(sims.map((s) => s.close()));
  });

  it('serves a submission end to end', async () => {
    const r = await call(`${gw.url}${ENTRANCE}/submit`, {
      method: 'POST',
      headers: { ...asUser(), 'content-type': 'application/json' },
      body: JSON.stringify({ executionContent: { code: 'select 1', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' } }),
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.status, 0);
    assert.match(r.body.data.execID, /^exec_id/);
  });

  it('applies an in-place edit of proxy.properties within 2 s', async () => {
    assert.equal(await status(OTHER_TOKEN), 401);
    writeFileSync(join(confDir, 'proxy.properties'), `${TOKEN}=alice\n${OTHER_TOKEN}=*\n`);
    const took = await within2s(async () => (await status(OTHER_TOKEN)) === 200);
    assert.ok(took < 2000);
  });

  it('applies an atomic rename, and a removed token stops working at once', async () => {
    const tmp = join(confDir, '.proxy.properties.tmp');
    writeFileSync(tmp, `${OTHER_TOKEN}=*\n`);
    renameSync(tmp, join(confDir, 'proxy.properties'));
    await within2s(async () => (await status(TOKEN)) === 401);
    assert.equal(await status(OTHER_TOKEN), 200);
  });

  it('keeps the last good rules when the file is broken, and logs why', async () => {
    writeFileSync(join(confDir, 'proxy.properties'), `${OTHER_TOKEN}=*\n${TOKEN}=al ice,\n`);
    await within2s(async () => gw.lines().some((l) => l.event === 'allowlist.reload' && l.ok === false));
    assert.equal(await status(OTHER_TOKEN), 200, 'old rules still in force');
    assert.equal(await status(TOKEN), 401, 'the broken file was not applied');
    const failed = gw.lines().find((l) => l.event === 'allowlist.reload' && l.ok === false)!;
    assert.match(JSON.stringify(failed), /line 2|"line":2/);
    assert.ok(!gw.stdout().includes(TOKEN) && !gw.stdout().includes(OTHER_TOKEN), 'no token in the logs');
  });

  it('exits 0 on SIGTERM', async () => {
    writeFileSync(join(confDir, 'proxy.properties'), `${TOKEN}=alice\n`);
    const other = await startMain(confDir);
    assert.equal(await stop(other), 0);
  });
});

describe('start-up validation', () => {
  it('refuses a bad value, naming the key and the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgw-bad-'));
    writeFileSync(join(dir, 'gateway.properties'), 'gateway.server.port=99999\n');
    writeFileSync(join(dir, 'proxy.properties'), '');
    const r = await run(['--conf', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /gateway\.server\.port/);
    assert.ok(r.stderr.includes(join(dir, 'gateway.properties')));
  });

  it('refuses a broken proxy.properties at start, with its line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgw-bad-'));
    writeFileSync(join(dir, 'gateway.properties'), 'gateway.entrance.instances=127.0.0.1:1\ngateway.server.port=0\n');
    writeFileSync(join(dir, 'proxy.properties'), '# ok\nshort=al ice\n');
    const r = await run(['--conf', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /proxy\.properties:2/);
  });

  it('starts with a weak token and warns about it; strict policy refuses the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgw-weak-'));
    writeFileSync(join(dir, 'gateway.properties'), 'gateway.entrance.instances=127.0.0.1:1\ngateway.server.port=0\ngateway.server.host=127.0.0.1\ngateway.log.format=json\n');
    writeFileSync(join(dir, 'proxy.properties'), '# a Linkis-era token\nabc=alice\n');
    const gw = await startMain(dir);
    try {
      const reload = gw.lines().find((l) => l.event === 'allowlist.reload' || l.message?.includes?.('allowlist'));
      assert.ok(reload, 'the start-up reload is logged');
      assert.ok(gw.lines().some((l) => /weak/.test(String(l.message)) && JSON.stringify(l).includes('"line":2')), `the weak token is reported with its line: ${gw.stdout()}`);
      assert.ok(!gw.stdout().includes('abc=') && !/"abc"/.test(gw.stdout()), 'the token itself is never logged');
    } finally {
      await gw.stop();
    }
    writeFileSync(join(dir, 'gateway.properties'), 'gateway.entrance.instances=127.0.0.1:1\ngateway.server.port=0\ngateway.token.policy=strict\n');
    const r = await run(['--conf', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /proxy\.properties:2/);
  });
});

describe('demo mode (the quick start)', () => {
  it('starts simulated Entrances and prints a curl that submits a job as alice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgw-demo-'));
    writeFileSync(join(dir, 'gateway.properties'), 'gateway.server.host=127.0.0.1\ngateway.server.port=0\ngateway.log.format=json\n');
    const demo = await startMain(dir);
    try {
      await within2s(async () => demo.stdout().includes('curl '));
      const token = /Validation-Code: ([^']+)'/.exec(demo.stdout())![1];
      const body = /-d '([^']+)'/.exec(demo.stdout())![1];
      const url = /\s(http:\/\/\S+\/submit)/.exec(demo.stdout())![1];
      const r = await call(url, { method: 'POST', headers: { ...asUser('alice', token), 'content-type': 'application/json' }, body });
      assert.equal(r.status, 200, r.text);
      assert.ok(isEnvelope(r.body));
      const id = encodeURIComponent(r.body.data.execID);
      const s = await call(`${demo.url}${ENTRANCE}/${id}/status`, { headers: asUser('alice', token) });
      assert.equal(s.body.status, 0);
      assert.ok(['Inited', 'Running', 'Succeed'].includes(s.body.data.status));
      // The printed token-auth call reads the job history from the simulated publicservice.
      const history = /(http:\/\/\S+\/jobhistory\/)<taskID>\/get/.exec(demo.stdout())![1];
      assert.match(demo.stdout(), new RegExp(`-H 'Token-User: alice' -H 'Token-Code: ${token}'`));
      const h = await call(`${history}${r.body.data.taskID}/get`, { headers: { 'token-user': 'alice', 'token-code': token } });
      assert.equal(h.body.status, 0, h.text);
      assert.equal(h.body.data.task.umUser, 'alice');
    } finally {
      assert.equal(await stop(demo), 0);
    }
  });
});
