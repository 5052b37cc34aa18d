/**
 * What the client gets from an upstream answer the gateway cannot pass on as it is: a status that is not a
 * final HTTP status (Node's writeHead throws on 099 and 000 and would pass 700 on), ticket cookies in
 * Set-Cookie2 or folded into one Set-Cookie. And what the gateway asks for: never a compressed answer.
 * Real sockets: a raw TCP "Entrance" answers exact bytes behind a real gateway.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { asUser, call, isEnvelope, startGateway, type TestGateway } from '../support/harness';
import { rawHead, rawRequest } from '../support/raw-http';
import { RAW_INSTANCE, RAW_STATUS_PATH, httpAnswer, startRawUpstream, type RawUpstream } from '../support/raw-upstream';

const ENVELOPE = JSON.stringify({ method: RAW_STATUS_PATH, status: 0, message: 'OK', data: { status: 'Running' } });

async function behindGateway(t: { after: (fn: () => unknown) => void }, answer: (request: string) => string): Promise<{ up: RawUpstream; gw: TestGateway }> {
  const up = await startRawUpstream(answer);
  const gw = await startGateway([], { instances: [{ name: RAW_INSTANCE, url: up.url }] });
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  return { up, gw };
}

async function accessLine(gw: TestGateway, requestId: string): Promise<Record<string, unknown> | undefined> {
  for (let i = 0; i < 100; i++) {
    const line = gw.logs.find((l) => l.requestId === requestId && l.message === 'access');
    if (line) return line;
    await new Promise((ok) => setTimeout(ok, 10));
  }
  return undefined;
}

test('a status that cannot be a final answer becomes a 502 envelope; the gateway keeps serving', async (t) => {
  let statusLine = '';
  const { gw } = await behindGateway(t, () => httpAnswer(statusLine, [['Content-Type', 'application/json']], ENVELOPE));
  for (const [line, upstreamStatus] of [['HTTP/1.1 099 Odd', 99], ['HTTP/1.1 000 Zero', 0], ['HTTP/1.1 700 Seven', 700], ['HTTP/1.1 999 Nine', 999], ['HTTP/1.1 101 Switching Protocols', 101]] as const) {
    statusLine = line;
    const r = await call(`${gw.url}${RAW_STATUS_PATH}`, { headers: asUser('alice', undefined, { 'x-request-id': `status-${upstreamStatus}` }) });
    assert.equal(r.status, 502, `${line}: ${r.text}`);
    assert.ok(isEnvelope(r.body), r.text);
    assert.equal(r.body.status, 1);
    assert.equal(r.body.data.errorCode, 'UPSTREAM_BAD_ANSWER');
    assert.equal(r.body.data.upstreamStatus, upstreamStatus);
    assert.equal(r.body.data.instance, RAW_INSTANCE);
    assert.equal(r.body.data.requestId, `status-${upstreamStatus}`);
    assert.match(r.body.message, /not a final status \(200-599\)/);
    const access = await accessLine(gw, `status-${upstreamStatus}`);
    assert.equal(access?.errorCode, 'UPSTREAM_BAD_ANSWER', JSON.stringify(access));
    assert.equal(access?.upstreamStatus, upstreamStatus);
  }
  statusLine = 'HTTP/1.1 200 OK';
  const ok = await call(`${gw.url}${RAW_STATUS_PATH}`, { headers: asUser() });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.text, ENVELOPE);
});

test('property: whatever status an upstream sends, the client gets 200-599, and 502 for a non-final one', async (t) => {
  let status = 200;
  const { gw } = await behindGateway(t, () => httpAnswer(`HTTP/1.1 ${String(status).padStart(3, '0')} X`, [['Content-Type', 'application/json']], ENVELOPE));
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.integer({ min: 0, max: 199 }), fc.integer({ min: 200, max: 599 }), fc.integer({ min: 600, max: 999 })), async (s) => {
      status = s;
      const r = await call(`${gw.url}${RAW_STATUS_PATH}`, { headers: asUser() });
      assert.ok(r.status >= 200 && r.status <= 599, `${s} gave ${r.status}`);
      if (s >= 200 && s <= 599 && s !== 407) return assert.equal(r.status, s);
      assert.equal(r.status, 502, `${s}: ${r.text}`);
      assert.ok(isEnvelope(r.body), r.text);
      // 100 Continue to a request that did not ask for it is a broken connection to undici's parser
      // (UPSTREAM_RESET); every other status below 200 reaches the gateway, which refuses it.
      assert.ok(['UPSTREAM_BAD_ANSWER', 'UPSTREAM_RESET'].includes(r.body.data.errorCode), r.text);
    }),
    { numRuns: 80, examples: [[407], [100], [99], [600]] },
  );
});

test('407 from an Entrance is a 502 envelope: proxy credentials are asked of the gateway, not of its client', async (t) => {
  const { gw } = await behindGateway(t, () =>
    httpAnswer('HTTP/1.1 407 Proxy Authentication Required', [['Proxy-Authenticate', 'Basic realm="corp"'], ['Content-Type', 'text/html']], '<html>proxy</html>'),
  );
  const port = Number(new URL(gw.url).port);
  const r = (await rawRequest(port, rawHead('GET', RAW_STATUS_PATH, Object.entries(asUser('alice', undefined, { 'x-request-id': 'p407' }))), { responses: 1 })).responses[0]!;
  assert.equal(r.status, 502);
  assert.equal(r.headers['proxy-authenticate'], undefined);
  const body = JSON.parse(r.body.toString());
  assert.ok(isEnvelope(body), r.body.toString());
  assert.equal(body.data.errorCode, 'UPSTREAM_BAD_ANSWER');
  assert.equal(body.data.upstreamStatus, 407);
  assert.equal(body.data.requestId, 'p407');
  assert.match(body.message, /proxy credentials/);
});

test('Set-Cookie2 and comma-folded Set-Cookie lose ticket cookies like Set-Cookie does', async (t) => {
  const cookies: Array<[string, string]> = [
    ['Set-Cookie', 'keep=1; Path=/'],
    ['Set-Cookie', 'a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT, linkis_user_session_ticket_id_v1=forged; Path=/'],
    ['Set-Cookie', 'b=2, dataworkcloud_inner_request=true'],
    ['Set-Cookie', 'bdp-user-ticket-id=old'],
    ['Set-Cookie', 'later=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/'],
  ];
  let extra: Array<[string, string]> = [['Set-Cookie2', 'c=3; Version=1, "linkis_user_session_ticket_id_v1"="forged"; Version=1']];
  const { gw } = await behindGateway(t, () => httpAnswer('HTTP/1.1 200 OK', [['Content-Type', 'application/json'], ...cookies, ...extra], ENVELOPE));
  const port = Number(new URL(gw.url).port);
  const head = (path: string) => rawHead('GET', path, Object.entries(asUser()));
  const exchange = await rawRequest(port, head(RAW_STATUS_PATH), { responses: 1 });
  let r = exchange.responses[0]!;
  assert.equal(r.status, 200);
  assert.deepEqual(r.headerList.filter(([k]) => k === 'set-cookie').map(([, v]) => v), ['keep=1; Path=/', 'later=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/']);
  assert.equal(r.headers['set-cookie2'], undefined, 'the Set-Cookie2 list carried a ticket');
  assert.ok(!exchange.raw.toString().includes('forged'));

  extra = [['Set-Cookie2', 'c=3; Version=1']];
  r = (await rawRequest(port, head(RAW_STATUS_PATH), { responses: 1 })).responses[0]!;
  assert.equal(r.headers['set-cookie2'], 'c=3; Version=1', 'a harmless Set-Cookie2 passes');
});

test('the client\'s Accept-Encoding is not forwarded: the upstream is asked for identity', async (t) => {
  const { up, gw } = await behindGateway(t, () => httpAnswer('HTTP/1.1 200 OK', [['Content-Type', 'application/json']], ENVELOPE));
  const r = await call(`${gw.url}${RAW_STATUS_PATH}`, { headers: asUser('alice', undefined, { 'accept-encoding': 'gzip, deflate, br' }) });
  assert.equal(r.status, 200, r.text);
  const got = up.requests.at(-1)!;
  assert.match(got, /\r\naccept-encoding: identity\r\n/i);
  assert.doesNotMatch(got, /gzip|deflate|\bbr\b/i);
});

// 101 with an Upgrade header never reaches the gateway as an answer: undici closes the connection of a
// request that asked for no upgrade ("bad upgrade"). forward.ts turns that into the same 502 envelope as
// any status that is not a final answer, instead of a reset (or, as with Node's client, a silent hang).
test('an Entrance switching protocols (101 + Upgrade) is a 502 envelope, not a hang', async (t) => {
  const { gw } = await behindGateway(t, () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  const r = await call(`${gw.url}${RAW_STATUS_PATH}`, { headers: asUser(), signal: AbortSignal.timeout(3000) });
  assert.equal(r.status, 502, r.text);
  assert.equal(r.body.data.errorCode, 'UPSTREAM_BAD_ANSWER');
  assert.equal(r.body.data.upstreamStatus, 101);
});
