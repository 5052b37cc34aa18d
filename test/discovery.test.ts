/**
 * Discovery end to end: the real gateway (test/support/harness.ts, wired as main wires it) in front of
 * simulated Entrances and a publicservice, reading a stand-in Eureka or Nacos whose instances come, go and
 * change status while traffic runs. Throughout: no follow-up reaches another Entrance than its job's, no
 * submission reaches an instance the registry does not list UP, and the registry going away changes nothing
 * but /ready's `discovery` check, the metric and one log line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHealthChecker } from '../src/control-plane/health-check';
import { startSimulatedLinkis, type SimulatedLinkis } from '../src/simulator/linkis';
import type { EntranceSimulator } from '../src/simulator/entrance';
import { asUser, call, ENTRANCE, startGateway, submit, type TestGateway } from './support/harness';
import { startRegistryStandin, type RegistryStandin } from './support/registry-standin';
import { freePort } from './support/process-harness';
import { assertNothingMisrouted, submissions, traffic, waitFor, type Job } from './support/discovery-traffic';

const REFRESH_MS = 300;
const APP = 'linkis-cg-entrance';
const PS = 'linkis-ps-publicservice';

async function linkisWith(t: { after: (fn: () => unknown) => void }, names: Array<string | undefined>): Promise<SimulatedLinkis> {
  const entrances = [];
  for (const n of names) {
    const port = n ? await freePort() : undefined;
    entrances.push({ port, instance: n && `${n}:${port}`, pollsPerState: 100_000 });
  }
  const linkis = await startSimulatedLinkis({ entrances });
  t.after(() => linkis.close());
  return linkis;
}

async function gatewayOn(t: { after: (fn: () => unknown) => void }, settings: Record<string, string>): Promise<TestGateway> {
  const gw = await startGateway([], { instances: [], settings: { 'gateway.discovery.refresh.ms': String(REFRESH_MS), 'gateway.discovery.timeout.ms': '500', 'gateway.health.check.interval.ms': '100', 'gateway.health.check.unhealthy.threshold': '1', ...settings } });
  // Active checks as main runs them: how the gateway learns that an Entrance which left the registry stopped answering.
  const checker = createHealthChecker(gw.registry, { ...gw.config.health, mode: 'tcp' });
  t.after(() => (checker.close(), gw.close()));
  return gw;
}

async function registryGoesAway(gw: TestGateway, reg: RegistryStandin, registry: string, jobs: Job[], live: () => Set<string>): Promise<void> {
  const before = gw.registry.all().map((u) => `${u.name} ${u.registration?.status}`);
  const load = traffic(gw, jobs, live);
  await reg.stop();
  await waitFor('/ready to report the registry', async () => (await call(`${gw.url}/ready`)).body?.data?.discovery === false);
  await new Promise((r) => setTimeout(r, REFRESH_MS * 3));
  const ready = await call(`${gw.url}/ready`);
  assert.equal(ready.status, 200, 'the gateway stays ready on its last known instances');
  assert.deepEqual(ready.body.data, { config: true, allowlist: true, entrance: true, publicservice: true, discovery: false });
  assert.match(await gw.metrics.render(), new RegExp(`linkis_gateway_discovery_up\\{registry="${registry}"\\} 0`));
  assert.deepEqual(gw.registry.all().map((u) => `${u.name} ${u.registration?.status}`), before);
  assert.equal(gw.logs.filter((l) => l.event === 'discovery.unreachable').length, 1, 'said once');
  await reg.start();
  await waitFor('recovery', async () => (await call(`${gw.url}/ready`)).body?.data?.discovery === true);
  await load.stop();
  assert.deepEqual(load.failures, []);
  assert.match(await gw.metrics.render(), new RegExp(`linkis_gateway_discovery_up\\{registry="${registry}"\\} 1`));
  assert.equal(gw.logs.filter((l) => l.event === 'discovery.recovered').length, 1);
}

test('eureka: instances come, change status, leave; follow-ups stay with their Entrance; the registry goes away', async (t) => {
  const reg = await startRegistryStandin();
  t.after(() => reg.close());
  // c registers a host name the gateway cannot resolve: reached by ipAddr, named as its execIDs name it.
  const linkis = await linkisWith(t, [undefined, undefined, 'entrance-c.linkis']);
  const [a, b, c] = linkis.entrances as [EntranceSimulator, EntranceSimulator, EntranceSimulator];
  const hourAgo = Date.now() - 3_600_000;
  const ra = reg.register(APP, { port: a.port, registeredAt: hourAgo });
  const rb = reg.register(APP, { port: b.port, registeredAt: hourAgo + 1 });
  reg.register(PS, { port: linkis.publicservice.port });
  const gw = await gatewayOn(t, { 'gateway.discovery': 'eureka', 'gateway.discovery.urls': reg.eurekaUrl, 'gateway.discovery.eureka.address': 'ip' });
  assert.deepEqual(gw.registry.all().map((u) => u.name), [a.instance, b.instance]);

  const jobs: Job[] = [];
  const closed = new Set<string>();
  const live = () => new Set(linkis.entrances.map((e) => e.instance).filter((n) => !closed.has(n)));
  const load = traffic(gw, jobs, live);
  await waitFor('jobs on a and b', () => jobs.some((j) => j.instance === a.instance) && jobs.some((j) => j.instance === b.instance));

  // b DOWN: no new submission reaches it once the gateway has read that; its jobs' follow-ups still do.
  reg.setStatus(rb.id, 'DOWN');
  await waitFor('b DOWN', () => gw.registry.get(b.instance)?.registration?.status === 'DOWN');
  // Its client registered again (a new lease): the registry time an Entrance sees is still when it came up.
  assert.equal(gw.registry.get(b.instance)!.registration!.registeredAt, hourAgo + 1);
  const bSubmits = submissions(b);
  const bFollowUps = b.received.length;
  await new Promise((r) => setTimeout(r, REFRESH_MS * 2));
  assert.equal(submissions(b), bSubmits, 'no submission to a DOWN instance');
  assert.ok(b.received.length > bFollowUps, 'follow-ups still reach it');

  // c registers STARTING (no submissions), then UP: submissions within one refresh interval.
  const rc = reg.register(APP, { hostName: 'entrance-c.linkis', port: c.port, status: 'STARTING' });
  await waitFor('c listed', () => gw.registry.get(c.instance) !== undefined);
  assert.equal(gw.registry.get(c.instance)!.url, c.url);
  await new Promise((r) => setTimeout(r, REFRESH_MS));
  assert.equal(submissions(c), 0);
  reg.setStatus(rc.id, 'UP');
  const upAt = Date.now();
  await waitFor('a submission on c', () => submissions(c) > 0, 3000);
  assert.ok(Date.now() - upAt < REFRESH_MS + 250, `c got its first submission ${Date.now() - upAt} ms after it was UP`);

  // a leaves the registry but runs: follow-ups only; then it stops answering and is forgotten.
  reg.deregister(ra.id);
  await waitFor('a gone from the registry', () => gw.registry.get(a.instance)?.registration?.listed === false);
  const aSubmits = submissions(a);
  await new Promise((r) => setTimeout(r, REFRESH_MS * 2));
  assert.equal(submissions(a), aSubmits);
  closed.add(a.instance);
  await new Promise((r) => setTimeout(r, 50));
  await a.close();
  await waitFor('a removed', () => gw.registry.get(a.instance) === undefined);
  const aJob = jobs.find((j) => j.instance === a.instance)!;
  const gone = await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(aJob.execID)}/status`, { headers: asUser() });
  assert.equal(gone.status, 404, 'a follow-up for a vanished Entrance is refused, never sent elsewhere');
  await load.stop();
  assert.deepEqual(load.failures, []);

  // The registry time reaches the Entrance: b restarted (a new lease) after its jobs were created → failover.
  const bJob = jobs.find((j) => j.instance === b.instance)!;
  reg.deregister(rb.id);
  reg.register(APP, { port: b.port, status: 'DOWN', registeredAt: Date.now() });
  await waitFor('b registered again', () => (gw.registry.get(b.instance)?.registration?.registeredAt ?? 0) > hourAgo + 1);
  await new Promise((r) => setTimeout(r, 20));
  const failover = await call(`${gw.url}${ENTRANCE}/${bJob.taskID}/status`, { headers: asUser() });
  assert.equal(failover.body?.data?.status, 'Inited', failover.text);
  const header = JSON.parse(String(b.received.at(-1)!.headers.jobinstancekey));
  assert.equal(header.instanceRegistryTimestamp, gw.registry.get(b.instance)!.registration!.registeredAt);

  assertNothingMisrouted(linkis.entrances, jobs);
  await registryGoesAway(gw, reg, 'eureka', jobs, live);
  assertNothingMisrouted(linkis.entrances, jobs);
});

test('nacos: unhealthy or disabled instances take no submissions, keep their follow-ups; a new one is used within an interval', async (t) => {
  const reg = await startRegistryStandin();
  t.after(() => reg.close());
  const linkis = await linkisWith(t, [undefined, undefined]);
  const [a, b] = linkis.entrances as [EntranceSimulator, EntranceSimulator];
  const ra = reg.register(APP, { port: a.port });
  reg.register(PS, { port: linkis.publicservice.port });
  const gw = await gatewayOn(t, { 'gateway.discovery': 'nacos', 'gateway.discovery.urls': reg.url.replace('http://', '') });
  assert.deepEqual(gw.registry.all().map((u) => [u.name, u.registration?.registeredAt]), [[a.instance, 0]]);

  const jobs: Job[] = [];
  const live = () => new Set([a.instance, b.instance]);
  const load = traffic(gw, jobs, live);
  await waitFor('jobs on a', () => jobs.length > 3);
  const seenAt = Date.now();
  reg.register(APP, { port: b.port });
  await waitFor('a submission on b', () => submissions(b) > 0, 3000);
  assert.ok(Date.now() - seenAt < REFRESH_MS + 250);
  // First seen while the gateway watched: dated one refresh interval early, so no job on it predates it.
  const bAt = gw.registry.get(b.instance)!.registration!.registeredAt;
  assert.ok(bAt >= seenAt - REFRESH_MS - 50 && bAt <= Date.now() - REFRESH_MS, String(bAt - seenAt));

  for (const change of [{ healthy: false }, { healthy: true, enabled: false }, { enabled: true, weight: 0 }]) {
    reg.setNacos(ra.id, change);
    await waitFor(`a not UP after ${JSON.stringify(change)}`, () => gw.registry.get(a.instance)?.registration?.up === false);
    const before = submissions(a);
    await new Promise((r) => setTimeout(r, REFRESH_MS * 2));
    assert.equal(submissions(a), before, JSON.stringify(change));
  }
  await load.stop();
  assert.deepEqual(load.failures, []);
  // taskID follow-ups carry each instance's registry time: 0 for a (listed at start), b's first-seen time.
  const aJob = jobs.find((j) => j.instance === a.instance)!;
  assert.equal((await call(`${gw.url}${ENTRANCE}/${aJob.taskID}/status`, { headers: asUser() })).body.status, 0);
  assert.equal(JSON.parse(String(a.received.at(-1)!.headers.jobinstancekey)).instanceRegistryTimestamp, 0);

  assertNothingMisrouted(linkis.entrances, jobs);
  await registryGoesAway(gw, reg, 'nacos', jobs, live);
  assertNothingMisrouted(linkis.entrances, jobs);
});

test('a registry unreachable at start: not ready, 503s naming no setting; ready once it answers', async (t) => {
  const reg = await startRegistryStandin();
  t.after(() => reg.close());
  const linkis = await linkisWith(t, [undefined]);
  reg.register(APP, { port: linkis.entrances[0]!.port });
  reg.register(PS, { port: linkis.publicservice.port });
  await reg.stop();
  const gw = await gatewayOn(t, { 'gateway.discovery': 'eureka', 'gateway.discovery.urls': reg.eurekaUrl });
  const ready = await call(`${gw.url}/ready`);
  assert.equal(ready.status, 503);
  assert.deepEqual(ready.body.data, { config: true, allowlist: true, entrance: false, discovery: false });
  assert.equal((await submit(gw)).body.status, 1);
  const history = await call(`${gw.url}/api/rest_j/v1/jobhistory/1/get`, { headers: asUser() });
  assert.equal(history.status, 503);
  assert.match(history.body.message, /No linkis-ps-publicservice instance is available/);
  const task = await call(`${gw.url}${ENTRANCE}/1/status`, { headers: asUser() });
  assert.match(task.body.message, /No linkis-ps-publicservice instance is available/);
  await reg.start();
  await waitFor('ready', async () => (await call(`${gw.url}/ready`)).status === 200);
  assert.equal((await submit(gw)).status, 200);
});
