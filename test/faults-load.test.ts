/**
 * Faults under load, against real servers on 127.0.0.1:
 * (a) 1,000 clients abort a large log mid-stream: no in-flight count, socket or listener is leaked;
 * (b) proxy.properties is replaced with garbage while requests are in flight (real main process and
 *     its file watcher): every request is answered and the old rules stay;
 * (c) 500 concurrent submissions across 3 Entrances, one closed midway: each answered exactly once,
 *     no job submitted twice, no success whose job is missing.
 * Each prints what it tried, the faults it injected and the requests lost (0).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_PROXY_PROPERTIES, ENTRANCE, OTHER_TOKEN, TOKEN, asUser, call, isEnvelope, jobDirect, startGateway, startSimulators, startTcpPassThrough, submit } from './support/harness';
import { startMain, writeConf } from './support/process-harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(10);
  }
}

function listenerTotals(emitter: NodeJS.EventEmitter): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of emitter.eventNames()) out[String(name)] = emitter.listenerCount(name);
  return out;
}

test('(a) 1,000 clients abort a large log mid-stream: in-flight back to 0, no leaked socket or listener, no MaxListeners warning', async (t) => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));

  const [sim] = await startSimulators(1);
  t.after(() => sim.close());
  const pass = await startTcpPassThrough(sim.port);
  t.after(() => pass.close());
  const gw = await startGateway([sim], { instances: [{ name: sim.instance, url: pass.url }], settings: { 'gateway.ratelimit.client.limit': '0', 'gateway.ratelimit.user.limit': '0', 'gateway.upstream.max.per.user': '0', 'gateway.upstream.max.per.client': '0' } });
  t.after(() => gw.close());
  const id = await jobDirect(sim);
  sim.hugeLogBytes = 50 * 1024 * 1024;
  const url = `${gw.url}${ENTRANCE}/${encodeURIComponent(id)}/log?fromLine=0&size=-1`;
  const upstream = gw.registry.get(sim.instance)!;

  // One complete warm-up request, then the baseline of listeners on the long-lived objects.
  sim.hugeLogBytes = 64 * 1024;
  assert.equal((await call(url, { headers: asUser() })).status, 200);
  sim.hugeLogBytes = 50 * 1024 * 1024;
  await sleep(50);
  const before = { process: listenerTotals(process), server: listenerTotals(gw.server) };

  const N = 1000;
  const BATCH = 100;
  let aborted = 0;
  let bytes = 0;
  const abortOne = () =>
    new Promise<void>((ok, fail) => {
      const req = get(url, { headers: asUser(), agent: false }, (res) => {
        if (res.statusCode !== 200) return fail(new Error(`HTTP ${res.statusCode}`));
        res.once('data', (d: Buffer) => {
          bytes += d.length;
          aborted++;
          req.destroy(); // the client goes away mid-stream
          ok();
        });
      });
      req.on('error', () => undefined);
      req.setTimeout(10_000, () => fail(new Error('no first byte within 10 s')));
    });
  const started = performance.now();
  for (let i = 0; i < N; i += BATCH) await Promise.all(Array.from({ length: BATCH }, abortOne));
  const seconds = (performance.now() - started) / 1000;
  assert.equal(aborted, N);

  await until(() => upstream.inFlight === 0 && pass.open() === 0, 10_000, `in-flight ${upstream.inFlight}, upstream connections ${pass.open()}`);
  const clientConnections = await new Promise<number>((ok, fail) => gw.server.getConnections((err, n) => (err ? fail(err) : ok(n))));
  await until(async () => (await new Promise<number>((ok) => gw.server.getConnections((_e, n) => ok(n)))) === 0, 5000, `client connections ${clientConnections}`);
  assert.equal(upstream.inFlight, 0, 'the registry counts nothing in flight');
  assert.equal(pass.open(), 0, 'every upstream connection of an aborted stream was closed (none pooled half-read)');
  assert.deepEqual(listenerTotals(process), before.process, 'no listener added to process');
  assert.deepEqual(listenerTotals(gw.server), before.server, 'no listener added to the server');
  assert.deepEqual(
    warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
    [],
    'no MaxListenersExceededWarning',
  );
  const access = gw.logs.filter((l) => l.message === 'access' && l.route === 'log');
  await until(() => gw.logs.filter((l) => l.message === 'access' && l.route === 'log').length === N + 1, 5000, 'one access line per request');

  // Still serving, the same Entrance included, over a fresh pooled connection.
  sim.hugeLogBytes = undefined;
  const after = await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(id)}/status`, { headers: asUser() });
  assert.equal(after.status, 200, after.text);
  assert.ok(access.length > 0);
  console.log(
    `faults-load (a): ${N + 2} requests tried, ${N} faults injected (client aborts mid-stream of a 50 MB log, ${(bytes / 1024).toFixed(0)} KB read in ${seconds.toFixed(1)} s), ` +
      `upstream connections opened ${pass.opened()} / open after ${pass.open()}, in-flight after 0, requests lost 0`,
  );
});

test('(b) proxy.properties replaced with garbage while requests are in flight: all answered, the old rules stay', async (t) => {
  const sims = await startSimulators(2);
  t.after(async () => {
    for (const s of sims) await s.close();
  });
  const conf = writeConf({ 'gateway.entrance.instances': sims.map((s) => s.instance).join(','), 'gateway.health.check.mode': 'off', 'gateway.ratelimit.client.limit': '0', 'gateway.ratelimit.user.limit': '0', 'gateway.upstream.max.per.user': '0', 'gateway.upstream.max.per.client': '0' });
  const gw = await startMain(conf);
  t.after(() => gw.stop('SIGKILL'));
  const file = join(conf, 'proxy.properties');
  // A job for each user on each Entrance: an Entrance answers a follow-up for another user's job with an error.
  const ids = { alice: await Promise.all(sims.map((s) => jobDirect(s, 'alice'))), bob: await Promise.all(sims.map((s) => jobDirect(s, 'bob'))) };
  const refused = () => gw.lines().filter((l) => l.event === 'allowlist.reload' && l.ok === false).length;

  let tried = 0;
  const statuses = new Map<number, number>();
  const fire = (k: number) =>
    Promise.all(
      Array.from({ length: k }, async (_, i) => {
        tried++;
        const user = (i >> 1) % 2 ? 'bob' : 'alice';
        const url = `${gw.url}${ENTRANCE}/${encodeURIComponent(ids[user][i % 2])}/${i % 3 === 0 ? 'progress' : 'status'}`;
        const r = await call(url, { headers: asUser(user, i % 5 === 0 ? OTHER_TOKEN : TOKEN) });
        assert.ok(isEnvelope(r.body), r.text);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }),
    );

  // 200 in flight; the file is overwritten in place with garbage while they run.
  const wave1 = fire(200);
  writeFileSync(file, Buffer.concat([Buffer.from('=====\n\\u12\nshort=alice\n'), randomBytes(512), Buffer.from('\n\xff\xfe\n')]));
  await wave1;
  await until(() => refused() >= 1, 5000, 'the garbage file was refused');

  // 200 more in flight; garbage swapped in by rename (what editors and ConfigMaps do).
  const wave2 = fire(200);
  writeFileSync(join(conf, '.proxy.tmp'), `${TOKEN}=alice,bob\n${TOKEN}=carol\n${'x'.repeat(3)}=bob\n`);
  renameSync(join(conf, '.proxy.tmp'), file);
  await wave2;
  await until(() => refused() >= 2, 5000, 'the second garbage file was refused');
  await fire(100);

  assert.deepEqual([...statuses.entries()], [[200, tried]], 'every request answered 200 under the old rules');
  assert.equal(gw.child.exitCode, null, 'the gateway still runs');
  // The old rules are still those in force: carol (from the garbage) is not allowed, alice and bob are.
  assert.equal((await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(ids.alice[0])}/status`, { headers: asUser('carol', TOKEN) })).status, 403);
  // A good file applies again.
  writeFileSync(file, `${TOKEN}=carol\n`);
  await until(async () => (await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(ids.alice[0])}/status`, { headers: asUser('carol', TOKEN) })).status !== 403, 5000, 'a good file applies');
  writeFileSync(file, DEFAULT_PROXY_PROPERTIES);
  console.log(`faults-load (b): ${tried} requests tried while proxy.properties was replaced with garbage, 2 faults injected (in-place garbage, renamed-in garbage), ${refused()} reloads refused, requests lost 0`);
  assert.equal(await gw.stop(), 0);
});

test('(c) 500 concurrent submissions across 3 Entrances, one closed midway: each answered once, no job twice, no success without its job', async (t) => {
  const sims = await startSimulators(3);
  t.after(async () => {
    for (const s of sims) await s.close();
  });
  const [a, b, c] = sims;
  const gw = await startGateway(sims, { settings: { 'gateway.ratelimit.client.limit': '0', 'gateway.ratelimit.user.limit': '0', 'gateway.upstream.max.per.user': '0', 'gateway.upstream.max.per.client': '0' } });
  t.after(() => gw.close());

  const N = 500;
  const KILL_AFTER = 150;
  let answered = 0;
  let killed: Promise<void> | undefined;
  const results = await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      const requestId = `load-${i}`;
      try {
        const r = await call(`${gw.url}${ENTRANCE}/submit`, {
          method: 'POST',
          headers: { ...asUser(i % 2 ? 'bob' : 'alice'), 'content-type': 'application/json', 'x-request-id': requestId },
          body: JSON.stringify({ executionContent: { code: `select ${i}`, runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'x-IDE' } }),
          signal: AbortSignal.timeout(20_000),
        });
        return { requestId, status: r.status, body: r.body, text: r.text };
      } catch (err) {
        return { requestId, status: 0, body: undefined, text: String(err) };
      } finally {
        if (++answered === KILL_AFTER) killed = c.close(); // the Entrance dies with submissions in flight
      }
    }),
  );
  await killed;

  const byStatus = new Map<number, number>();
  for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
  const lost = results.filter((r) => r.status === 0 || !isEnvelope(r.body));
  assert.deepEqual(lost.map((r) => `${r.requestId}: ${r.text.slice(0, 200)}`), [], 'every submission got an envelope answer');
  for (const r of results) {
    if (r.status === 200) continue;
    assert.ok(r.status >= 500, `${r.requestId}: ${r.status} ${r.text}`);
    assert.equal(r.body.status, 1);
    assert.ok(['UPSTREAM_RESET', 'UPSTREAM_REFUSED', 'NO_HEALTHY_UPSTREAM'].includes(r.body.data.errorCode), `${r.requestId}: ${r.text}`);
    if (r.body.data.errorCode !== 'NO_HEALTHY_UPSTREAM') assert.equal(r.body.data.instance, c.instance, 'only the closed Entrance failed');
  }

  const ok = results.filter((r) => r.status === 200);
  const execIds = ok.map((r) => r.body.data.execID as string);
  assert.equal(new Set(execIds).size, execIds.length, 'no execID answered twice');
  const holder = (id: string) => sims.find((s) => s.jobs.has(id));
  const missing = execIds.filter((id) => !holder(id));
  assert.deepEqual(missing, [], 'every 200 names a job that exists');

  // Each client request reached at most one Entrance, once: failover never repeats a submission.
  const seen = new Map<string, number>();
  for (const s of sims) for (const r of s.received) if (r.path.endsWith('/submit')) seen.set(String(r.headers['x-request-id']), (seen.get(String(r.headers['x-request-id'])) ?? 0) + 1);
  const twice = [...seen.entries()].filter(([, k]) => k > 1);
  assert.deepEqual(twice, [], 'no submission reached an Entrance twice');
  const jobs = sims.reduce((n, s) => n + s.jobs.size, 0);
  assert.equal(jobs, [...seen.values()].reduce((x, y) => x + y, 0), 'one job per submission received');
  // Jobs without a 200: created on the closed Entrance, whose answer was cut (the client got a 502, not a retry).
  const matched = new Set(execIds);
  const orphans = sims.flatMap((s) => [...s.jobs.keys()].filter((id) => !matched.has(id)).map((id) => ({ id, on: s.instance })));
  assert.ok(orphans.every((o) => o.on === c.instance), `orphan jobs only on the closed Entrance: ${JSON.stringify(orphans)}`);
  const resets = results.filter((r) => r.body?.data?.errorCode === 'UPSTREAM_RESET').length;
  assert.ok(orphans.length <= resets, `${orphans.length} orphan jobs, ${resets} answers saying the connection broke`);
  assert.equal(jobs, ok.length + orphans.length, 'jobs across the three Entrances = 200 answers (+ jobs whose answer the dying Entrance cut)');
  assert.ok(a.jobs.size > 0 && b.jobs.size > 0 && c.jobs.size > 0);

  // Still serving; the closed one is out of the rotation.
  const after = await submit(gw);
  assert.equal(after.status, 200);
  console.log(
    `faults-load (c): ${N} submissions tried, 1 fault injected (Entrance ${c.instance} closed after ${KILL_AFTER} answers), ` +
      `answers ${JSON.stringify(Object.fromEntries(byStatus))}, jobs ${jobs} (a ${a.jobs.size}, b ${b.jobs.size}, c ${c.jobs.size}; ${orphans.length} cut on the dying Entrance), ` +
      `submissions received twice 0, requests lost ${lost.length}`,
  );
});
