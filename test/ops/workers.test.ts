/**
 * gateway.workers: several processes share the public port; each serves proxied traffic and all of them
 * drain and exit on SIGTERM. /metrics adds up what adds up (counters) and shows gauges as what they mean
 * (an Entrance is up or not, the allowlist has N tokens), and every log line names its worker.
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

  it('/metrics gauges are not multiplied by the number of workers', async () => {
    const adminPort = gw.lines().find((l) => l.event === 'admin.listening')!.port;
    const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`, { headers: { connection: 'close' } })).text();
    const sample = (name: string) => text.split('\n').filter((l) => l === name || l.startsWith(`${name}{`) || l.startsWith(`${name} `));
    // Each Entrance is up: 1, not one per worker; the allowlist holds 2 tokens, not 2 per worker.
    assert.deepEqual(sample('linkis_gateway_upstream_healthy').map((l) => l.split(' ').pop()), ['1', '1'], text.slice(0, 3000));
    assert.deepEqual(sample('linkis_gateway_allowlist_tokens'), ['linkis_gateway_allowlist_tokens 2']);
    // Requests in flight do add up across workers (none now).
    for (const l of sample('linkis_gateway_upstream_in_flight')) assert.equal(l.split(' ').pop(), '0');
  });

  it('every log line names its worker: 1, 2, ... in the workers, 0 in the supervising primary', async () => {
    const lines = gw.lines();
    assert.deepEqual(lines.filter((l) => l.message === 'listening').map((l) => l.worker).sort(), [1, 2]);
    assert.equal(lines.find((l) => l.event === 'workers')?.worker, 0, 'the primary\'s "started workers" line');
    const access = lines.filter((l) => l.message === 'access');
    assert.ok(access.length >= 12, `access lines: ${access.length}`);
    for (const l of access) assert.ok(l.worker === 1 || l.worker === 2, `access line without its worker: ${JSON.stringify(l)}`);
    for (const l of lines) assert.ok(Number.isInteger(l.worker), `log line without a worker id: ${JSON.stringify(l)}`);
  });

  it('exits 0 on SIGTERM, after every worker stopped', async () => {
    assert.equal(await gw.stop('SIGTERM'), 0);
    assert.equal(gw.lines().filter((l) => l.event === 'shutdown.done').length, 2);
  });
});
