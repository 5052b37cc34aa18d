/**
 * Success answers of no declared length (chunked) and large ones: a small chunked answer is checked whole
 * like one with a Content-Length; a large one streams, and must end like an envelope or the client's
 * connection is cut before its last bytes. A raw TCP "Entrance" answers exact bytes behind a real gateway.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { asUser, call, isEnvelope, startGateway, type TestGateway } from '../support/harness';
import { RAW_INSTANCE, RAW_STATUS_PATH, httpAnswer, startRawUpstream } from '../support/raw-upstream';

type T = { after: (fn: () => unknown) => void };
const MAX_READ_BODY = 256 * 1024;

function chunked(body: string, pieces = 3): string {
  const size = Math.max(1, Math.ceil(body.length / pieces));
  let out = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
  for (let i = 0; i < body.length; i += size) {
    const part = body.slice(i, i + size);
    out += `${Buffer.byteLength(part, 'latin1').toString(16)}\r\n${part}\r\n`;
  }
  return `${out}0\r\n\r\n`;
}

const envelope = (log = '') => JSON.stringify({ method: RAW_STATUS_PATH, status: 0, message: 'OK', data: { log } });

async function behind(t: T, answer: () => string, settings: Record<string, string> = {}): Promise<TestGateway> {
  const up = await startRawUpstream(answer);
  const gw = await startGateway([], { instances: [{ name: RAW_INSTANCE, url: up.url }], settings: { 'gateway.health.check.mode': 'off', ...settings } });
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  return gw;
}

/** The client's view: status and body, or that the body read failed (a cut connection). */
async function fetchStatus(gw: TestGateway): Promise<{ status: number; text?: string; failed: boolean }> {
  // Cut before anything went out, the client sees no status line at all: that is a failed read too.
  const res = await fetch(`${gw.url}${RAW_STATUS_PATH}`, { headers: asUser(), signal: AbortSignal.timeout(10_000) }).catch(() => null);
  if (!res) return { status: 0, failed: true };
  try {
    return { status: res.status, text: await res.text(), failed: false };
  } catch {
    return { status: res.status, failed: true };
  }
}

test('a small chunked success that is not an envelope is a 502 envelope, as with a Content-Length', async (t) => {
  let body = '';
  const gw = await behind(t, () => chunked(body));
  for (const bad of ['{ this is not JSON <html>', JSON.stringify({ timestamp: 1, status: 500, error: 'Internal Server Error', path: '/x' }), `${envelope()} trailing`]) {
    body = bad;
    const r = await call(`${gw.url}${RAW_STATUS_PATH}`, { headers: asUser() });
    assert.equal(r.status, 502, `${bad}: ${r.text}`);
    assert.ok(isEnvelope(r.body), r.text);
    assert.equal(r.body.data.errorCode, 'UPSTREAM_BAD_ANSWER');
  }
  body = envelope('small');
  const ok = await call(`${gw.url}${RAW_STATUS_PATH}`, { headers: asUser() });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.text, body, 'byte for byte');
});

test('a large chunked envelope streams through byte for byte', async (t) => {
  const body = envelope('x'.repeat(3 * MAX_READ_BODY));
  const gw = await behind(t, () => chunked(body, 7));
  const r = await fetchStatus(gw);
  assert.equal(r.status, 200);
  assert.equal(r.failed, false);
  assert.equal(r.text, body);
});

test('a large answer that starts like an envelope but does not end like one: cut before its last bytes', async (t) => {
  const start = `{"method":"/m","status":0,"message":"OK","data":{"log":"${'x'.repeat(2 * MAX_READ_BODY)}`;
  let answer = '';
  const gw = await behind(t, () => answer);
  for (const [name, bytes] of [
    ['chunked', chunked(`${start}"}} <html>`, 5)],
    ['Content-Length', httpAnswer('HTTP/1.1 200 OK', [['Content-Type', 'application/json']], `${start}"}}\n<html></html>\n`)],
  ]) {
    answer = bytes!;
    const r = await fetchStatus(gw);
    assert.equal(r.failed, true, `${name}: the client's read fails (got ${r.text?.length} bytes)`);
  }
  await new Promise((ok) => setTimeout(ok, 50));
  const cut = gw.logs.filter((l) => l.message === 'access' && l.errorCode === 'UPSTREAM_BAD_ANSWER');
  assert.equal(cut.length, 2, 'the access lines say why');
  assert.ok(cut.every((l) => l.completed === false));
  // Ending with spaces after the closing brace is still an envelope's end.
  answer = httpAnswer('HTTP/1.1 200 OK', [['Content-Type', 'application/json']], `${start}"}}\r\n  \n`);
  const fine = await fetchStatus(gw);
  assert.equal(fine.failed, false);
  assert.equal(fine.text, `${start}"}}\r\n  \n`);
});

test('a small chunked answer that goes silent half-way: 504 envelope, nothing sent before', async (t) => {
  const partial = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{"method":"/m","\r\n';
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined).once('data', () => s.write(partial));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  t.after(() => new Promise<void>((ok) => (sockets.forEach((s) => s.destroy()), server.close(() => ok()))));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const gw = await startGateway([], { instances: [{ name: RAW_INSTANCE, url }], settings: { 'gateway.upstream.response.timeout.ms': '300', 'gateway.health.check.mode': 'off' } });
  t.after(() => gw.close());
  const r = await call(`${gw.url}${RAW_STATUS_PATH}`, { headers: asUser() });
  assert.equal(r.status, 504, r.text);
  assert.ok(isEnvelope(r.body), r.text);
  assert.equal(r.body.data.errorCode, 'UPSTREAM_TIMEOUT');
});

test('property: a clean 200 carries an envelope (small) or what starts with { and ends with } (large), whatever the framing', async (t) => {
  let answer = '';
  const gw = await behind(t, () => answer);
  const small = fc.oneof(
    fc.constant(envelope('ok')),
    fc.string({ maxLength: 40 }),
    fc.constantFrom('{}', '{"status":0}', '<html/>', `${envelope()}x`, ` ${envelope()} `),
  );
  const large = fc.tuple(fc.constantFrom('{', ' {', '[', 'x'), fc.constantFrom('}', '} \n', ']', '"', '}x')).map(([a, z]) => `${a}"log":"${'y'.repeat(MAX_READ_BODY + 10)}"${z}`);
  await fc.assert(
    fc.asyncProperty(fc.oneof(small, large), fc.boolean(), async (body, useChunks) => {
      answer = useChunks ? chunked(body, 4) : httpAnswer('HTTP/1.1 200 OK', [['Content-Type', 'application/json']], body);
      const r = await fetchStatus(gw);
      if (r.failed || r.status !== 200) return;
      assert.equal(r.text, body, 'a 200 is the upstream body, byte for byte');
      const trimmed = body.trim();
      if (body.length <= MAX_READ_BODY) assert.ok(isEnvelope(JSON.parse(body)), `passed as an envelope: ${body.slice(0, 60)}`);
      else assert.ok(trimmed.startsWith('{') && trimmed.endsWith('}'), `passed large: ${body.slice(0, 10)}…${body.slice(-10)}`);
    }),
    { numRuns: 40 },
  );
});
