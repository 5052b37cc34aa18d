/**
 * Health of the Entrances, end to end against real servers on 127.0.0.1: the active checker's probes
 * (tcp and http), its thresholds through the registry, what ejection means for submissions and
 * follow-ups, passive ejection and recovery, and draining (configuration and registry). No mocks.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createHealthChecker, probe, type HealthChecker } from '../../src/control-plane/health-check';
import { createEntranceSimulator, type EntranceSimulator } from '../../src/simulator/entrance';
import { createUpstreamRegistry, type Upstream } from '../../src/control-plane/upstreams';
import { ENTRANCE, asUser, call, isEnvelope, jobDirect, startAll, startGateway, startSimulators, submit, type TestGateway } from '../support/harness';
import { freePort, startBlackhole } from '../support/process-harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type T = { after: (fn: () => unknown) => void };

/** An HTTP server answering every request with `state.status` (or never, when `state.hang`). */
async function statusServer(t: T): Promise<{ url: string; state: { status: number; hang: boolean }; paths: string[]; connections: () => number }> {
  const state = { status: 200, hang: false };
  const paths: string[] = [];
  let connections = 0;
  const server: HttpServer = createHttpServer((req, res) => {
    paths.push(req.url ?? '');
    if (state.hang) return;
    res.writeHead(state.status, { 'content-type': 'text/plain' }).end('x');
  });
  server.on('connection', () => connections++);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  t.after(() => new Promise<void>((ok) => server.close(() => ok()).closeAllConnections()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, state, paths, connections: () => connections };
}

function statusUrl(gwUrl: string, execId: string, op = 'status'): string {
  return `${gwUrl}${ENTRANCE}/${encodeURIComponent(execId)}/${op}`;
}

const submissionsTo = (sim: EntranceSimulator) => sim.received.filter((r) => r.path.endsWith('/submit')).length;

function checker(t: T, gw: TestGateway, opts: Partial<Parameters<typeof createHealthChecker>[1]> = {}): HealthChecker {
  // A long interval: the test drives the rounds with checkAll(), so nothing races it.
  const c = createHealthChecker(gw.registry, { mode: 'http', path: '/actuator/health', intervalMs: 3_600_000, timeoutMs: 300, healthyThreshold: 2, unhealthyThreshold: 2, ...opts });
  t.after(() => c.close());
  return c;
}

test('probes: tcp connect, and http (< 500 alive; 500, timeout or refused dead) against real servers', async (t) => {
  const tcp = createTcpServer((s) => s.destroy());
  await new Promise<void>((ok) => tcp.listen(0, '127.0.0.1', ok));
  t.after(() => new Promise<void>((ok) => tcp.close(() => ok())));
  const tcpUrl = `http://127.0.0.1:${(tcp.address() as AddressInfo).port}`;
  const closedUrl = `http://127.0.0.1:${await freePort()}`;

  assert.equal(await probe(tcpUrl, { mode: 'tcp', path: '/', timeoutMs: 500 }), true, 'tcp: a listening socket is alive');
  assert.equal(await probe(closedUrl, { mode: 'tcp', path: '/', timeoutMs: 500 }), false, 'tcp: refused is dead');

  const http = await statusServer(t);
  const opts = { mode: 'http' as const, path: '/actuator/health', timeoutMs: 300 };
  for (const [status, alive] of [[200, true], [204, true], [302, true], [401, true], [404, true], [499, true], [500, false], [502, false], [503, false]] as const) {
    http.state.status = status;
    assert.equal(await probe(http.url, opts), alive, `http ${status}`);
  }
  assert.ok(http.paths.every((p) => p === '/actuator/health'), `the configured path is probed: ${http.paths}`);
  // A fresh connection per probe: a pooled socket would prove nothing about accepting new ones.
  assert.equal(http.connections(), http.paths.length);

  http.state.hang = true;
  let started = performance.now();
  assert.equal(await probe(http.url, opts), false, 'http: no answer within the timeout is dead');
  const hung = performance.now() - started;
  assert.ok(hung >= 250 && hung < 1000, `timed out after ${hung.toFixed(0)} ms`);

  started = performance.now();
  assert.equal(await probe(closedUrl, opts), false, 'http: refused is dead');
  assert.ok(performance.now() - started < 250, 'a refused probe does not wait for the timeout');

  // tcp against an address that neither accepts nor refuses: dead after the timeout.
  const hole = await startBlackhole();
  t.after(() => hole.close());
  started = performance.now();
  assert.equal(await probe(hole.url, { mode: 'tcp', path: '/', timeoutMs: 300 }), false);
  assert.ok(performance.now() - started >= 250);
});

test('thresholds through the registry: 2 failed probes eject, 2 good ones restore; one blip does neither', async (t) => {
  const http = await statusServer(t);
  const other = await statusServer(t);
  const registry = createUpstreamRegistry(
    [
      { name: 'e1:9104', url: http.url },
      { name: 'e2:9104', url: other.url },
    ],
    { failureThreshold: 3, ejectMs: 100 },
  );
  const events: Array<[string, boolean, string]> = [];
  registry.onChange((u: Upstream, why: string) => events.push([u.name, u.healthy, why]));
  const c = createHealthChecker(registry, { mode: 'http', path: '/health', intervalMs: 3_600_000, timeoutMs: 300, healthyThreshold: 2, unhealthyThreshold: 2 });
  t.after(() => c.close());
  const e1 = registry.get('e1:9104')!;

  http.state.status = 500;
  await c.checkAll();
  assert.equal(e1.healthy, true, 'one failed probe does not eject');
  http.state.status = 200;
  await c.checkAll();
  http.state.status = 503;
  await c.checkAll();
  assert.equal(e1.healthy, true, 'a success in between resets the failure streak');
  await c.checkAll();
  assert.equal(e1.healthy, false, 'two consecutive failed probes eject');
  assert.deepEqual(events, [['e1:9104', false, 'active check']]);
  assert.deepEqual(
    [1, 2, 3, 4].map(() => registry.pick()?.name),
    ['e2:9104', 'e2:9104', 'e2:9104', 'e2:9104'],
    'an ejected instance gets no submissions',
  );
  // Neither the passive eject period (100 ms here) nor a request it answered brings it back: only checks do.
  await sleep(150);
  registry.markSuccess('e1:9104');
  assert.equal(e1.healthy, false);
  assert.ok(![1, 2, 3, 4].some(() => registry.pick()?.name === 'e1:9104'), 'still out after the passive eject period');

  http.state.status = 401; // an Entrance answers 401 to a request without a ticket: it runs
  await c.checkAll();
  assert.equal(e1.healthy, false, 'one good probe does not restore');
  http.state.hang = true;
  await c.checkAll();
  http.state.hang = false;
  await c.checkAll();
  assert.equal(e1.healthy, false, 'a timed-out probe in between resets the success streak');
  await c.checkAll();
  assert.equal(e1.healthy, true, 'two consecutive good probes restore');
  assert.deepEqual(events, [
    ['e1:9104', false, 'active check'],
    ['e1:9104', true, 'active check'],
  ]);
  assert.equal(other.paths.length, 8, 'every round probes every instance');

  // The checker's own timer: with a short interval it ejects without help, and close() stops it.
  const timed = createHealthChecker(registry, { mode: 'http', path: '/health', intervalMs: 100, timeoutMs: 300, healthyThreshold: 2, unhealthyThreshold: 2 });
  t.after(() => timed.close());
  http.state.status = 500;
  const deadline = Date.now() + 3000;
  while (e1.healthy && Date.now() < deadline) await sleep(20);
  assert.equal(e1.healthy, false, 'ejected by the interval timer');
  timed.close();
  await sleep(150); // a round in progress finishes
  const seen = http.paths.length;
  await sleep(400);
  assert.equal(http.paths.length, seen, 'no probes after close()');
});

test('ejected by active checks: no submissions, follow-ups still reach it; a clear fast 503 once it is down', async (t) => {
  const { sims, gw } = await startAll(t, 2);
  const [a, b] = sims;
  const idA = await jobDirect(a);
  const c = checker(t, gw);

  await c.checkAll();
  assert.ok(gw.registry.all().every((u) => u.healthy), 'the simulators answer the probe path with 401: alive');
  // A fails its health endpoint (HTTP 500 for everything) for two rounds, then answers requests again:
  // the checker keeps it out until two good rounds, however many follow-ups it serves meanwhile.
  a.mode = 'spring-error';
  await c.checkAll();
  await c.checkAll();
  a.mode = 'normal';
  const ua = gw.registry.get(a.instance)!;
  assert.equal(ua.healthy, false);

  const beforeA = submissionsTo(a);
  for (let i = 0; i < 6; i++) {
    const f = await call(statusUrl(gw.url, idA), { headers: asUser() });
    assert.equal(f.status, 200, f.text);
    assert.equal(f.body.data.execID, idA, 'the follow-up reached the instance that holds the job');
    const s = await submit(gw);
    assert.equal(s.status, 200, JSON.stringify(s.body));
    assert.ok(b.jobs.has(s.body.data.execID), `submission ${i} went to the healthy instance`);
  }
  assert.equal(submissionsTo(a), beforeA, 'the ejected instance got no submission, although it answered follow-ups');
  assert.equal(ua.healthy, false, 'answering follow-ups does not overrule the active check');

  // Down for good: follow-ups get a fast, clear 503 naming it (never another instance).
  await a.close();
  await sleep(50);
  const bBefore = b.received.length;
  const started = performance.now();
  const down = await call(statusUrl(gw.url, idA), { headers: asUser() });
  const took = performance.now() - started;
  assert.equal(down.status, 503, down.text);
  assert.ok(isEnvelope(down.body));
  assert.equal(down.body.status, 1);
  assert.equal(down.body.data.errorCode, 'UPSTREAM_REFUSED');
  assert.equal(down.body.data.instance, a.instance);
  assert.ok(took < 1000, `answered in ${took.toFixed(0)} ms`);
  assert.equal(b.received.length, bBefore, 'the follow-up was not sent to the other Entrance');

  // Restored by two good rounds once it is back (a new Entrance process on the same port).
  const a2 = await createEntranceSimulator({ port: a.port, instance: a.instance, taskIdStart: 5000 });
  t.after(() => a2.close());
  await c.checkAll();
  assert.equal(ua.healthy, false);
  await c.checkAll();
  assert.equal(ua.healthy, true);
  const landed = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const s = await submit(gw);
    assert.equal(s.status, 200);
    landed.add(a2.jobs.has(s.body.data.execID) ? 'a' : 'b');
  }
  assert.deepEqual([...landed].sort(), ['a', 'b'], 'back in the rotation');
});

test('none healthy: a submission gets a fast 503 NO_HEALTHY_UPSTREAM, well under the connect timeout', async (t) => {
  // Two instances that never complete a connection: trying one would take the full connect timeout.
  const holes = [await startBlackhole(), await startBlackhole()];
  t.after(async () => {
    for (const h of holes) await h.close();
  });
  const gw = await startGateway([], {
    instances: holes.map((h, i) => ({ name: `entrance-${i}:9104`, url: h.url })),
    settings: { 'gateway.upstream.connect.timeout.ms': '3000' },
  });
  t.after(() => gw.close());
  const c = checker(t, gw, { mode: 'tcp', timeoutMs: 200 });
  await c.checkAll();
  await c.checkAll();
  assert.ok(gw.registry.all().every((u) => !u.healthy), 'both ejected by the tcp probes');

  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const r = await submit(gw);
    const took = performance.now() - started;
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.ok(isEnvelope(r.body));
    assert.equal(r.body.status, 1);
    assert.equal(r.body.data.errorCode, 'NO_HEALTHY_UPSTREAM');
    assert.ok(took < 300, `answered in ${took.toFixed(0)} ms (connect timeout 3000 ms)`);
  }
  assert.ok(gw.registry.all().every((u) => u.inFlight === 0), 'no connection was attempted');
  const ready = await call(`${gw.url}/ready`);
  assert.equal(ready.status, 503);
  assert.equal(ready.body.data.entrance, false);
});

test('passive ejection after gateway.health.passive.failures refused connections, and recovery after the eject period', async (t) => {
  const { sims, gw } = await startAll(t, 2, { 'gateway.health.passive.failures': '2', 'gateway.health.passive.eject.ms': '400' });
  const [a, b] = sims;
  const idA = await jobDirect(a);
  const ua = gw.registry.get(a.instance)!;
  const events: Array<[boolean, string]> = [];
  gw.registry.onChange((u, why) => u.name === a.instance && events.push([u.healthy, why]));

  await a.close();
  await sleep(50);
  // Follow-ups count: each refused connection is one failure.
  const first = await call(statusUrl(gw.url, idA), { headers: asUser() });
  assert.equal(first.status, 503);
  assert.equal(first.body.data.errorCode, 'UPSTREAM_REFUSED');
  assert.equal(ua.healthy, true, 'one refused connection does not eject');
  // A submission that is refused by A fails over to B (no byte reached A) and counts as the second failure.
  for (let i = 0; i < 4; i++) {
    const s = await submit(gw);
    assert.equal(s.status, 200, JSON.stringify(s.body));
    assert.ok(b.jobs.has(s.body.data.execID));
  }
  assert.equal(ua.healthy, false, 'ejected');
  assert.equal(ua.consecutiveFailures, 2, 'ejected at exactly gateway.health.passive.failures, then not tried again');
  assert.deepEqual(events, [[false, '2 consecutive connection failures']]);
  assert.equal(submissionsTo(b), 4);

  // It comes back; after the eject period a submission tries it again, and its success restores it.
  const a2 = await createEntranceSimulator({ port: a.port, instance: a.instance, taskIdStart: 5000 });
  t.after(() => a2.close());
  for (let i = 0; i < 4; i++) assert.ok(b.jobs.has((await submit(gw)).body.data.execID), 'still out during the eject period');
  await sleep(450);
  const landed: string[] = [];
  for (let i = 0; i < 4; i++) {
    const s = await submit(gw);
    assert.equal(s.status, 200);
    landed.push(a2.jobs.has(s.body.data.execID) ? 'a' : 'b');
  }
  assert.ok(landed.includes('a'), `offered again after the eject period: ${landed}`);
  assert.equal(ua.healthy, true);
  assert.deepEqual(events[1], [true, 'answered a request']);
  const f = await call(statusUrl(gw.url, (await jobDirect(a2))), { headers: asUser() });
  assert.equal(f.status, 200);
});

test('draining from configuration: no new submissions, follow-ups still served', async (t) => {
  const sims = await startSimulators(2);
  t.after(async () => {
    for (const s of sims) await s.close();
  });
  const [a, b] = sims;
  const gw = await startGateway(sims, { settings: { 'gateway.entrance.draining': a.instance } });
  t.after(() => gw.close());
  assert.equal(gw.registry.get(a.instance)!.draining, true);
  const idA = await jobDirect(a);
  const beforeA = submissionsTo(a);

  for (let i = 0; i < 6; i++) {
    const s = await submit(gw);
    assert.equal(s.status, 200);
    assert.ok(b.jobs.has(s.body.data.execID), 'submissions go to the other instance');
    const f = await call(statusUrl(gw.url, idA, 'progress'), { headers: asUser() });
    assert.equal(f.status, 200, f.text);
    assert.equal(f.body.data.execID, idA);
  }
  assert.equal(submissionsTo(a), beforeA, 'the draining instance got no submission');
  const log = await call(statusUrl(gw.url, idA, 'log?fromLine=0&size=5'), { headers: asUser() });
  assert.equal(log.status, 200);
  const kill = await call(statusUrl(gw.url, idA, 'kill'), { headers: asUser() });
  assert.equal(kill.status, 200, kill.text);
  assert.equal(kill.body.status, 0);
  assert.equal((await call(`${gw.url}/ready`)).status, 200, 'ready: another instance takes jobs');
});

test('draining through registry.setDraining: applies to the next request, and can be undone; all draining → 503', async (t) => {
  const { sims, gw } = await startAll(t, 2);
  const [a, b] = sims;
  const idA = await jobDirect(a);
  const idB = await jobDirect(b);
  const beforeA = submissionsTo(a);
  assert.equal(gw.registry.setDraining(a.instance, true), true);
  assert.equal(gw.registry.setDraining('nope:1', true), false);
  for (let i = 0; i < 4; i++) {
    const s = await submit(gw);
    assert.ok(b.jobs.has(s.body.data.execID));
    assert.equal((await call(statusUrl(gw.url, idA), { headers: asUser() })).status, 200);
  }
  assert.equal(submissionsTo(a), beforeA, 'the draining instance got no submission');

  gw.registry.setDraining(b.instance, true);
  const none = await submit(gw);
  assert.equal(none.status, 503);
  assert.equal(none.body.data.errorCode, 'NO_HEALTHY_UPSTREAM');
  assert.equal((await call(statusUrl(gw.url, idB), { headers: asUser() })).status, 200, 'follow-ups still served');
  assert.equal((await call(`${gw.url}/ready`)).status, 503);

  gw.registry.setDraining(a.instance, false);
  gw.registry.setDraining(b.instance, false);
  const landed = new Set<string>();
  for (let i = 0; i < 4; i++) landed.add(a.jobs.has((await submit(gw)).body.data.execID) ? 'a' : 'b');
  assert.deepEqual([...landed].sort(), ['a', 'b']);
});

test('instances found down are probed every 16th timed round, spread over the rounds; healthy ones every round', async (t) => {
  const dead = await statusServer(t);
  dead.state.status = 500;
  const alive = await statusServer(t);
  const names = Array.from({ length: 64 }, (_, i) => `10.9.0.${i + 1}:9104`);
  const registry = createUpstreamRegistry([...names.map((name) => ({ name, url: dead.url })), { name: 'live:9104', url: alive.url }], { failureThreshold: 3, ejectMs: 10_000 });
  const c = createHealthChecker(registry, { mode: 'http', path: '/h', intervalMs: 25, timeoutMs: 300, healthyThreshold: 2, unhealthyThreshold: 2 });
  t.after(() => c.close());
  const deadline = Date.now() + 5000;
  while (registry.all().some((u) => u.name !== 'live:9104' && u.healthy) && Date.now() < deadline) await sleep(10);
  assert.ok(registry.all().every((u) => u.healthy === (u.name === 'live:9104')), 'every dead one found down');
  // Measure 32 rounds of the live instance's probes (one per round) against the dead ones' probes.
  const [dead0, alive0] = [dead.paths.length, alive.paths.length];
  while (alive.paths.length - alive0 < 32 && Date.now() < deadline + 5000) await sleep(10);
  const rounds = alive.paths.length - alive0;
  const deadProbes = dead.paths.length - dead0;
  assert.ok(rounds >= 32, `rounds: ${rounds}`);
  // Each dead instance once per 16 rounds: about 64 × rounds / 16, never one per instance and round.
  const expected = (names.length * rounds) / 16;
  assert.ok(deadProbes >= expected * 0.5 && deadProbes <= expected * 1.6, `${deadProbes} probes of the dead in ${rounds} rounds (expected about ${expected})`);
  c.close();
});
