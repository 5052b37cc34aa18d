/**
 * Requests that used to get no envelope, or no answer: no Host (Node's bare 400), CONNECT (a closed
 * connection), an admin path with malformed percent-encoding (500 INTERNAL). And request ids that are a
 * configured token: never echoed, logged or forwarded. Real gateway and simulators on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { ADMIN_TOKEN, startAdmin } from './support/admin-harness';
import { ENTRANCE, OTHER_TOKEN, TOKEN, asUser, call, isEnvelope, jobDirect, startGateway, startSimulators } from './support/harness';
import { rawRequest } from './support/raw-http';

async function setUp(t: { after: (fn: () => unknown) => void }, proxyProperties?: string) {
  const sims = await startSimulators(1);
  const gw = await startGateway(sims, { proxyProperties });
  // What src/main.ts does with its listener (test/hardening-process.test.ts checks the real process).
  (gw.server as unknown as { requireHostHeader: boolean }).requireHostHeader = false;
  gw.server.on('connect', (req, socket) => gw.gateway.onConnect(req, socket));
  t.after(async () => {
    await gw.close();
    for (const s of sims) await s.close();
  });
  return { sim: sims[0]!, gw, port: Number(new URL(gw.url).port) };
}

test('HTTP/1.1 without Host: a 400 BAD_HEADER envelope, not Node\'s bare 400; HTTP/1.0 needs none', async (t) => {
  const { sim, gw, port } = await setUp(t);
  const execId = await jobDirect(sim);
  for (const target of [`${ENTRANCE}/${encodeURIComponent(execId)}/status`, '/health', '/nowhere']) {
    const ex = await rawRequest(port, `GET ${target} HTTP/1.1\r\nProxy-User: alice\r\nValidation-Code: ${TOKEN}\r\nX-Request-Id: no-host-1\r\n\r\n`);
    const r = ex.responses[0]!;
    assert.equal(r?.status, 400, `${target}: ${ex.raw}`);
    const body = JSON.parse(r.body.toString());
    assert.ok(isEnvelope(body));
    assert.equal(body.data.errorCode, 'BAD_HEADER');
    assert.match(body.message, /Host header is missing/);
    assert.equal(body.data.requestId, 'no-host-1');
    assert.ok(ex.closedByServer, 'the connection is closed after it');
  }
  assert.equal(sim.received.filter((q) => q.path.endsWith('/status')).length, 0, 'nothing was forwarded');
  const old = await rawRequest(port, `GET /health HTTP/1.0\r\n\r\n`);
  assert.equal(old.responses[0]?.status, 200, old.raw.toString());
});

test('CONNECT: a 405 envelope and a closed connection; a client that resets at once harms nothing', async (t) => {
  const { gw, port } = await setUp(t);
  const ex = await rawRequest(port, 'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\nX-Request-Id: tunnel-1\r\n\r\n');
  const r = ex.responses[0]!;
  assert.equal(r?.status, 405, ex.raw.toString());
  assert.equal(r.headers.allow, 'GET, POST');
  assert.equal(r.headers['x-request-id'], 'tunnel-1');
  const body = JSON.parse(r.body.toString());
  assert.ok(isEnvelope(body));
  assert.equal(body.data.errorCode, 'METHOD_NOT_ALLOWED');
  assert.equal(body.data.requestId, 'tunnel-1');
  assert.ok(ex.closedByServer);
  // Reset right after the request: the answer's write fails on a socket Node no longer watches.
  for (let i = 0; i < 20; i++) {
    await new Promise<void>((ok) => {
      const s = connect(port, '127.0.0.1', () => {
        s.write('CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\n\r\n');
        s.resetAndDestroy();
        ok();
      });
    });
  }
  const health = await call(`${gw.url}/health`);
  assert.equal(health.status, 200);
});

test('admin path with malformed percent-encoding: 400 BAD_PATH, not 500 INTERNAL', async (t) => {
  const { gw } = await setUp(t);
  const adm = await startAdmin(gw);
  t.after(() => adm.close());
  for (const [method, path] of [['DELETE', 'tokens/%E0%A4%A'], ['POST', 'tokens/%zz/users'], ['PUT', 'tokens/abc%/users']] as const) {
    const r = await call(`${adm.url}/admin/api/${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', 'if-match': '"x"' }, body: '{}' });
    assert.equal(r.status, 400, `${method} ${path}: ${r.text}`);
    assert.ok(isEnvelope(r.body), r.text);
    assert.equal(r.body.data.errorCode, 'BAD_PATH');
  }
  assert.ok(!gw.rawLogs().includes('admin request failed'), 'not logged as an internal failure');
});

test('a request id that is a configured token is not used: not echoed, logged or forwarded', async (t) => {
  // A hex token can look exactly like a W3C trace id: only the allowlist can tell.
  const HEX_TOKEN = '4bf92f3577b34da6a3ce929d0e0e4736';
  const { sim, gw } = await setUp(t, `${TOKEN}=alice,bob\n${OTHER_TOKEN}=*\n${HEX_TOKEN}=carol\n`);
  const execId = await jobDirect(sim);
  const url = `${gw.url}${ENTRANCE}/${encodeURIComponent(execId)}/status`;
  const cases: Array<[string, Record<string, string>]> = [
    ['X-Request-Id = the token used', { 'x-request-id': TOKEN }],
    ['X-Request-Id = another token', { 'x-request-id': OTHER_TOKEN }],
    ['traceparent with a token as trace id', { traceparent: `00-${HEX_TOKEN}-00f067aa0ba902b7-01` }],
    ['both', { 'x-request-id': OTHER_TOKEN, traceparent: `00-${HEX_TOKEN}-00f067aa0ba902b7-01` }],
  ];
  for (const [name, headers] of cases) {
    const before = sim.received.length;
    const ok = await call(url, { headers: asUser('alice', TOKEN, headers) });
    const refused = await call(url, { headers: asUser('mallory', TOKEN, headers) });
    assert.equal(ok.status, 200, `${name}: ${ok.text}`);
    assert.equal(refused.status, 403, name);
    for (const r of [ok, refused]) {
      const id = r.headers.get('x-request-id')!;
      assert.ok(![TOKEN, OTHER_TOKEN, HEX_TOKEN].includes(id), `${name}: echoed ${id}`);
      assert.doesNotMatch(r.text, new RegExp(`${TOKEN}|${OTHER_TOKEN}|${HEX_TOKEN}`), name);
    }
    const forwarded = sim.received.slice(before);
    assert.equal(forwarded.length, 1, name);
    assert.ok(![TOKEN, OTHER_TOKEN, HEX_TOKEN].includes(String(forwarded[0]!.headers['x-request-id'])), name);
    assert.equal(forwarded[0]!.headers.traceparent, undefined, `${name}: the traceparent carrying a token is dropped`);
  }
  await new Promise((ok) => setTimeout(ok, 50));
  for (const secret of [TOKEN, OTHER_TOKEN, HEX_TOKEN]) assert.ok(!gw.rawLogs().includes(secret), `${secret} in the logs`);
  // An ordinary traceparent still names the request, and is forwarded.
  const trace = '0af7651916cd43dd8448eb211c80319c';
  const r = await call(url, { headers: asUser('alice', TOKEN, { traceparent: `00-${trace}-b7ad6b7169203331-01` }) });
  assert.equal(r.headers.get('x-request-id'), trace);
  assert.equal(sim.received.at(-1)!.headers.traceparent, `00-${trace}-b7ad6b7169203331-01`);
});
