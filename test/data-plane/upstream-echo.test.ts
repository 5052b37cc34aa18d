/**
 * An upstream that echoes the request it got (a servlet container's TRACE, an error page printing the
 * headers) holds the ticket the gateway minted for the user. Nothing of it may reach the client: not in
 * UPSTREAM_BAD_ANSWER, not in UPSTREAM_ERROR_ANSWER, whatever the status, content type or page shape.
 * A raw TCP "Entrance" behind a real gateway; the ticket is read from what the upstream really received.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { asUser, call, isEnvelope, startGateway } from '../support/harness';
import { rawHead, rawRequest } from '../support/raw-http';
import { RAW_INSTANCE, RAW_STATUS_PATH, httpAnswer, startRawUpstream, traceEcho } from '../support/raw-upstream';

/** Ways an upstream shows the request back: status line, content type, body. */
const ECHOES: Record<string, (request: string) => string> = {
  'TRACE-style 200 message/http': traceEcho,
  '200 text/plain starting with the echo': (q) => httpAnswer('HTTP/1.1 200 OK', [['Content-Type', 'text/plain']], `You sent:\n${q}`),
  '400 HTML title with the Cookie header': (q) => httpAnswer('HTTP/1.1 400 Bad Request', [['Content-Type', 'text/html']], `<html><head><title>Error 400 Bad ${cookieLine(q)}</title></head><body></body></html>`),
  '405 HTML h1 with the cookie pairs': (q) => httpAnswer('HTTP/1.1 405 Method Not Allowed', [['Content-Type', 'text/html']], `<html><body><h1>${cookieLine(q).replace(/^Cookie:\s*/i, '')}</h1></body></html>`),
  '500 text/plain header dump': (q) => httpAnswer('HTTP/1.1 500 Internal Server Error', [['Content-Type', 'text/plain']], `Headers:\n${q.split('\r\n').slice(1).join('\n')}`),
  '400 Spring JSON quoting the cookie': (q) => httpAnswer('HTTP/1.1 400 Bad Request', [['Content-Type', 'application/json']], JSON.stringify({ timestamp: 1, status: 400, error: 'Bad Request', message: `Invalid ${cookieLine(q)}`, path: '/x' })),
  '502 JSON-escaped, percent-encoded cookie': (q) => httpAnswer('HTTP/1.1 502 Bad Gateway', [['Content-Type', 'application/json']], JSON.stringify({ detail: encodeURIComponent(cookieLine(q)) }).replace(/\//g, '\\/')),
};

function cookieLine(request: string): string {
  return /^cookie:[^\r\n]*/im.exec(request)?.[0] ?? 'no cookie';
}

function ticketIn(request: string): string {
  const t = /linkis_user_session_ticket_id_v1=([^;\r\n]+)/.exec(request)?.[1];
  assert.ok(t && t.length >= 32, `the upstream got no ticket: ${request}`);
  return t;
}

test('no echoed ticket, cookie or request line reaches the client, for every way of echoing', async (t) => {
  let echo = ECHOES['TRACE-style 200 message/http']!;
  const up = await startRawUpstream((q) => echo(q));
  const gw = await startGateway([], { instances: [{ name: RAW_INSTANCE, url: up.url }] });
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const port = Number(new URL(gw.url).port);
  for (const [name, answer] of Object.entries(ECHOES)) {
    echo = answer;
    const id = `echo-${Object.keys(ECHOES).indexOf(name)}`;
    const exchange = await rawRequest(port, rawHead('GET', RAW_STATUS_PATH, [...Object.entries(asUser('alice')), ['X-Request-Id', id], ['Cookie', 'theme=dark']]), { responses: 1 });
    const ticket = ticketIn(up.requests.at(-1)!);
    const text = exchange.raw.toString('latin1');
    const r = exchange.responses[0]!;
    assert.ok(r, `${name}: no answer`);
    const body = JSON.parse(r.body.toString('utf8'));
    assert.ok(isEnvelope(body), `${name}: ${text}`);
    assert.equal(body.data.requestId, id, `${name}: upstream-error envelopes carry the request id`);
    assert.equal(body.data.instance, RAW_INSTANCE);
    assert.ok(['UPSTREAM_BAD_ANSWER', 'UPSTREAM_ERROR_ANSWER'].includes(body.data.errorCode), name);
    for (const secret of [ticket, ticket.slice(0, 16), ticket.slice(-16), encodeURIComponent(ticket), 'dataworkcloud_inner_request', 'linkis_user_session_ticket_id_v1', 'HTTP/1.1\r\nHost']) {
      assert.ok(!text.includes(secret), `${name}: ${JSON.stringify(secret)} reached the client: ${body.message}`);
    }
  }
});

test('property: generated echo pages never carry the ticket to the client', async (t) => {
  let page: (q: string) => string = traceEcho;
  const up = await startRawUpstream((q) => page(q));
  const gw = await startGateway([], { instances: [{ name: RAW_INSTANCE, url: up.url }] });
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const statuses = fc.constantFrom(200, 201, 400, 401, 403, 404, 405, 500, 502, 503);
  const types = fc.constantFrom('text/html', 'text/plain', 'application/json', 'message/http', '');
  // Where in the page the request, or the Cookie header alone, is printed, and how it is escaped.
  const shapes: Array<(q: string) => string> = [(q) => q, cookieLine, (q) => `<title>${cookieLine(q)}</title>`, (q) => `<h1>${q}</h1>`, (q) => JSON.stringify({ message: cookieLine(q) }), (q) => JSON.stringify({ error: q })];
  const escapes: Array<(s: string) => string> = [(s) => s, encodeURIComponent, (s) => s.replace(/[/+=]/g, (c) => `&#${c.charCodeAt(0)};`), (s) => s.replace(/\//g, '\\/')];
  const index = (a: unknown[]) => fc.integer({ min: 0, max: a.length - 1 });
  await fc.assert(
    fc.asyncProperty(statuses, types, index(shapes), index(escapes), fc.string({ maxLength: 30 }), async (status, type, shape, escape, filler) => {
      page = (q) => httpAnswer(`HTTP/1.1 ${status} X`, type ? [['Content-Type', type]] : [], `${filler}${escapes[escape]!(shapes[shape]!(q))}${filler}`);
      const r = await call(`${gw.url}${RAW_STATUS_PATH}`, { headers: asUser() });
      const ticket = ticketIn(up.requests.at(-1)!);
      const everything = `${[...r.headers].join('\n')}\n${r.text}`;
      assert.ok(!everything.includes(ticket) && !everything.includes(ticket.slice(0, 16)), `${status} ${type}: ${r.text}`);
      assert.ok(!everything.includes(encodeURIComponent(ticket).slice(0, 24)), r.text);
    }),
    { numRuns: 60 },
  );
});

test('TRACE and HEAD never reach an Entrance: 405 envelopes (HEAD without a body, as HTTP says)', async (t) => {
  const up = await startRawUpstream(traceEcho);
  const gw = await startGateway([], { instances: [{ name: RAW_INSTANCE, url: up.url }] });
  t.after(async () => {
    await gw.close();
    await up.close();
  });
  const port = Number(new URL(gw.url).port);
  for (const path of [RAW_STATUS_PATH, '/api/rest_j/v1/jobhistory/1/get', '/api/rest_j/v1/entrance/submit', '/api/rest_j/v1/entrance/42/log']) {
    // Over a raw socket: fetch refuses to send TRACE at all.
    const trace = (await rawRequest(port, rawHead('TRACE', path, Object.entries(asUser())), { responses: 1 })).responses[0]!;
    assert.equal(trace.status, 405, `TRACE ${path}`);
    assert.equal(JSON.parse(trace.body.toString()).data.errorCode, 'METHOD_NOT_ALLOWED');
    const head = (await rawRequest(port, rawHead('HEAD', path, Object.entries(asUser())), { waitMs: 500 })).raw.toString('latin1');
    assert.match(head, /^HTTP\/1\.1 405 /, `HEAD ${path}: ${head}`);
    assert.match(head, /content-type: application\/json/i, 'the headers of the envelope a GET would get');
    assert.ok(head.endsWith('\r\n\r\n'), `HEAD ${path}: no body`);
  }
  assert.equal(up.requests.length, 0, 'nothing was forwarded');
});
