/**
 * /metrics counts a known sequence of requests exactly, parses as Prometheus text, and /ready flips
 * when the last healthy Entrance goes away.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHealthChecker } from '../../src/control-plane/health-check';
import type { EntranceSimulator } from '../../src/simulator/entrance';
import { ENTRANCE, OTHER_TOKEN, asUser, call, startGateway, startSimulators, submit, type TestGateway } from '../support/harness';

type Sample = { name: string; labels: Record<string, string>; value: number };

/** A strict reader of the Prometheus text format: any line it cannot read fails the test. */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  const typed = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        assert.match(meta[3], /^(counter|gauge|histogram|summary|untyped)$/);
        typed.add(meta[2]);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) {
      const eq = l.indexOf('=');
      labels[l.slice(0, eq)] = JSON.parse(l.slice(eq + 1));
    }
    const base = m[1].replace(/_(bucket|sum|count)$/, '');
    assert.ok(typed.has(m[1]) || typed.has(base), `sample ${m[1]} has no TYPE line`);
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

describe('metrics', () => {
  let sims: EntranceSimulator[];
  let gw: TestGateway;
  before(async () => {
    sims = await startSimulators(2, { lookup: 'execId' });
    gw = await startGateway(sims);
  });
  after(async () => {
    await gw.close();
    await Promise.all(sims.map((s) => s.close()));
  });

  it('counts a known sequence of requests exactly', async () => {
    const a = await submit(gw);
    const b = await submit(gw);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    const id = encodeURIComponent(a.body.data.execID);
    for (let i = 0; i < 3; i++) assert.equal((await call(`${gw.url}${ENTRANCE}/${id}/status`, { headers: asUser() })).status, 200);
    assert.equal((await call(`${gw.url}${ENTRANCE}/${id}/log?fromLine=0&size=5`, { headers: asUser() })).status, 200);
    assert.equal((await call(`${gw.url}${ENTRANCE}/${id}/status`)).status, 401);
    assert.equal((await call(`${gw.url}${ENTRANCE}/${id}/status`, { headers: asUser('alice', 'no-such-token-123') })).status, 401);
    assert.equal((await call(`${gw.url}${ENTRANCE}/${id}/status`, { headers: asUser('mallory') })).status, 403);
    assert.equal((await call(`${gw.url}${ENTRANCE}/not-an-id/status`, { headers: asUser('carol', OTHER_TOKEN) })).status, 400);

    const samples = parsePrometheus(await gw.metrics.render());
    const total = 'linkis_gateway_requests_total';
    const owner = sims.find((s) => s.jobs.has(a.body.data.execID))!.instance;
    assert.equal(value(samples, total, { route: 'submit', code: '200' }), 2);
    assert.equal(value(samples, total, { route: 'status', code: '200', instance: owner }), 3);
    assert.equal(value(samples, total, { route: 'log', code: '200', instance: owner }), 1);
    // Refused requests keep their route kind but reached no instance.
    assert.equal(value(samples, total, { route: 'status', code: '401', instance: 'none' }), 2);
    assert.equal(value(samples, total, { route: 'status', code: '403', instance: 'none' }), 1);
    assert.equal(value(samples, total, { route: 'other', code: '400', instance: 'none' }), 1);
    assert.equal(value(samples, total, {}), 10);
    assert.equal(value(samples, 'linkis_gateway_auth_total', { outcome: 'allowed' }), 7);
    assert.equal(value(samples, 'linkis_gateway_auth_total', { outcome: 'missing' }), 1);
    assert.equal(value(samples, 'linkis_gateway_auth_total', { outcome: 'unknown-token' }), 1);
    assert.equal(value(samples, 'linkis_gateway_auth_total', { outcome: 'user-not-allowed' }), 1);
    assert.equal(value(samples, 'linkis_gateway_request_duration_seconds_count', {}), 10);
    assert.equal(value(samples, 'linkis_gateway_request_duration_seconds_count', { route: 'status' }), 6);
    for (const s of sims) assert.equal(value(samples, 'linkis_gateway_upstream_healthy', { instance: s.instance }), 1);
    assert.equal(value(samples, 'linkis_gateway_upstream_in_flight', {}), 0);
    // Bounded cardinality: no label value is a user name or an execID.
    for (const s of samples) for (const v of Object.values(s.labels)) assert.ok(!/alice|mallory|carol|exec_id/.test(v), `unbounded label value ${v}`);
  });

  it('counts allowlist reloads and tokens loaded', async () => {
    gw.metrics.allowlistReload(true, 5);
    gw.metrics.allowlistReload(false, 5);
    const samples = parsePrometheus(await gw.metrics.render());
    assert.equal(value(samples, 'linkis_gateway_allowlist_reloads_total', { result: 'ok' }), 1);
    assert.equal(value(samples, 'linkis_gateway_allowlist_reloads_total', { result: 'failed' }), 1);
    assert.equal(value(samples, 'linkis_gateway_allowlist_tokens', {}), 5);
  });
});

describe('/ready', () => {
  it('flips when the last healthy Entrance goes away, and back', async () => {
    const [sim] = await startSimulators(1);
    const gw = await startGateway([sim]);
    const checker = createHealthChecker(gw.registry, { mode: 'tcp', path: '/', intervalMs: 3_600_000, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 1 });
    try {
      const ready = await call(`${gw.url}/ready`);
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body.data, { config: true, allowlist: true, entrance: true });
      assert.equal((await call(`${gw.url}/health`)).status, 200);
      const port = sim.port;
      await sim.close();
      await checker.checkAll();
      const notReady = await call(`${gw.url}/ready`);
      assert.equal(notReady.status, 503);
      assert.equal(notReady.body.status, 1);
      assert.equal(notReady.body.data.entrance, false);
      assert.equal((await call(`${gw.url}/health`)).status, 200, 'the process is still alive');
      // The Entrance comes back on the same address.
      const [again] = await startSimulators(1, { port, instance: sim.instance });
      await checker.checkAll();
      assert.equal((await call(`${gw.url}/ready`)).status, 200);
      await again.close();
    } finally {
      checker.close();
      await gw.close();
    }
  });
});
