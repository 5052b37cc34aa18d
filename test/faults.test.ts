/**
 * Upstream failures become Linkis envelopes, never crashes or HTML: Entrances that are down, hang,
 * answer garbage or foreign error pages, or die mid-answer; clients that leave mid-stream; and a 200 MB
 * log streamed through with flat memory. Real servers on 127.0.0.1 port 0, no mocks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EntranceSimulator } from '../src/simulator/entrance';
import { createTicketCodec } from '../src/linkis/ticket';
import { ENTRANCE, asUser, call, isEnvelope, startAll, startGateway, startSimulators, startTcpPassThrough, submit } from './support/harness';

const codec = createTicketCodec('bdp-for-server');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function statusUrl(gwUrl: string, execId: string, op = 'status'): string {
  return `${gwUrl}${ENTRANCE}/${encodeURIComponent(execId)}/${op}`;
}

/** Submits until `sim` holds a job; returns its execID. */
async function jobOn(gw: Parameters<typeof submit>[0], sim: EntranceSimulator): Promise<string> {
  for (let i = 0; i < 4; i++) {
    const r = await submit(gw);
    assert.equal(r.status, 200);
    if (sim.jobs.has(r.body.data.execID)) return r.body.data.execID;
  }
  throw new Error(`no job landed on ${sim.instance}`);
}

test('a closed Entrance: follow-ups get 503 UPSTREAM_REFUSED naming it; submissions fail over exactly once', async (t) => {
  const { sims, gw } = await startAll(t, 2);
  const [a, b] = sims;
  const idA = await jobOn(gw, a);
  const idB = await jobOn(gw, b);

  await a.close();
  // Let the gateway's pooled keep-alive socket to `a` see its close, so the next call really connects.
  await sleep(50);
  const r = await call(statusUrl(gw.url, idA));
  const rAuth = await call(statusUrl(gw.url, idA), { headers: asUser() });
  assert.equal(r.status, 401, 'auth still comes first');
  assert.equal(rAuth.status, 503, rAuth.text);
  assert.ok(isEnvelope(rAuth.body));
  assert.equal(rAuth.body.status, 1);
  assert.equal(rAuth.body.data.errorCode, 'UPSTREAM_REFUSED');
  assert.equal(rAuth.body.data.instance, a.instance);
  assert.ok(rAuth.body.message.includes(a.instance), rAuth.body.message);
  assert.equal(rAuth.headers.get('content-type'), 'application/json;charset=UTF-8');

  // The live one still answers its own follow-ups.
  const rb = await call(statusUrl(gw.url, idB), { headers: asUser() });
  assert.equal(rb.status, 200);

  // Every submission succeeds on the live Entrance, each submitted exactly once.
  const jobsBefore = b.jobs.size;
  const submitsBefore = b.received.filter((x) => x.path.endsWith('/submit')).length;
  const N = 6;
  const results = await Promise.all(Array.from({ length: N }, () => submit(gw)));
  for (const res of results) {
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 0);
    assert.ok(b.jobs.has(res.body.data.execID));
  }
  assert.equal(new Set(results.map((x) => x.body.data.execID)).size, N);
  assert.equal(a.jobs.size + b.jobs.size - jobsBefore - 1, N, 'jobs across Entrances equal successful submissions');
  assert.equal(b.jobs.size - jobsBefore, N);
  assert.equal(b.received.filter((x) => x.path.endsWith('/submit')).length - submitsBefore, N);

  // All dead: a clear 503 envelope.
  await b.close();
  await sleep(50);
  for (let i = 0; i < 3; i++) {
    const dead = await submit(gw);
    assert.equal(dead.status, 503, JSON.stringify(dead.body));
    assert.ok(isEnvelope(dead.body));
    assert.equal(dead.body.status, 1);
    assert.ok(['UPSTREAM_REFUSED', 'NO_HEALTHY_UPSTREAM'].includes(dead.body.data.errorCode), dead.body.data.errorCode);
  }
  const health = await call(`${gw.url}/health`);
  assert.equal(health.status, 200);
});

test("mode 'hang': 504 UPSTREAM_TIMEOUT after the response timeout", async (t) => {
  const { sims, gw } = await startAll(t, 1, { 'gateway.upstream.response.timeout.ms': '300' });
  const [sim] = sims;
  const id = await jobOn(gw, sim);
  sim.mode = 'hang';
  const started = performance.now();
  const r = await call(statusUrl(gw.url, id), { headers: asUser() });
  const elapsed = performance.now() - started;
  assert.equal(r.status, 504, r.text);
  assert.ok(isEnvelope(r.body));
  assert.equal(r.body.status, 1);
  assert.equal(r.body.data.errorCode, 'UPSTREAM_TIMEOUT');
  assert.equal(r.body.data.instance, sim.instance);
  assert.ok(elapsed >= 250 && elapsed < 1000, `answered after ${elapsed.toFixed(0)} ms`);

  // A submission that hangs is not retried elsewhere either: it times out.
  const before = sim.received.length;
  const s = await submit(gw);
  assert.equal(s.status, 504);
  assert.equal(sim.received.length, before + 1);

  sim.mode = 'normal';
  const again = await call(statusUrl(gw.url, id), { headers: asUser() });
  assert.equal(again.status, 200, again.text);
});

test("foreign answers: 'garbage' → 502, 'html-error' keeps 502 with the title, 'spring-error' keeps 500", async (t) => {
  const { sims, gw } = await startAll(t, 1);
  const [sim] = sims;
  const id = await jobOn(gw, sim);

  sim.mode = 'garbage';
  const g = await call(statusUrl(gw.url, id), { headers: asUser() });
  assert.equal(g.status, 502, g.text);
  assert.ok(isEnvelope(g.body), g.text);
  assert.equal(g.body.status, 1);
  assert.equal(g.body.data.errorCode, 'UPSTREAM_BAD_ANSWER');
  assert.equal(g.body.data.instance, sim.instance);
  assert.equal(g.body.method, `${ENTRANCE}/${encodeURIComponent(id)}/status`);

  // Garbage on a submission too (the job was created before the answer broke).
  const gs = await submit(gw);
  assert.equal(gs.status, 502);
  assert.equal(gs.body.data.errorCode, 'UPSTREAM_BAD_ANSWER');

  sim.mode = 'html-error';
  const h = await call(statusUrl(gw.url, id, 'log?fromLine=0&size=5'), { headers: asUser() });
  assert.equal(h.status, 502, h.text);
  assert.ok(isEnvelope(h.body), h.text);
  assert.equal(h.body.status, 1);
  assert.match(h.body.message, /502 Bad Gateway/);
  assert.equal(h.body.data.upstreamStatus, 502);
  assert.equal(h.body.data.instance, sim.instance);
  assert.ok(!h.text.includes('<html'), 'no HTML reaches the client');
  assert.match(h.headers.get('content-type') ?? '', /^application\/json/);

  sim.mode = 'spring-error';
  const s = await call(statusUrl(gw.url, id, 'progress'), { headers: asUser() });
  assert.equal(s.status, 500, s.text);
  assert.ok(isEnvelope(s.body), s.text);
  assert.equal(s.body.status, 1);
  assert.match(s.body.message, /Internal Server Error/);
  assert.equal(s.body.data.upstreamStatus, 500);
  assert.ok(!('timestamp' in s.body), 'the Spring JSON itself is not passed on');

  sim.mode = 'normal';
  const ok = await call(statusUrl(gw.url, id), { headers: asUser() });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.status, 0);
});

test("mode 'die-mid-response': an envelope or an aborted response, never a spliced success", async (t) => {
  const { sims, gw } = await startAll(t, 1);
  const [sim] = sims;
  const id = await jobOn(gw, sim);
  sim.mode = 'die-mid-response';
  // Small answers (with a Content-Length) are read whole before the gateway sends anything, so an
  // Entrance dying half-way is reported as what it is.
  for (const op of ['status', 'progress', 'log?fromLine=0&size=5']) {
    const r = await call(statusUrl(gw.url, id, op), { headers: asUser() });
    assert.equal(r.status, 502, `${op}: ${r.text}`);
    assert.ok(isEnvelope(r.body), r.text);
    assert.equal(r.body.status, 1);
    assert.equal(r.body.data.errorCode, 'UPSTREAM_RESET');
    assert.equal(r.body.data.instance, sim.instance);
  }
  // A streamed answer (a huge log, chunked) is already on its way when the Entrance dies: the status line
  // went out, so the client's body read must fail rather than end as if complete.
  sim.hugeLogBytes = 10 * 1024 * 1024;
  for (let i = 0; i < 2; i++) {
    const res = await fetch(statusUrl(gw.url, id, 'log?fromLine=0&size=-1'), { headers: asUser(), signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    await assert.rejects(res.arrayBuffer(), (e: Error) => e.name !== 'TimeoutError' && e.name !== 'AbortError', 'the body read rejects');
  }
  // The gateway keeps serving, on the same and on fresh connections.
  sim.mode = 'normal';
  sim.hugeLogBytes = undefined;
  for (let i = 0; i < 3; i++) {
    const r = await call(statusUrl(gw.url, id), { headers: asUser() });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.status, 0);
  }
  assert.equal((await call(`${gw.url}/health`)).status, 200);
  assert.ok(!gw.logs.some((l) => l.level === 'error'), 'no unexpected errors logged');
});

test('an Entrance killed while the gateway holds keep-alive sockets to it: envelope, others still served', async (t) => {
  const { sims, gw } = await startAll(t, 2);
  const [a, b] = sims;
  const idA = await jobOn(gw, a);
  const idB = await jobOn(gw, b);
  // Several concurrent calls leave several pooled keep-alive sockets to `a`.
  const warm = await Promise.all(Array.from({ length: 4 }, () => call(statusUrl(gw.url, idA, 'progress'), { headers: asUser() })));
  for (const w of warm) assert.equal(w.status, 200);

  // No pause: the next call races the sockets' close.
  await a.close();
  for (let i = 0; i < 3; i++) {
    const r = await call(statusUrl(gw.url, idA), { headers: asUser() });
    assert.ok(r.status === 503 || r.status === 502, `${r.status} ${r.text}`);
    assert.ok(isEnvelope(r.body), r.text);
    assert.equal(r.body.status, 1);
    assert.ok(['UPSTREAM_REFUSED', 'UPSTREAM_RESET'].includes(r.body.data.errorCode), r.body.data.errorCode);
    assert.equal(r.body.data.instance, a.instance);
  }
  const rb = await call(statusUrl(gw.url, idB), { headers: asUser() });
  assert.equal(rb.status, 200);
  assert.equal(rb.body.data.execID, idB);
  const s = await submit(gw);
  assert.equal(s.status, 200);
  assert.ok(b.jobs.has(s.body.data.execID));
});

test('a client aborting a huge log mid-stream: the gateway closes its upstream request', async (t) => {
  const [sim] = await startSimulators(1);
  t.after(() => sim.close());
  const pass = await startTcpPassThrough(sim.port);
  t.after(() => pass.close());
  const gw = await startGateway([sim], { instances: [{ name: sim.instance, url: pass.url }] });
  t.after(() => gw.close());

  // The job is made directly on the Entrance so the log request is the only upstream connection.
  const direct = await call(`${sim.url}${ENTRANCE}/submit`, {
    method: 'POST',
    headers: { cookie: `linkis_user_session_ticket_id_v1=${codec.mint('alice')}; dataworkcloud_inner_request=true`, 'content-type': 'application/json' },
    body: JSON.stringify({ executionContent: { code: 'x', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' } }),
  });
  assert.equal(direct.status, 200);
  const id = direct.body.data.execID;
  sim.hugeLogBytes = 100 * 1024 * 1024;

  const upstream = gw.registry.get(sim.instance)!;
  const ac = new AbortController();
  const res = await fetch(statusUrl(gw.url, id, 'log?fromLine=0&size=-1'), { headers: asUser(), signal: ac.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let got = 0;
  for (let i = 0; i < 4; i++) {
    const { value, done } = await reader.read();
    assert.ok(!done);
    got += value!.length;
  }
  assert.ok(got > 0 && got < sim.hugeLogBytes);
  assert.equal(pass.opened(), 1);
  assert.equal(pass.open(), 1, 'the upstream connection is open while streaming');
  assert.equal(upstream.inFlight, 1);
  ac.abort();
  await assert.rejects(reader.read());

  const deadline = Date.now() + 3000;
  while ((pass.open() > 0 || upstream.inFlight > 0) && Date.now() < deadline) await sleep(10);
  assert.equal(pass.open(), 0, 'the gateway closed its connection to the Entrance');
  assert.equal(upstream.inFlight, 0, 'the upstream request is over');

  // Still serving, the same Entrance included.
  sim.hugeLogBytes = undefined;
  const after = await call(statusUrl(gw.url, id, 'log?fromLine=0&size=5'), { headers: asUser() });
  assert.equal(after.status, 200, after.text);
  assert.equal(after.body.data.fromLine, 5);
  // Access lines are written in batches (at most 50 ms late).
  const aborted = () => gw.logs.some((l) => l.message === 'access' && l.route === 'log' && l.completed === false);
  for (let i = 0; i < 100 && !aborted(); i++) await sleep(10);
  assert.ok(aborted(), 'the aborted stream is logged as not completed');
});

test('a 200 MB log streams through with flat memory', async (t) => {
  const { sims, gw } = await startAll(t, 1);
  const [sim] = sims;
  const id = await jobOn(gw, sim);
  const SIZE = 200 * 1024 * 1024;
  sim.hugeLogBytes = SIZE;

  // The gateway, the simulator and this client all run in this process, so RSS covers all three: the
  // bound below holds for the whole pipeline, which is stricter than for the gateway alone.
  const baseline = process.memoryUsage().rss;
  let maxRss = baseline;
  const sampler = setInterval(() => {
    maxRss = Math.max(maxRss, process.memoryUsage().rss);
  }, 100);
  t.after(() => clearInterval(sampler));

  const started = performance.now();
  const res = await fetch(statusUrl(gw.url, id, 'log?fromLine=0&size=-1'), { headers: asUser(), signal: AbortSignal.timeout(30_000) });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), null, 'streamed, not buffered into one length');
  const reader = res.body!.getReader();
  let bytes = 0;
  let head = '';
  let last = 0;
  // Buffers and heaps settle during the first tens of megabytes; after that, memory must not move.
  const WARM_UP = 50 * 1024 * 1024;
  let warmRss = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (head.length < 10) head += Buffer.from(value.subarray(0, 10)).toString('latin1');
    bytes += value.length;
    last = value[value.length - 1];
    if (warmRss === 0 && bytes >= WARM_UP) warmRss = Math.max(maxRss, process.memoryUsage().rss);
  }
  clearInterval(sampler);
  maxRss = Math.max(maxRss, process.memoryUsage().rss);
  const seconds = (performance.now() - started) / 1000;
  const growthMb = (maxRss - baseline) / (1024 * 1024);
  const afterWarmUpMb = (maxRss - warmRss) / (1024 * 1024);
  console.log(
    `200 MB log: ${bytes} bytes in ${seconds.toFixed(2)} s (${(bytes / 1024 / 1024 / seconds).toFixed(0)} MB/s); ` +
      `RSS baseline ${(baseline / 1024 / 1024).toFixed(1)} MB, max growth ${growthMb.toFixed(1)} MB, ` +
      `of which ${afterWarmUpMb.toFixed(1)} MB after the first 50 MB`,
  );

  assert.equal(bytes, SIZE);
  assert.ok(head.startsWith('{"method":'), head);
  assert.equal(String.fromCharCode(last), '}');
  assert.ok(growthMb < 100, `RSS grew by ${growthMb.toFixed(1)} MB while streaming 200 MB`);
  assert.ok(warmRss > 0);
  assert.ok(afterWarmUpMb < 50, `RSS grew by ${afterWarmUpMb.toFixed(1)} MB over the last 150 MB: not flat`);
});
