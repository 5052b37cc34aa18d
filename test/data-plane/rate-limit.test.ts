/**
 * Rate limits against real servers: per client address before authentication (X-Forwarded-For only
 * from an explicitly trusted proxy), per token and user after it, and — with Redis — one limit shared by
 * two real gateway processes, which keep answering when Redis goes away.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EntranceSimulator } from '../../src/simulator/entrance';
import { ENTRANCE, OTHER_TOKEN, TOKEN, asUser, call, isEnvelope, startGateway, startSimulators } from '../support/harness';
import { freePort, startMain, startRedis, writeConf, type MainProcess } from '../support/process-harness';

type T = { after: (fn: () => unknown) => void };
/** Access lines are written in batches, once per event-loop turn: let the last ones out before reading. */
// Access lines are written in batches, at most 50 ms after the answer.
const settle = () => new Promise((ok) => setTimeout(ok, 120));

async function startAll(t: T, settings: Record<string, string>) {
  const sims = await startSimulators(1);
  t.after(() => sims[0].close());
  const gw = await startGateway(sims, { settings });
  t.after(() => gw.close());
  return { sim: sims[0], gw };
}

/** A cheap authenticated call that reaches the Entrance: the running-task metric of `sim`. */
function opUrl(base: string, sim: EntranceSimulator): string {
  return `${base}${ENTRANCE}/operation/metrics/runningtask?instance=${sim.instance}`;
}

function assertLimited(r: { status: number; headers: Headers; body: any; text: string }, windowSeconds: number): void {
  assert.equal(r.status, 429, r.text);
  assert.ok(isEnvelope(r.body), r.text);
  assert.equal(r.body.status, 1);
  assert.equal(r.body.data.errorCode, 'RATE_LIMITED');
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  const retry = Number(r.headers.get('retry-after'));
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= windowSeconds, `Retry-After: ${r.headers.get('retry-after')}`);
}

test('per client address, before authentication: the (limit+1)th request is a 429 envelope with Retry-After', async (t) => {
  const { sim, gw } = await startAll(t, { 'gateway.ratelimit.client.limit': '3', 'gateway.ratelimit.user.limit': '0', 'gateway.ratelimit.window.ms': '60000' });
  // Unauthenticated requests count too: the limit protects authentication itself (token guessing).
  for (let i = 0; i < 3; i++) assert.equal((await call(opUrl(gw.url, sim))).status, 401);
  const limited = await call(opUrl(gw.url, sim), { headers: asUser() });
  assertLimited(limited, 60);
  assert.equal(sim.received.length, 0, 'nothing reached the Entrance');
  assert.match(limited.body.message, /client address/);
  assert.ok(limited.headers.get('x-request-id'));
  // The gateway's own answers are not rate limited: health checks keep working.
  assert.equal((await call(`${gw.url}/health`)).status, 200);
  await settle();
  const line = gw.logs.find((l) => l.message === 'access' && l.errorCode === 'RATE_LIMITED');
  assert.equal(line?.client, '127.0.0.1');
  assert.equal(line?.status, 429);
});

test('a forged X-Forwarded-For gets no fresh budget when gateway.trust.proxy is empty', async (t) => {
  const { sim, gw } = await startAll(t, { 'gateway.ratelimit.client.limit': '2', 'gateway.ratelimit.user.limit': '0' });
  for (let i = 0; i < 2; i++) assert.equal((await call(opUrl(gw.url, sim), { headers: asUser('alice', TOKEN, { 'x-forwarded-for': `10.0.0.${i + 1}` }) })).status, 200);
  for (const forged of ['10.0.0.3', '203.0.113.7', '10.0.0.4, 10.0.0.5', 'unknown']) {
    assertLimited(await call(opUrl(gw.url, sim), { headers: asUser('alice', TOKEN, { 'x-forwarded-for': forged }) }), 60);
  }
  await settle();
  assert.equal(gw.logs.filter((l) => l.message === 'access').length, 6);
  assert.ok(
    gw.logs.filter((l) => l.message === 'access').every((l) => l.client === '127.0.0.1'),
    'the socket address is the client address',
  );
});

test('with gateway.trust.proxy=127.0.0.1 the X-Forwarded-For address is the client address', async (t) => {
  const { sim, gw } = await startAll(t, { 'gateway.ratelimit.client.limit': '2', 'gateway.ratelimit.user.limit': '0', 'gateway.trust.proxy': '127.0.0.1' });
  const via = (xff?: string) => call(opUrl(gw.url, sim), { headers: asUser('alice', TOKEN, xff ? { 'x-forwarded-for': xff } : {}) });
  assert.equal((await via('10.0.0.1')).status, 200);
  assert.equal((await via('10.0.0.1')).status, 200);
  assertLimited(await via('10.0.0.1'), 60);
  // Only the trusted hop is believed: a client-made entry to the left of it changes nothing.
  assertLimited(await via('198.51.100.9, 10.0.0.1'), 60);
  assert.equal((await via('10.0.0.2')).status, 200, 'another client behind the proxy has its own budget');
  assert.equal((await via()).status, 200, 'the proxy itself (no header) has its own budget');
  await settle();
  const clients = gw.logs.filter((l) => l.message === 'access').map((l) => l.client);
  assert.deepEqual(clients, ['10.0.0.1', '10.0.0.1', '10.0.0.1', '10.0.0.1', '10.0.0.2', '127.0.0.1']);
});

test('per token and user, after authentication: alice exhausted; bob on the same token and alice on another token still served', async (t) => {
  const { sim, gw } = await startAll(t, { 'gateway.ratelimit.client.limit': '0', 'gateway.ratelimit.user.limit': '2' });
  const as = (user: string, token: string) => call(opUrl(gw.url, sim), { headers: asUser(user, token) });
  assert.equal((await as('alice', TOKEN)).status, 200);
  assert.equal((await as('alice', TOKEN)).status, 200);
  const received = sim.received.length;
  const limited = await as('alice', TOKEN);
  assertLimited(limited, 60);
  assert.match(limited.body.message, /token and user/);
  assert.equal(sim.received.length, received, 'the limited request did not reach the Entrance');
  assert.equal((await as('bob', TOKEN)).status, 200, 'bob with the same token');
  assert.equal((await as('alice', OTHER_TOKEN)).status, 200, 'alice with another token');
  assert.equal((await as('alice', OTHER_TOKEN)).status, 200);
  assertLimited(await as('alice', OTHER_TOKEN), 60);
  // Refused authentication does not use anyone's budget.
  for (let i = 0; i < 3; i++) assert.equal((await as('bob', 'not-a-known-token-000')).status, 401);
  assert.equal((await as('bob', TOKEN)).status, 200);
  assertLimited(await as('bob', TOKEN), 60);
});

test('Redis: two gateway processes share one limit; when Redis goes away both keep answering', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const sims = await startSimulators(1);
  const sim = sims[0];
  t.after(() => sim.close());
  const settings = {
    'gateway.entrance.instances': sim.instance,
    'gateway.ratelimit.redis.url': redis.url,
    'gateway.ratelimit.user.limit': '5',
    'gateway.ratelimit.client.limit': '7',
    'gateway.health.check.mode': 'off',
  };
  const gws: MainProcess[] = [];
  t.after(async () => {
    for (const g of gws) await g.stop();
  });
  const [g1, g2] = await Promise.all([startMain(writeConf(settings)), startMain(writeConf(settings))]);
  gws.push(g1, g2);
  let tried = 0;
  const as = async (g: MainProcess, user: string) => {
    tried++;
    return call(opUrl(g.url, sim), { headers: asUser(user), signal: AbortSignal.timeout(5000) });
  };

  // alice: 5 per token and user across both gateways, alternating.
  const statuses: number[] = [];
  const served = new Map<MainProcess, number>([[g1, 0], [g2, 0]]);
  for (let i = 0; i < 6; i++) {
    const g = i % 2 === 0 ? g1 : g2;
    const r = await as(g, 'alice');
    statuses.push(r.status);
    if (r.status === 200) served.set(g, served.get(g)! + 1);
    else assertLimited(r, 60);
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429], 'the 6th alice request, on either gateway, is refused');
  assert.ok(served.get(g1)! > 0 && served.get(g2)! > 0, 'both gateways served part of the limit');
  // The client address (127.0.0.1 for both) has used 6 of 7: bob gets one more, then the shared client limit.
  assert.equal((await as(g2, 'bob')).status, 200);
  const byClient = await as(g1, 'bob');
  assertLimited(byClient, 60);
  assert.match(byClient.body.message, /client address/);

  // Redis goes away mid-run: requests are let through (an outage of Redis is not an outage of Linkis).
  await redis.stop();
  const after: number[] = [];
  const started = performance.now();
  for (let i = 0; i < 6; i++) after.push((await as(i % 2 ? g2 : g1, 'alice')).status);
  const took = performance.now() - started;
  assert.deepEqual(after, [200, 200, 200, 200, 200, 200], 'let through while the store is down');
  assert.ok(took < 5000, `6 requests took ${took.toFixed(0)} ms`);
  for (const g of [g1, g2]) {
    assert.equal((await call(`${g.url}/health`)).status, 200);
    assert.ok(
      g.lines().some((l) => l.event === 'ratelimit.store'),
      'the store failure is logged',
    );
    assert.equal(g.child.exitCode, null, 'still running');
  }
  // Redis comes back (empty, on the same address): the gateways reconnect and limit again.
  const again = await startRedis(redis.port);
  t.after(() => again.stop());
  let limitedAgain = false;
  const deadline = Date.now() + 15_000;
  for (let i = 0; !limitedAgain && Date.now() < deadline; i++) {
    const r = await as(i % 2 ? g2 : g1, 'alice');
    assert.ok(r.status === 200 || r.status === 429, r.text);
    limitedAgain = r.status === 429;
    if (!limitedAgain) await new Promise((ok) => setTimeout(ok, 50));
  }
  assert.ok(limitedAgain, 'limits apply again once Redis is back');
  console.log(`rate-limit (redis): ${tried} requests tried across 2 gateway processes, 2 faults injected (redis-server killed, then restarted empty), 0 requests lost`);
  assert.equal(await g1.stop(), 0);
  assert.equal(await g2.stop(), 0);
});

test('Redis down at start-up: the gateway starts and answers, and limits begin once Redis is there', async (t) => {
  const port = await freePort();
  const sims = await startSimulators(1);
  const sim = sims[0];
  t.after(() => sim.close());
  const g = await startMain(
    writeConf({
      'gateway.entrance.instances': sim.instance,
      'gateway.ratelimit.redis.url': `redis://127.0.0.1:${port}`,
      'gateway.ratelimit.user.limit': '3',
      'gateway.ratelimit.client.limit': '0',
      'gateway.health.check.mode': 'off',
    }),
  );
  t.after(() => g.stop());
  const as = () => call(opUrl(g.url, sim), { headers: asUser('alice'), signal: AbortSignal.timeout(5000) });
  // No Redis: not limited, never hung.
  for (let i = 0; i < 6; i++) assert.equal((await as()).status, 200);
  assert.ok(g.lines().some((l) => l.event === 'ratelimit.store.down' || l.event === 'ratelimit.store'), 'the outage is logged');

  const redis = await startRedis(port);
  t.after(() => redis.stop());
  // The client reconnects on its own schedule; then the store reloads its scripts and counts.
  let limited = false;
  for (let i = 0; i < 200 && !limited; i++) {
    limited = (await as()).status === 429;
    if (!limited) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(limited, 'the limit applies once Redis answers');
});
