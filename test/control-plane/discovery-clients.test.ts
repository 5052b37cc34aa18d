import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Logger } from 'winston';
import { createEurekaClient } from '../../src/control-plane/discovery/eureka';
import { createNacosClient } from '../../src/control-plane/discovery/nacos';
import { startDiscovery } from '../../src/control-plane/discovery/refresh';
import type { DiscoveryConfig } from '../../src/control-plane/discovery/discovery-config';
import { createUpstreamRegistry } from '../../src/control-plane/upstreams';
import { startRegistryStandin } from '../support/registry-standin';

const ENTRANCE = 'linkis-cg-entrance';
const PS = 'linkis-ps-publicservice';

async function standin(t: { after: (fn: () => unknown) => void }) {
  const s = await startRegistryStandin();
  t.after(() => s.close());
  return s;
}

/** A port nothing listens on: connections are refused. */
async function deadUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const port = (srv.address() as { port: number }).port;
  await new Promise((ok) => srv.close(ok));
  return `http://127.0.0.1:${port}/eureka`;
}

const names = (list: Array<{ name: string; status: string }> | undefined) => (list ?? []).map((i) => `${i.name} ${i.status}`).sort();

test('eureka: a full listing first, then deltas; a full listing again every fullRefreshMs', async (t) => {
  const s = await standin(t);
  const clock = { t: 1_000_000 };
  const c = createEurekaClient({ urls: [s.eurekaUrl.replace(/\/$/, '')], services: [ENTRANCE, PS], timeoutMs: 2000, fullRefreshMs: 60_000, address: 'hostname', now: () => clock.t });
  s.register(ENTRANCE, { port: 9104, registeredAt: 111 });
  s.register(PS, { port: 9105 });
  let l = await c.fetch();
  assert.deepEqual(names(l.instances[ENTRANCE]), ['127.0.0.1:9104 UP']);
  assert.equal(l.instances[ENTRANCE]![0]!.registeredAt, 111);
  assert.deepEqual(names(l.instances[PS]), ['127.0.0.1:9105 UP']);
  assert.deepEqual(s.requests, ['/eureka/apps/LINKIS-CG-ENTRANCE', '/eureka/apps/LINKIS-PS-PUBLICSERVICE']);

  const b = s.register(ENTRANCE, { port: 9106, status: 'STARTING' });
  s.setStatus(`127.0.0.1:${ENTRANCE}:9104`, 'DOWN');
  l = await c.fetch();
  assert.deepEqual(names(l.instances[ENTRANCE]), ['127.0.0.1:9104 DOWN', '127.0.0.1:9106 STARTING']);
  s.deregister(b.id);
  l = await c.fetch();
  assert.deepEqual(names(l.instances[ENTRANCE]), ['127.0.0.1:9104 DOWN']);
  assert.deepEqual(s.requests.slice(2), ['/eureka/apps/delta', '/eureka/apps/delta']);

  clock.t += 60_000;
  await c.fetch();
  assert.deepEqual(s.requests.slice(4), ['/eureka/apps/LINKIS-CG-ENTRANCE', '/eureka/apps/LINKIS-PS-PUBLICSERVICE']);
});

test('eureka: deltas refused (403) mean full listings; an application Eureka does not know is an empty list', async (t) => {
  const s = await standin(t);
  s.deltaDisabled = true;
  const c = createEurekaClient({ urls: [s.eurekaUrl], services: [ENTRANCE, PS], timeoutMs: 2000, fullRefreshMs: 60_000, address: 'hostname' });
  s.register(ENTRANCE, { port: 9104 });
  assert.deepEqual((await c.fetch()).instances[PS], []);
  // An application missing from a listing: the next one is a full listing too (no delta patched onto it).
  s.register(PS, { port: 9105 });
  assert.equal((await c.fetch()).instances[PS]!.length, 1);
  assert.equal(s.requests.filter((r) => r.endsWith('/delta')).length, 0);
  s.register(ENTRANCE, { port: 9106 });
  assert.equal((await c.fetch()).instances[ENTRANCE]!.length, 2);
  assert.equal((await c.fetch()).instances[ENTRANCE]!.length, 2);
  // One delta asked, refused; full listings since (no delta again before fullRefreshMs).
  assert.equal(s.requests.filter((r) => r.endsWith('/delta')).length, 1);
  assert.equal(s.requests.filter((r) => r.endsWith('/LINKIS-CG-ENTRANCE')).length, 4);
});

test('eureka: zones are tried in order and the one that answered is asked first; basic auth from the URL', async (t) => {
  const s = await standin(t);
  s.auth = `Basic ${Buffer.from('linkis:p@ss').toString('base64')}`;
  s.register(ENTRANCE, { port: 9104 });
  const zone = s.eurekaUrl.replace('http://', 'http://linkis:p%40ss@').replace(/\/$/, '');
  const dead = await deadUrl();
  const c = createEurekaClient({ urls: [dead, zone], services: [ENTRANCE], timeoutMs: 2000, fullRefreshMs: 60_000, address: 'hostname' });
  assert.deepEqual(names((await c.fetch()).instances[ENTRANCE]), ['127.0.0.1:9104 UP']);
  assert.deepEqual(names((await c.fetch()).instances[ENTRANCE]), ['127.0.0.1:9104 UP']);
  assert.deepEqual(s.requests, ['/eureka/apps/LINKIS-CG-ENTRANCE', '/eureka/apps/delta']);

  const wrong = createEurekaClient({ urls: [s.eurekaUrl.replace('http://', 'http://linkis:nope@')], services: [ENTRANCE], timeoutMs: 2000, fullRefreshMs: 60_000, address: 'hostname' });
  await assert.rejects(wrong.fetch(), (err: Error) => /HTTP 401/.test(err.message) && !err.message.includes('nope'));
  const none = createEurekaClient({ urls: [dead], services: [ENTRANCE], timeoutMs: 2000, fullRefreshMs: 60_000, address: 'hostname' });
  await assert.rejects(none.fetch(), /ECONNREFUSED/);
});

test('a registry that hangs fails within the timeout; one that answers nonsense fails too', async (t) => {
  const s = await standin(t);
  s.mode = 'hang';
  const c = createEurekaClient({ urls: [s.eurekaUrl], services: [ENTRANCE], timeoutMs: 200, fullRefreshMs: 60_000, address: 'hostname' });
  const started = Date.now();
  await assert.rejects(c.fetch(), /no answer within 200 ms/);
  assert.ok(Date.now() - started < 2000);
  s.mode = 'error';
  await assert.rejects(c.fetch(), /HTTP 500/);
  s.mode = 'normal';
  const n = createNacosClient({ urls: [`${s.url}/not-nacos`], services: [ENTRANCE], namespace: '', group: 'DEFAULT_GROUP', timeoutMs: 500, refreshMs: 1000 });
  await assert.rejects(n.fetch(), /HTTP 404/);
});

test('nacos: namespace and group asked; first-seen times that never date a live job after its creation', async (t) => {
  const s = await standin(t);
  const clock = { t: 5_000_000 };
  const c = createNacosClient({ urls: [s.nacosUrl], services: [ENTRANCE], namespace: 'linkis', group: 'LINKIS', timeoutMs: 2000, refreshMs: 1000, now: () => clock.t });
  const a = s.register(ENTRANCE, { port: 9104, ipAddr: '127.0.0.1', namespace: 'linkis', group: 'LINKIS' });
  s.register(ENTRANCE, { port: 9199, ipAddr: '127.0.0.9' }); // another namespace: not ours
  let l = await c.fetch();
  assert.deepEqual(l.instances[ENTRANCE], [{ name: '127.0.0.1:9104', url: 'http://127.0.0.1:9104', status: 'UP', up: true, registeredAt: 0 }]);
  assert.match(s.requests[0]!, /^\/nacos\/v1\/ns\/instance\/list\?serviceName=linkis-cg-entrance&groupName=LINKIS&healthyOnly=false&namespaceId=linkis$/);

  clock.t += 5000;
  s.register(ENTRANCE, { port: 9106, ipAddr: '127.0.0.2', namespace: 'linkis', group: 'LINKIS' });
  s.setNacos(a.id, { healthy: false });
  l = await c.fetch();
  const byName = new Map(l.instances[ENTRANCE]!.map((i) => [i.name, i]));
  assert.equal(byName.get('127.0.0.1:9104')!.status, 'DOWN');
  assert.equal(byName.get('127.0.0.1:9104')!.registeredAt, 0);
  assert.equal(byName.get('127.0.0.2:9106')!.registeredAt, 5_004_000, 'first seen minus one refresh interval');

  // An empty listing (a restarted Nacos) forgets nothing; an instance gone and back is dated anew.
  s.mode = 'empty';
  assert.deepEqual((await c.fetch()).instances[ENTRANCE], []);
  s.mode = 'normal';
  assert.equal((await c.fetch()).instances[ENTRANCE]!.find((i) => i.name === '127.0.0.1:9104')!.registeredAt, 0);
  s.deregister(a.id);
  await c.fetch();
  clock.t += 60_000;
  s.register(ENTRANCE, { port: 9104, ipAddr: '127.0.0.1', namespace: 'linkis', group: 'LINKIS' });
  assert.equal((await c.fetch()).instances[ENTRANCE]!.find((i) => i.name === '127.0.0.1:9104')!.registeredAt, 5_064_000);
});

test('the refresh loop: unreachable keeps the last set, logged once; an empty listing is not believed; recovery logged once', async (t) => {
  const s = await standin(t);
  const logs: Array<{ level: string; message: string; event?: string }> = [];
  const logger = { warn: (message: string, meta: object) => logs.push({ level: 'warn', message, ...meta }), info: (message: string, meta: object) => logs.push({ level: 'info', message, ...meta }) } as unknown as Logger;
  const registry = createUpstreamRegistry([], { failureThreshold: 3, ejectMs: 10_000 });
  const publicservice = createUpstreamRegistry([], { role: 'publicservice', failureThreshold: 3, ejectMs: 10_000 });
  const outcomes: boolean[] = [];
  s.register(ENTRANCE, { port: 9104 });
  s.register(ENTRANCE, { port: 9106 });
  s.register(PS, { port: 9105 });
  const config: DiscoveryConfig = { mode: 'eureka', urls: [s.eurekaUrl], refreshMs: 3_600_000, fullRefreshMs: 3_600_000, timeoutMs: 300, entranceService: ENTRANCE, publicserviceService: PS, eurekaAddress: 'hostname', nacosNamespace: '', nacosGroup: 'DEFAULT_GROUP' };
  const d = await startDiscovery(config, { registry, publicservice, logger, onRefresh: (ok) => outcomes.push(ok), draining: ['127.0.0.1:9106'] });
  t.after(() => d.close());
  assert.equal(d.healthy(), true);
  assert.deepEqual(registry.all().map((u) => u.name), ['127.0.0.1:9104', '127.0.0.1:9106']);
  assert.equal(registry.get('127.0.0.1:9106')!.draining, true, 'gateway.entrance.draining applies when the registry first lists the name');
  assert.deepEqual(publicservice.all().map((u) => u.name), ['127.0.0.1:9105']);

  await s.stop();
  for (let i = 0; i < 3; i++) assert.equal(await d.refresh(), false);
  assert.equal(d.healthy(), false);
  assert.equal(registry.all().length, 2);
  assert.ok(registry.all().every((u) => u.registration!.listed && u.registration!.up));
  await s.start();
  s.mode = 'empty';
  assert.equal(await d.refresh(), false);
  assert.equal(registry.all().filter((u) => u.registration!.listed).length, 2);
  s.mode = 'normal';
  assert.equal(await d.refresh(), true);
  assert.equal(await d.refresh(), true);
  assert.deepEqual(outcomes, [true, false, false, false, false, true, true]);
  assert.deepEqual(
    logs.filter((l) => l.event !== 'discovery.start').map((l) => `${l.level} ${l.event}`),
    ['warn discovery.unreachable', 'info discovery.recovered'],
  );
});
