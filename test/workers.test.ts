/**
 * gateway.workers: several processes share the public port; each serves proxied traffic and all of them
 * drain and exit on SIGTERM.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntranceSimulator } from '../src/simulator/entrance';
import { ENTRANCE, asUser, call, startSimulators } from './harness';
import { startMain, writeConf, type MainProcess } from './process-harness';

describe('gateway.workers=2', () => {
  let sims: EntranceSimulator[];
  let gw: MainProcess;
  before(async () => {
    sims = await startSimulators(2);
    gw = await startMain(writeConf({ 'gateway.workers': '2', 'gateway.entrance.instances': sims.map((s) => s.instance).join(',') }));
  });
  after(async () => {
    await gw.stop();
    await Promise.all(sims.map((s) => s.close()));
  });

  it('starts two workers on one port and serves jobs end to end', async () => {
    for (let i = 0; i < 50 && gw.lines().filter((l) => l.message === 'listening').length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    const listening = gw.lines().filter((l) => l.message === 'listening');
    assert.equal(listening.length, 2, 'two workers listening');
    assert.equal(new Set(listening.map((l) => l.port)).size, 1, 'on the same port');
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await call(`${gw.url}${ENTRANCE}/submit`, {
        method: 'POST',
        headers: { ...asUser(), 'content-type': 'application/json' },
        body: JSON.stringify({ executionContent: { code: 'select 1', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' } }),
      });
      assert.equal(r.status, 200, r.text);
      ids.push(r.body.data.execID);
    }
    for (const id of ids) {
      const s = await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(id)}/status`, { headers: asUser() });
      assert.equal(s.status, 200);
      assert.equal(s.body.data.execID, id);
    }
    assert.equal(sims.reduce((n, s) => n + s.jobs.size, 0), 6, 'each submission ran exactly once');
  });

  it('exits 0 on SIGTERM, after every worker stopped', async () => {
    assert.equal(await gw.stop('SIGTERM'), 0);
    assert.equal(gw.lines().filter((l) => l.event === 'shutdown.done').length, 2);
  });
});
