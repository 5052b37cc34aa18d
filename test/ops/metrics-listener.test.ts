/**
 * gateway.metrics.port: /metrics (with /health and /ready) on a listener of its own, with no
 * admin.properties at all: Prometheus must not depend on someone having configured admin credentials.
 * With gateway.workers=2 a scrape still shows the whole gateway.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { validateConfig } from '../../src/control-plane/config';
import type { EntranceSimulator } from '../../src/simulator/entrance';
import { ENTRANCE, asUser, call, startSimulators } from '../support/harness';
import { startMain, writeConf, type MainProcess } from '../support/process-harness';

describe('gateway.metrics.port with no admin.properties (gateway.workers=2)', () => {
  let sims: EntranceSimulator[];
  let gw: MainProcess;
  let conf: string;
  before(async () => {
    sims = await startSimulators(2);
    conf = writeConf({ 'gateway.workers': '2', 'gateway.admin.port': '0', 'gateway.metrics.port': '0', 'gateway.entrance.instances': sims.map((s) => s.instance).join(',') });
    gw = await startMain(conf);
    for (let i = 0; i < 100 && gw.lines().filter((l) => l.event === 'metrics.listening').length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  });
  after(async () => {
    await gw?.stop();
    await Promise.all(sims.map((s) => s.close()));
  });

  it('serves /metrics, /health and /ready without credentials, and nothing else', async () => {
    assert.equal(existsSync(join(conf, 'admin.properties')), false);
    assert.ok(gw.lines().some((l) => l.event === 'admin.off'), 'the admin listener is off');
    const listening = gw.lines().filter((l) => l.event === 'metrics.listening');
    assert.equal(listening.length, 2, 'each worker serves the metrics port');
    const base = `http://127.0.0.1:${listening[0]!.port}`;
    for (let i = 0; i < 2; i++) {
      const r = await call(`${gw.url}${ENTRANCE}/operation/metrics/runningtask?instance=${sims[0]!.instance}`, { headers: { ...asUser(), connection: 'close' } });
      assert.equal(r.status, 200, r.text);
    }
    const m = await fetch(`${base}/metrics`, { headers: { connection: 'close' } });
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await m.text();
    const total = text.split('\n').filter((l) => l.startsWith('linkis_gateway_requests_total{')).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    assert.equal(total, 2, 'both workers\' requests, whichever worker answered the scrape');
    assert.match(text, /^linkis_gateway_allowlist_tokens 2$/m);
    assert.equal((await call(`${base}/health`)).status, 200);
    assert.equal((await call(`${base}/ready`)).status, 200);
    // Only the operator endpoints: no admin page or API on this port.
    const page = await call(`${base}/admin/`);
    assert.equal(page.status, 404);
    assert.equal(page.body.data.errorCode, 'NOT_FOUND');
    assert.equal((await call(`${base}/admin/api/entrances`)).status, 404);
  });
});

test('gateway.metrics.host/port: off by default, any host, a port of its own', () => {
  const config = (raw: Record<string, string>) => validateConfig(raw, '/c', '/c/gateway.properties');
  assert.deepEqual(config({}).metrics, { host: '127.0.0.1', port: null });
  assert.deepEqual(config({ 'gateway.metrics.port': '9003', 'gateway.metrics.host': '0.0.0.0' }).metrics, { host: '0.0.0.0', port: 9003 });
  assert.deepEqual(config({ 'gateway.metrics.port': '0', 'gateway.admin.port': '0', 'gateway.server.port': '0' }).metrics, { host: '127.0.0.1', port: 0 });
  assert.throws(() => config({ 'gateway.metrics.port': 'abc' }), /gateway\.metrics\.port: "abc" is not a whole number/);
  assert.throws(() => config({ 'gateway.metrics.port': '9001' }), /gateway\.metrics\.port: 9001 is also gateway\.server\.port/);
  assert.throws(() => config({ 'gateway.metrics.port': '9002' }), /gateway\.metrics\.port: 9002 is also gateway\.admin\.port/);
  assert.throws(() => config({ 'gateway.metrics.port': '9003', 'gateway.metrics.host': ' ' }), /gateway\.metrics\.host: must not be empty/);
});
