/**
 * A hung Redis (SIGSTOP: the TCP connection stays open and no reply ever comes, as with a stuck or
 * partitioned Redis) against a real gateway process and a real redis-server: every request still answers
 * within the documented 1 s per Redis wait, let through without limits and logged, and limits apply again
 * once Redis resumes. A killed Redis (connection refused) is tested in rate-limit.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EntranceSimulator } from '../../src/simulator/entrance';
import { ENTRANCE, asUser, call, startSimulators } from '../support/harness';
import { startMain, startRedis, writeConf } from '../support/process-harness';

/** A cheap authenticated call that reaches the Entrance: the running-task metric of `sim`. */
function opUrl(base: string, sim: EntranceSimulator): string {
  return `${base}${ENTRANCE}/operation/metrics/runningtask?instance=${sim.instance}`;
}

test('Redis hung (SIGSTOP, the connection stays open): every request answers within 1.5 s, let through and logged; limits resume after SIGCONT; shutdown does not wait for it', async (t) => {
  const redis = await startRedis();
  const resume = () => redis.child.kill('SIGCONT');
  t.after(async () => {
    resume();
    await redis.stop();
  });
  const sims = await startSimulators(1);
  const sim = sims[0];
  t.after(() => sim.close());
  const g = await startMain(
    writeConf({
      'gateway.entrance.instances': sim.instance,
      'gateway.ratelimit.redis.url': redis.url,
      'gateway.ratelimit.user.limit': '20',
      'gateway.ratelimit.client.limit': '100000', // both limiters ask Redis: their waits must not add up
      'gateway.health.check.mode': 'off',
    }),
  );
  t.after(() => g.stop('SIGKILL'));
  const timed = async (user = 'alice') => {
    const started = performance.now();
    const r = await call(opUrl(g.url, sim), { headers: asUser(user), signal: AbortSignal.timeout(10_000) });
    return { status: r.status, ms: performance.now() - started, text: r.text };
  };
  for (let i = 0; i < 3; i++) assert.equal((await timed()).status, 200, 'counted while Redis answers');

  assert.ok(redis.child.kill('SIGSTOP'));
  // Sequential requests, then a burst of concurrent ones, all while Redis is stopped.
  const seen: Array<{ status: number; ms: number; text: string }> = [];
  for (let i = 0; i < 8; i++) seen.push(await timed(i % 2 ? 'bob' : 'alice'));
  seen.push(...(await Promise.all(Array.from({ length: 30 }, (_, i) => timed(i % 2 ? 'bob' : 'alice')))));
  for (let i = 0; i < 4; i++) seen.push(await timed());
  const ms = seen.map((s) => s.ms).sort((a, b) => a - b);
  for (const s of seen) assert.equal(s.status, 200, s.text);
  const max = ms[ms.length - 1];
  assert.ok(max < 1500, `slowest request while Redis is stopped: ${max.toFixed(0)} ms`);
  // One line says so (at most one per 10 s), naming the deadline.
  const letThrough = g.lines().filter((l) => l.event === 'ratelimit.store' && /allowing request/.test(String(l.message)));
  assert.equal(letThrough.length, 1, JSON.stringify(letThrough));
  assert.match(String(letThrough[0].error), /1000 ms/);
  console.log(`redis SIGSTOPped: ${seen.length} requests, all 200; latency p50 ${ms[Math.floor(ms.length / 2)].toFixed(0)} ms, max ${max.toFixed(0)} ms`);

  // Redis resumes: counting starts again (21 requests for alice in this window is past the limit).
  resume();
  let limited = false;
  for (let i = 0; i < 200 && !limited; i++) limited = (await timed()).status === 429;
  assert.ok(limited, 'the limit applies again once Redis answers');

  // Stopped again at shutdown: QUIT must not hold the process.
  redis.child.kill('SIGSTOP');
  const stopping = performance.now();
  assert.equal(await g.stop('SIGTERM', 10_000), 0);
  const took = performance.now() - stopping;
  assert.ok(took < 5000, `shutdown took ${took.toFixed(0)} ms with Redis stopped`);
});
