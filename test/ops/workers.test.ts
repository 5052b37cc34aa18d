/**
 * gateway.workers: several processes share the public port; each serves proxied traffic and all of them
 * drain and exit on SIGTERM.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EntranceSimulator } from '../../src/simulator/entrance';
import { ENTRANCE, asUser, call, startSimulators } from '../support/harness';
import { startMain, writeConf, type MainProcess } from '../support/process-harness';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

describe('gateway.workers=2', () => {
  let sims: EntranceSimulator[];
  let gw: MainProcess;
  before(async () => {
    sims = await startSimulators(2);
    const conf = writeConf({ 'gateway.workers': '2', 'gateway.admin.port': '0', 'gateway.entrance.instances': sims.map((s) => s.instance).join(',') });
    writeFileSync(join(conf, 'admin.properties'), `ops=${ADMIN_TOKEN}\n`);
    gw = await startMain(conf);
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

  it('/metrics on the admin listener counts every worker’s requests, whichever worker answers', async () => {
    const adminPort = gw.lines().find((l) => l.event === 'admin.listening')!.port;
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`http://127.0.0.1:${adminPort}/metrics`, { headers: { connection: 'close' } });
      assert.equal(r.status, 200);
      const text = await r.text();
      const total = text
        .split('\n')
        .filter((l) => l.startsWith('linkis_gateway_requests_total{'))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
      assert.equal(total, 12, `6 submissions and 6 status polls in total:\n${text.slice(0, 2000)}`);
    }
  });

  it('exits 0 on SIGTERM, after every worker stopped', async () => {
    assert.equal(await gw.stop('SIGTERM'), 0);
    assert.equal(gw.lines().filter((l) => l.event === 'shutdown.done').length, 2);
  });
});
