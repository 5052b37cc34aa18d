/**
 * Draining with gateway.workers=2, against the real process: one admin call (API or CLI) drains an
 * Entrance for every worker, a worker that replaces a dead one starts drained too, each change is audited
 * once, and the answer says what is true. The Entrance simulator's own request list is the judge.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../src/cli/main';
import type { EntranceSimulator } from '../../src/simulator/entrance';
import { ENTRANCE, asUser, call, startSimulators } from '../support/harness';
import { startMain, writeConf, type MainProcess } from '../support/process-harness';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const SUBMISSION = JSON.stringify({ executionContent: { code: 'select 1', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' } });

describe('draining with gateway.workers=2', () => {
  let sims: EntranceSimulator[];
  let gw: MainProcess;
  let conf: string;
  let admin: string;
  const submissionsTo = (sim: EntranceSimulator) => sim.received.filter((r) => r.method === 'POST' && r.path.endsWith('/submit')).length;
  const audit = () => readFileSync(join(conf, 'audit.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const listening = () => gw.lines().filter((l) => l.message === 'listening');
  /** One connection per request, so the cluster spreads them over every worker. */
  const submitMany = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const r = await call(`${gw.url}${ENTRANCE}/submit`, { method: 'POST', headers: { ...asUser(), 'content-type': 'application/json', connection: 'close' }, body: SUBMISSION });
      assert.equal(r.status, 200, r.text);
    }
    await new Promise((r) => setTimeout(r, 150)); // access lines are written in 50 ms batches
  };
  /** Workers whose access lines show a submission sent to `instance` since line `from`. */
  const workersSubmittingTo = (instance: string, from: number) =>
    new Set(gw.lines().slice(from).filter((l) => l.message === 'access' && l.route === 'submit' && l.instance === instance).map((l) => l.worker));
  const drainCall = (name: string, draining: boolean) =>
    call(`${admin}/admin/api/entrances/${encodeURIComponent(name)}/draining`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ draining }),
    });
  const cli = async (args: string[]) => {
    let out = '';
    let err = '';
    const code = await runCli(args, { LINKIS_GATEWAY_ADMIN_URL: admin, LINKIS_GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN }, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
    return { code, out, err };
  };

  before(async () => {
    sims = await startSimulators(2);
    conf = writeConf({ 'gateway.workers': '2', 'gateway.admin.port': '0', 'gateway.entrance.instances': sims.map((s) => s.instance).join(','), 'gateway.health.check.mode': 'off' });
    writeFileSync(join(conf, 'admin.properties'), `ops=${ADMIN_TOKEN}\n`);
    gw = await startMain(conf);
    for (let i = 0; i < 100 && listening().length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    admin = `http://127.0.0.1:${gw.lines().find((l) => l.event === 'admin.listening')!.port}`;
  });
  after(async () => {
    await gw?.stop();
    await Promise.all(sims.map((s) => s.close()));
  });

  it('one API call drains the Entrance for every worker, audited once, and says so', async () => {
    const [a, b] = sims as [EntranceSimulator, EntranceSimulator];
    const r = await drainCall(a.instance, true);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.draining, true);
    assert.equal(r.body.data.workers, 2);
    assert.equal(r.body.data.applied, 2);
    assert.match(r.body.message, /every worker \(2\) of this gateway/);
    assert.match(r.body.message, /other gateway replicas/i, 'says what it does not cover');

    const fromA = submissionsTo(a);
    const fromB = submissionsTo(b);
    const mark = gw.lines().length;
    await submitMany(12);
    assert.equal(submissionsTo(a), fromA, 'no worker sent a submission to the draining Entrance');
    assert.equal(submissionsTo(b), fromB + 12);
    assert.deepEqual([...workersSubmittingTo(b.instance, mark)].sort(), [1, 2], 'both workers served submissions');
    // Every worker reports the same state.
    for (let i = 0; i < 4; i++) {
      const l = await call(`${admin}/admin/api/entrances`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, connection: 'close' } });
      assert.equal(l.body.data.entrances.find((e: any) => e.name === a.instance).draining, true);
    }
    const records = audit().filter((x) => x.operation === 'drain');
    assert.equal(records.length, 1, JSON.stringify(audit()));
    assert.deepEqual({ ...records[0], time: undefined }, { time: undefined, replica: hostname(), admin: 'ops', via: 'api', operation: 'drain', instance: a.instance, workers: 2 });
    // Draining is an admin's decision, not trouble: logged at info, not as a warning.
    const stateLines = gw.lines().filter((l) => l.event === 'entrance.state' && l.why === 'draining');
    assert.ok(stateLines.length > 0 && stateLines.every((l) => l.level === 'info'), JSON.stringify(stateLines));

    // Asking again changes nothing and audits nothing.
    const again = await drainCall(a.instance, true);
    assert.equal(again.body.data.changed, false);
    assert.equal(audit().filter((x) => x.operation === 'drain').length, 1);
  });

  it('a worker that replaces a dead one starts with the gateway-wide state', async () => {
    const [a, b] = sims as [EntranceSimulator, EntranceSimulator];
    // The workers are the primary's children running main.ts (tsx may have an esbuild helper beside them).
    const children = execFileSync('ps', ['--ppid', String(gw.child.pid), '-o', 'pid=,args='], { encoding: 'utf8' }).trim().split('\n');
    const pids = children.filter((l) => l.includes('main.ts')).map((l) => Number(l.trim().split(/\s+/)[0]));
    assert.equal(pids.length, 2, children.join('\n'));
    process.kill(pids[0]!, 'SIGKILL');
    for (let i = 0; i < 200 && listening().length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(listening().length, 3, 'a replacement worker is listening');
    const fromA = submissionsTo(a);
    const mark = gw.lines().length;
    await submitMany(12);
    assert.equal(submissionsTo(a), fromA, 'the new worker sends nothing to the draining Entrance either');
    assert.ok(workersSubmittingTo(b.instance, mark).has(3), 'the new worker (3) served some of them');
  });

  it('the CLI lists, undrains and drains; every worker follows', async () => {
    const [a] = sims as [EntranceSimulator];
    const list = await cli(['entrances', 'list']);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, new RegExp(`${a.instance.replace(/\./g, '\\.')}\\s+\\S+\\s+draining`));

    const undrain = await cli(['entrances', 'undrain', a.instance]);
    assert.equal(undrain.code, 0, undrain.err);
    assert.match(undrain.out, /every worker \(2\) of this gateway/);
    const mark = gw.lines().length;
    const fromA = submissionsTo(a);
    await submitMany(12);
    assert.ok(submissionsTo(a) > fromA, 'takes new jobs again');
    assert.equal(workersSubmittingTo(a.instance, mark).size, 2, 'from both workers');
    const undrained = audit().filter((x) => x.operation === 'undrain');
    assert.equal(undrained.length, 1);
    assert.equal(undrained[0].instance, a.instance);

    const json = await cli(['entrances', 'drain', a.instance, '--json']);
    assert.equal(json.code, 0, json.err);
    assert.equal(JSON.parse(json.out).draining, true);
    const unknown = await cli(['entrances', 'drain', '10.9.9.9:9104']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /INSTANCE_UNKNOWN/);
  });
});
