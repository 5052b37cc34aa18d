/**
 * redactUpstreamText: what the gateway may quote from an upstream body. A table of what real upstreams
 * print (echoed requests, error pages, Spring errors) and properties: no minted ticket survives whatever
 * surrounds or escapes it; ordinary error text passes; hostile input stays fast.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { REDACTED, redactUpstreamText } from '../../src/linkis/redact';
import { createTicketCodec } from '../../src/linkis/ticket';

const T = createTicketCodec('bdp-for-server').mint('alice', 1_700_000_000_000);
const COOKIE = `linkis_user_session_ticket_id_v1=${T}; dataworkcloud_inner_request=true`;
const quote = (s: string) => redactUpstreamText(s, 100_000);

test('redactUpstreamText table', () => {
  const rows: Array<[string, string, RegExp | string]> = [
    ['TRACE echo', `TRACE /api/rest_j/v1/entrance/x/status HTTP/1.1\r\nHost: gw\r\nCookie: ${COOKIE}\r\n\r\n`, '[an echo of the HTTP request, removed]'],
    ['echo inside an HTML page', `<html><body><pre>GET /api/rest_j/v1/jobhistory/1/get HTTP/1.1\nCookie: ${COOKIE}</pre></body></html>`, '[an echo of the HTTP request, removed]'],
    ['cookie header in a title', `Error 400 Bad cookie: Cookie: ${COOKIE}`, `Error 400 Bad cookie: ${REDACTED}`],
    ['cookie pairs in a table cell', `<td>${COOKIE}</td>`, `<td>${REDACTED} ${REDACTED}</td>`],
    ['header lines', `Host: 10.0.0.1\nX-Request-Id: abc\nAuthorization: Bearer zz\nContent-Type: text/plain\nError: broken`, `Host: ${REDACTED} X-Request-Id: ${REDACTED} Authorization: ${REDACTED} Content-Type: ${REDACTED} Error: broken`],
    ['Set-Cookie2 line', `Set-Cookie2: JSESSIONID=node01; Version=1`, `Set-Cookie2: ${REDACTED}`],
    ['secret names, = and JSON', `code=abc token='x y' {"Token-Code":"abc","sessionId":12,"user":"alice"}`, `code=${REDACTED} token=${REDACTED} {"Token-Code": "${REDACTED}","sessionId": "${REDACTED}","user":"alice"}`],
    ['credential header inside a line', `<td>Validation-Code: abc</td> errCode: 10000 ,desc: engine failed`, `<td>Validation-Code: ${REDACTED}</td> errCode: ${REDACTED} ,desc: engine failed`],
    ['bare ticket', `the ticket is ${T} here`, `the ticket is ${REDACTED} here`],
    ['percent-encoded ticket', `t%3D${encodeURIComponent(T)}`, REDACTED],
    ['twice percent-encoded', encodeURIComponent(encodeURIComponent(`x ${T} y`)), `x ${REDACTED} y`],
    ['entity-encoded', `a ${T.replace(/\//g, '&#x2F;').replace(/\+/g, '&#43;')} b`, `a ${REDACTED} b`],
    ['JSON-escaped', JSON.stringify({ error: 'bad', detail: T }).replace(/\//g, '\\/'), new RegExp(`^\\{"error":"bad","detail":"\\[redacted\\]"\\}$`)],
    ['hex token and UUID', `token 9f2c4e1a7b3d5f60c8e2a4b6d8f01357 id 3f2a1c9e-1b2c-4d5e-8f90-123456789abc`, `token ${REDACTED} id ${REDACTED}`],
    ['Spring message', `Method Not Allowed - Request method 'TRACE' is not supported`, `Method Not Allowed - Request method 'TRACE' is not supported`],
    ['Java exception', 'java.lang.NullPointerException: null at org.apache.linkis.entrance.EntranceServer.execute(EntranceServer.scala:87)', 'java.lang.NullPointerException: null at org.apache.linkis.entrance.EntranceServer.execute(EntranceServer.scala:87)'],
    ['names and addresses', 'linkis-cg-entrance on 127.0.0.1:9104 UPSTREAM_BAD_ANSWER', 'linkis-cg-entrance on 127.0.0.1:9104 UPSTREAM_BAD_ANSWER'],
    ['filler', `${'-'.repeat(40)} ${'x'.repeat(30)}`, `${'-'.repeat(40)} ${'x'.repeat(30)}`],
    ['whitespace and controls', ' a\r\n\tb\u0000c ', 'a b c'],
  ];
  for (const [name, input, want] of rows) {
    const out = quote(input);
    if (typeof want === 'string') assert.equal(out, want, name);
    else assert.match(out, want, name);
    assert.ok(!out.includes(T), `${name}: ${out}`);
  }
});

test('truncates after redacting; a ticket cut by the scan limit is not quoted in part', () => {
  assert.equal(redactUpstreamText('y'.repeat(600), 512), `${'y'.repeat(512)}…`);
  assert.equal(redactUpstreamText(`${T} tail`, 5), '[reda…');
  // The most decoding can eat from a run's start: `\u005c` gives `\`, then `\u0025` eats 5 more. 23 remain.
  const tail = 'Q3xZ9k+Lm2Pw/Rt7Yb4Nc8V';
  assert.equal(tail.length, 23);
  assert.ok(!quote(`\\u005cu0025${tail}`).includes(tail.slice(0, 12)), quote(`\\u005cu0025${tail}`));
  // The scan stops at 8192 characters: a ticket across that line is dropped, not quoted by its first part.
  for (let k = 1; k < T.length; k++) {
    const out = quote(`${'a '.repeat(4096).slice(0, 8192 - k)}${T} more`);
    assert.ok(out.endsWith(REDACTED), `k=${k}: ${out.slice(-40)}`);
    assert.match(out.slice(0, -REDACTED.length), /^[a ]*$/, `k=${k}`);
  }
});

// Every character that can surround or escape a ticket: its own alphabet, escape introducers, separators.
const around = fc.string({ unit: fc.oneof(fc.constantFrom(...'%\\&#;=+/_-uxX"\'<>:, \r\n0123456789abcdefABCDEF'), fc.string({ minLength: 1, maxLength: 1 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), maxLength: 40 });
const encodings: Array<(t: string) => string> = [
  (t) => t,
  (t) => `Cookie: linkis_user_session_ticket_id_v1=${t}; dataworkcloud_inner_request=true`,
  (t) => `ticket=${t}`,
  (t) => JSON.stringify(t).slice(1, -1).replace(/\//g, '\\/'),
  (t) => t.replace(/[+/=]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`),
  (t) => encodeURIComponent(t),
  (t) => encodeURIComponent(encodeURIComponent(t)),
  (t) => t.replace(/[+/=]/g, (c) => `&#${c.charCodeAt(0)};`),
  (t) => t.replace(/\//g, '&sol;').replace(/\+/g, '&plus;'),
];

test('property: no minted ticket survives, whatever surrounds or escapes it', () => {
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 70 }),
      // A ticket carries its minting time in millis: 13 digits for every date from 2001 to 2286.
      fc.integer({ min: 1e12, max: 1e13 - 1 }),
      around,
      around,
      fc.integer({ min: 0, max: encodings.length - 1 }),
      fc.integer({ min: 0, max: 9000 }),
      (key, user, millis, before, after, enc, pad) => {
        const ticket = createTicketCodec(key).mint(user, millis);
        const input = `${'. '.repeat(pad >> 1)}${before}${encodings[enc]!(ticket)}${after}`;
        const out = quote(input);
        assert.ok(!out.includes(ticket), out);
        // Nor a part of one: any 16 characters of it in the output came from the surroundings.
        for (let i = 0; i + 16 <= ticket.length; i++) {
          const part = ticket.slice(i, i + 16);
          assert.ok(!out.includes(part) || `${before}${after}`.includes(part), `${part} in ${out}`);
        }
      },
    ),
    { numRuns: 2000 },
  );
});

test('property: any input gives one bounded line, without throwing', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.json(), fc.string({ unit: fc.constantFrom(...'%\\&#;=uGET /HTTP1.\r\n') })), fc.integer({ min: 1, max: 600 }), (s, max) => {
      const out = redactUpstreamText(s, max);
      assert.ok(out.length <= max + 1);
      assert.doesNotMatch(out, /[\r\n\t\u0000]/);
    }),
    { numRuns: 2000 },
  );
});

test('property: ordinary error text is quoted as it is', () => {
  const words = ['Request', 'method', "'TRACE'", 'not', 'supported', 'Internal', 'Server', 'Error', 'java.lang.IllegalStateException:', 'NullPointerException', 'linkis-cg-entrance', '127.0.0.1:9104', 'job', 'failed', '(404)', 'Not', 'Found', '-', 'the', 'Entrance', 'is', 'busy;', 'retry', 'later.'];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 30 }), (w) => {
      const text = w.join(' ');
      assert.equal(quote(text), text);
    }),
  );
});

test('hostile bodies stay fast (bounded scan, no quadratic patterns)', () => {
  for (const unit of ['GET ', 'token', 'a=', '"token":', '&#', '%', '\\u00', 'Cookie: ', 'x'.repeat(40) + '=', 'aB1+']) {
    const body = unit.repeat(Math.ceil(262_144 / unit.length));
    const started = performance.now();
    redactUpstreamText(body, 512);
    const ms = performance.now() - started;
    assert.ok(ms < 100, `${JSON.stringify(unit)}: ${ms.toFixed(1)} ms`);
  }
});
