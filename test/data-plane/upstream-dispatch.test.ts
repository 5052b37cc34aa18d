/**
 * The upstream leg on undici (forward.ts, upstream-dispatch.ts, upstream-connections.ts): the cheap check
 * of small successes, the answer's headers for the client, the idle watch's timing, and against real
 * sockets the gateway's own connect and idle timeouts (at millisecond precision, before and during an
 * answer) and the end of an upstream request whose client left (its connection closed, no new one opened).
 */
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { envelopeShaped } from '../../src/data-plane/envelope-shape';
import { forwardedHeaders } from '../../src/data-plane/upstream-answer';
import { isEnvelope as isLinkisEnvelope } from '../../src/linkis/envelope';
import { IdleWatch } from '../../src/data-plane/upstream-connections';
import { ENTRANCE, TOKEN, asUser, call, isEnvelope, jobDirect, startGateway, startSimulators, startTcpPassThrough } from '../support/harness';
import { startBlackhole } from '../support/process-harness';
import { parseResponses, slowReader } from '../support/raw-http';
import { RAW_INSTANCE, RAW_STATUS_PATH } from '../support/raw-upstream';

type T = { after: (fn: () => unknown) => void };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A declared length above what is read whole (MAX_READ_BODY): such an answer streams from its first bytes. */
const STREAMED_LENGTH = 1_000_000;
const ENVELOPE = { method: '/api/rest_j/v1/entrance/x/status', status: 0, message: 'OK', data: { status: 'Running', execID: 'x' } };

test('envelopeShaped: envelopes pass whatever their key order, spacing and string contents; what is not one does not', () => {
  const yes = [
    JSON.stringify(ENVELOPE),
    JSON.stringify(ENVELOPE, null, 2),
    `  \r\n${JSON.stringify(ENVELOPE)}\n`,
    JSON.stringify({ data: { status: 'Failed', method: 1 }, message: 'x', status: -1, method: '/m' }),
    '{"method":null,"status":3,"message":null}',
    '{ "method" : "/m" , "status" : 12 , "message" : "" }',
    // braces, brackets, quotes and key names inside strings are text
    JSON.stringify({ method: '/m"}{[', status: 0, message: 'a \\"status\\": "x" }}]]\\', data: { log: ['{', '"}', '\\'] } }),
  ];
  for (const body of yes) assert.ok(envelopeShaped(Buffer.from(body)), body);
  const no = [
    '',
    '   ',
    '{}',
    '{',
    JSON.stringify(ENVELOPE).slice(0, -1),
    `${JSON.stringify(ENVELOPE)} trailing`,
    `[${JSON.stringify(ENVELOPE)}]`,
    JSON.stringify({ ...ENVELOPE, status: '0' }),
    JSON.stringify({ ...ENVELOPE, status: 0.5 }),
    JSON.stringify({ ...ENVELOPE, status: null }),
    JSON.stringify({ status: 0, message: 'no method' }),
    JSON.stringify({ method: '/m', status: 0 }),
    JSON.stringify({ timestamp: 1, status: 500, error: 'Internal Server Error', message: 'x', path: '/p' }),
    JSON.stringify({ message: 'Cookie: linkis_user_session_ticket_id_v1=abc' }),
    // status only inside data, as a string at the top
    JSON.stringify({ method: '/m', status: 'x', message: 'm', data: { status: 'Running' } }),
    '{"method":"/api/rest_j/v1/entrance/\u0000\u00ff <<not json>> \r\n',
    '<html><head><title>502 Bad Gateway</title></head></html>',
    '{"meth\\"od":"/m","status":0,"message":"m"}',
    // the keys only inside data
    JSON.stringify({ method: '/m', message: 'm', data: { status: 0 } }),
    JSON.stringify({ data: { method: '/m', status: 0, message: 'm' } }),
    // unbalanced, or closed before the end
    '{"method":"/m","status":0,"message":"m","data":{"a":[1,2}}',
    '{"method":"/m","status":0,"message":"m"}{"x":1}',
    '{"method":"/m","status":0,"message":"m","data":"unterminated}',
  ];
  for (const body of no) assert.ok(!envelopeShaped(Buffer.from(body, 'latin1')), body);
});

test('property: envelopeShaped takes every envelope, in any key order and spacing, and nothing without its keys', () => {
  const text = fc.string({ maxLength: 12 });
  const other = fc.constantFrom('data', 'error', 'path', 'timestamp', 'detail');
  const value = fc.oneof(fc.integer({ min: -5, max: 500 }), text, fc.constant(null), fc.dictionary(other, text, { maxKeys: 3 }));
  const envelope = fc.record({ method: fc.option(text), status: fc.integer({ min: -1, max: 99 }), message: fc.option(text), data: fc.dictionary(fc.constantFrom('status', 'method', 'log', 'execID'), value, { maxKeys: 4 }) });
  const shuffled = (o: Record<string, unknown>, order: number[]) => Object.fromEntries(Object.entries(o).map((e, i) => [order[i % order.length]!, e] as const).sort((a, b) => a[0] - b[0]).map(([, e]) => e));
  fc.assert(
    fc.property(envelope, fc.array(fc.integer(), { minLength: 4, maxLength: 4 }), fc.constantFrom(0, 2), (env, order, indent) => {
      const body = Buffer.from(JSON.stringify(shuffled(env, order), null, indent));
      assert.ok(isLinkisEnvelope(JSON.parse(body.toString())));
      assert.ok(envelopeShaped(body), body.toString());
      // Cut anywhere: never an envelope.
      for (let cut = 1; cut < body.length; cut += 7) assert.ok(!envelopeShaped(body.subarray(0, body.length - cut)), body.subarray(0, body.length - cut).toString());
    }),
    { numRuns: 300 },
  );
  // Without a top-level "method" key (Spring errors, echoes, other JSON): never an envelope.
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom('status', 'message', 'error', 'path', 'data'), value, { maxKeys: 6 }), (obj) => {
      assert.ok(!envelopeShaped(Buffer.from(JSON.stringify(obj))), JSON.stringify(obj));
    }),
    { numRuns: 300 },
  );
});

test('forwardedHeaders: lowercased, hop-by-hop and identity cookies dropped, one Content-Length, the request id set', () => {
  const raw = [
    ['Content-Type', 'application/json'],
    ['Content-Length', '12'],
    ['content-length', '12'],
    ['Connection', 'keep-alive'],
    ['Keep-Alive', 'timeout=60'],
    ['Transfer-Encoding', 'chunked'],
    ['X-Request-Id', 'from-upstream'],
    ['Set-Cookie', 'a=1; Path=/'],
    ['Set-Cookie', 'linkis_user_session_ticket_id_v1=forged'],
    ['Set-Cookie', 'b=2'],
    ['X-Odd', 'caf\u00e9'],
  ].flatMap(([k, v]) => [Buffer.from(k!, 'latin1'), Buffer.from(v!, 'latin1')]);
  assert.deepEqual(forwardedHeaders(raw, 'rid-1'), [
    'content-type', 'application/json',
    'content-length', '12',
    'set-cookie', 'a=1; Path=/',
    'set-cookie', 'b=2',
    'x-odd', 'caf\u00e9',
    'x-request-id', 'rid-1',
  ]);
});

test('the idle watch ends a silent request after the timeout, never before, and not while bytes come', async () => {
  const watch = new IdleWatch(200);
  try {
    let idleAt = 0;
    const started = performance.now();
    const quiet = { seen: 0, onIdle: () => (idleAt = performance.now() - started) };
    watch.add(quiet);
    let lively = 0;
    const busy = { seen: 0, onIdle: () => (lively = performance.now() - started) };
    watch.add(busy);
    const feeding = setInterval(() => (busy.seen = watch.tick), 20);
    await sleep(600);
    clearInterval(feeding);
    assert.ok(idleAt >= 200 && idleAt < 600, `silent request ended after ${idleAt.toFixed(0)} ms (timeout 200 ms)`);
    assert.equal(lively, 0, 'a request still receiving bytes is left alone');
    await sleep(450);
    assert.ok(lively >= 600 + 200 - 30, `ended ${lively.toFixed(0)} ms after start, once its bytes stopped at 600 ms`);
    assert.equal(watch.size, 0, 'nothing left to watch: the sweep stops');
  } finally {
    watch.close();
  }
});

/** A raw "Entrance" that sends `head` and then nothing, keeping the connection open. */
async function silentAfter(t: T, head: string): Promise<{ url: string; requests: () => number }> {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => s.destroy()).on('close', () => sockets.delete(s));
    s.once('data', () => {
      requests++;
      s.write(head, 'latin1');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((ok) => server.close(() => ok()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests };
}

async function accessLine(gw: Awaited<ReturnType<typeof startGateway>>, requestId: string): Promise<Record<string, unknown> | undefined> {
  for (let i = 0; i < 100; i++) {
    const line = gw.logs.find((l) => l.requestId === requestId && l.message === 'access');
    if (line) return line;
    await sleep(10);
  }
  return undefined;
}

test('connect timeout at millisecond precision: 504 connect-timeout right after gateway.upstream.connect.timeout.ms', async (t) => {
  const hole = await startBlackhole();
  t.after(() => hole.close());
  const gw = await startGateway([], { instances: [{ name: RAW_INSTANCE, url: hole.url }], settings: { 'gateway.upstream.connect.timeout.ms': '300', 'gateway.health.check.mode': 'off' } });
  t.after(() => gw.close());
  const started = performance.now();
  const r = await call(`${gw.url}${RAW_STATUS_PATH}`, { headers: asUser('alice', undefined, { 'x-request-id': 'dispatch-connect' }) });
  const took = performance.now() - started;
  assert.equal(r.status, 504, r.text);
  assert.equal(r.body.data.errorCode, 'UPSTREAM_TIMEOUT');
  assert.ok(took >= 280 && took < 900, `answered after ${took.toFixed(0)} ms (connect timeout 300 ms; undici's own timer would take about a second)`);
  assert.equal((await accessLine(gw, 'dispatch-connect'))?.failure, 'connect-timeout');
});

test('silent while a small answer is being read: 504 UPSTREAM_TIMEOUT after the response timeout, not a truncated success', async (t) => {
  const up = await silentAfter(t, 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"method":"/m","sta');
  const gw = await startGateway([], { instances: [{ name: RAW_INSTANCE, url: up.url }], settings: { 'gateway.upstream.response.timeout.ms': '400', 'gateway.health.check.mode': 'off' } });
  t.after(() => gw.close());
  const started = performance.now();
  const r = await call(`${gw.url}${RAW_STATUS_PATH}`, { headers: asUser('alice', undefined, { 'x-request-id': 'dispatch-idle-whole' }) });
  const took = performance.now() - started;
  assert.equal(r.status, 504, r.text);
  assert.ok(isEnvelope(r.body), r.text);
  assert.equal(r.body.data.errorCode, 'UPSTREAM_TIMEOUT');
  assert.equal(r.body.data.instance, RAW_INSTANCE);
  assert.ok(took >= 380 && took < 1000, `answered after ${took.toFixed(0)} ms (response timeout 400 ms)`);
  const line = await accessLine(gw, 'dispatch-idle-whole');
  assert.equal(line?.failure, 'timeout');
  assert.equal(line?.upstreamStatus, 200);
  assert.equal(gw.registry.get(RAW_INSTANCE)!.inFlight, 0);
});

test('silent mid-stream: the client gets the status line, then its connection is cut after the response timeout', async (t) => {
  const chunk = `{"method":"/m","status":0,"message":"OK","data":{"log":["${'x'.repeat(200_000)}`;
  const up = await silentAfter(t, `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${STREAMED_LENGTH}\r\n\r\n${chunk}`);
  const gw = await startGateway([], { instances: [{ name: RAW_INSTANCE, url: up.url }], settings: { 'gateway.upstream.response.timeout.ms': '400', 'gateway.health.check.mode': 'off' } });
  t.after(() => gw.close());
  const started = performance.now();
  const res = await fetch(`${gw.url}${RAW_STATUS_PATH}`, { headers: asUser(), signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  await assert.rejects(res.text(), (e: Error) => e.name !== 'TimeoutError' && e.name !== 'AbortError', 'the body read fails: never a success spliced with an error');
  const took = performance.now() - started;
  assert.ok(took >= 380 && took < 1500, `cut after ${took.toFixed(0)} ms (response timeout 400 ms)`);
  assert.equal(gw.registry.get(RAW_INSTANCE)!.inFlight, 0);
});

test('a client leaving mid-answer: the upstream connection is closed and no other one is opened', async (t) => {
  const chunk = `{"method":"/m","status":0,"message":"OK","data":{"log":["${'x'.repeat(200_000)}`;
  const up = await silentAfter(t, `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${STREAMED_LENGTH}\r\n\r\n${chunk}`);
  const pass = await startTcpPassThrough(Number(new URL(up.url).port));
  t.after(() => pass.close());
  const gw = await startGateway([], { instances: [{ name: RAW_INSTANCE, url: pass.url }], settings: { 'gateway.health.check.mode': 'off' } });
  t.after(() => gw.close());
  const ac = new AbortController();
  const res = await fetch(`${gw.url}${RAW_STATUS_PATH}`, { headers: asUser(), signal: ac.signal });
  assert.equal(res.status, 200);
  assert.equal(pass.open(), 1);
  ac.abort();
  const deadline = Date.now() + 3000;
  while ((pass.open() > 0 || gw.registry.get(RAW_INSTANCE)!.inFlight > 0) && Date.now() < deadline) await sleep(10);
  assert.equal(pass.open(), 0, 'the connection to the Entrance is closed');
  assert.equal(gw.registry.get(RAW_INSTANCE)!.inFlight, 0);
  await sleep(100);
  assert.equal(pass.opened(), 1, 'no fresh connection was opened for the ended request');
  assert.equal(up.requests(), 1);
});

test('a slow reader with a second request pipelined behind its log stream: both answered, the log byte for byte', { timeout: 60_000 }, async (t) => {
  // Node emits the stream's 'drain' inside the second answer's write, while undici is still delivering
  // that answer: resuming the stream's parser right there used to stall it for good.
  const SIZE = 16 * 1024 * 1024;
  const [sim] = await startSimulators(1);
  t.after(() => sim.close());
  const logId = await jobDirect(sim);
  const statusId = await jobDirect(sim);
  const gw = await startGateway([sim], { settings: { 'gateway.health.check.mode': 'off' } });
  t.after(() => gw.close());
  sim.hugeLogBytes = SIZE;
  const head = (id: string, op: string, last = false) => `GET ${ENTRANCE}/${encodeURIComponent(id)}/${op} HTTP/1.1\r\nHost: gw\r\nProxy-User: alice\r\nValidation-Code: ${TOKEN}\r\n${last ? 'Connection: close\r\n' : ''}\r\n`;
  const reader = slowReader(Number(new URL(gw.url).port), 4);
  const { socket, chunks, closed } = reader;
  t.after(() => socket.destroy());
  await reader.connected;
  socket.write(head(logId, 'log?fromLine=0&size=-1'));
  while (reader.received < 256 * 1024) await sleep(5);
  await sleep(300); // the socket buffers between gateway and reader fill: the stream waits for 'drain'
  socket.write(head(statusId, 'status', true));
  const deadline = Date.now() + 30_000;
  let last = -1;
  let stalledSince = Date.now();
  while (!socket.destroyed && Date.now() < deadline) {
    await Promise.race([closed, sleep(200)]);
    if (reader.received !== last) [last, stalledSince] = [reader.received, Date.now()];
    assert.ok(Date.now() - stalledSince < 5000, `stalled at ${reader.received} bytes`);
  }
  const [log, status] = parseResponses(Buffer.concat(chunks));
  assert.equal(log?.status, 200);
  assert.equal(log.body.length, SIZE, 'the log arrived complete');
  assert.equal(status?.status, 200);
  assert.equal(JSON.parse(status.body.toString()).data.execID, statusId);
});
