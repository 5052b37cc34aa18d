import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { envelopeJson, errorEnvelope, httpStatusForEnvelopeStatus, isEnvelope, wrapUpstreamAnswer } from '../../src/linkis/envelope';
import { GatewayError } from '../../src/linkis/errors';
import { createTicketCodec } from '../../src/linkis/ticket';

const M = '/api/rest_j/v1/entrance/execute';

test('envelopeJson: key order method,status,message,data, byte-exact', () => {
  assert.equal(envelopeJson(M, 0, 'OK', { execID: 'x', taskID: 1 }), `{"method":"${M}","status":0,"message":"OK","data":{"execID":"x","taskID":1}}`);
  assert.equal(envelopeJson('/m', 1, 'bad'), '{"method":"/m","status":1,"message":"bad","data":{}}');
  assert.equal(envelopeJson('', -1, ''), '{"method":"","status":-1,"message":"","data":{}}');
  // Characters needing escapes stay valid JSON.
  const s = envelopeJson('/m', 1, 'a "quoted"\nline\u0000', { k: '</script>' });
  assert.equal(s, '{"method":"/m","status":1,"message":"a \\"quoted\\"\\nline\\u0000","data":{"k":"</script>"}}');
  assert.deepEqual(Object.keys(JSON.parse(s)), ['method', 'status', 'message', 'data']);
});

test('errorEnvelope carries errorCode, then extra, then requestId, with the catalogue status', () => {
  const err = new GatewayError('AUTH_MISSING', 'no Validation-Code header');
  assert.equal(
    errorEnvelope(M, err, 'req-1', { instance: 'h:1' }),
    `{"method":"${M}","status":-1,"message":"Proxy-user credentials are missing: no Validation-Code header","data":{"errorCode":"AUTH_MISSING","instance":"h:1","requestId":"req-1"}}`,
  );
  assert.equal(errorEnvelope(M, new GatewayError('NOT_FOUND')), `{"method":"${M}","status":1,"message":"The gateway does not serve this path","data":{"errorCode":"NOT_FOUND"}}`);
});

test('httpStatusForEnvelopeStatus follows LINKIS.md §3', () => {
  const table: Array<[number, number]> = [
    [-1, 401],
    [0, 200],
    [1, 400],
    [2, 412],
    [3, 403],
    [4, 206],
  ];
  for (const [status, http] of table) assert.equal(httpStatusForEnvelopeStatus(status), http, String(status));
  // Anything else is an error.
  for (const status of [5, -2, 99, 1.5, NaN]) assert.equal(httpStatusForEnvelopeStatus(status), 400, String(status));
});

test('isEnvelope table', () => {
  const table: Array<[unknown, boolean]> = [
    [{ method: M, status: 0, message: 'OK', data: {} }, true],
    [{ method: null, status: 1, message: 'x' }, true],
    [{ method: '/m', status: -1, message: '' }, true],
    [{ method: '/m', status: 0, message: 'OK', data: { stack: 'java.lang...' } }, true],
    [{ status: 0, message: 'OK', data: {} }, false],
    [{ method: '/m', status: 0, data: {} }, false],
    [{ method: '/m', status: '0', message: 'OK' }, false],
    [{ method: '/m', status: 0.5, message: 'OK' }, false],
    [{ method: '/m', status: null, message: 'OK' }, false],
    [{ timestamp: '2024-01-01', status: 500, error: 'Internal Server Error', message: 'boom', path: '/x' }, false],
    [[{ method: '/m', status: 0, message: 'OK' }], false],
    [null, false],
    [undefined, false],
    ['{"method":"/m","status":0,"message":"OK"}', false],
    [0, false],
    [true, false],
  ];
  for (const [value, want] of table) assert.equal(isEnvelope(value), want, JSON.stringify(value));
});

test('wrapUpstreamAnswer table', () => {
  const inst = '10.0.0.1:9104';
  type Row = {
    name: string;
    http: number;
    ct?: string;
    body: string;
    status?: number; // expected envelope status; undefined means pass-through (null)
    message?: RegExp;
  };
  const rows: Row[] = [
    {
      name: 'Linkis envelope error answer passes through',
      http: 400,
      ct: 'application/json;charset=UTF-8',
      body: '{"method":"/api/rest_j/v1/entrance/x/status","status":1,"message":"error code(错误码): 10000","data":{"stack":"..."}}',
    },
    { name: 'Linkis envelope with a 401 passes through', http: 401, ct: 'application/json', body: '{"method":"/m","status":-1,"message":"You are not logged in","data":{}}' },
    { name: 'Linkis envelope without a JSON content type passes through', http: 500, ct: 'text/plain', body: ' {"method":"/m","status":1,"message":"x","data":{}}' },
    {
      name: 'Spring error JSON: error and message kept',
      http: 500,
      ct: 'application/json',
      body: '{"timestamp":"2024-01-01T00:00:00.000+00:00","status":500,"error":"Internal Server Error","message":"NullPointerException","path":"/api/rest_j/v1/entrance/execute"}',
      status: 1,
      message: /HTTP 500: Internal Server Error - NullPointerException$/,
    },
    { name: 'Spring error JSON with only error', http: 404, ct: 'application/json', body: '{"status":404,"error":"Not Found","message":"","path":"/x"}', status: 1, message: /HTTP 404: Not Found$/ },
    { name: 'JSON without error or message', http: 502, ct: 'application/json', body: '{"foo":1}', status: 1, message: /HTTP 502: \{"foo":1\}$/ },
    { name: 'broken JSON with a JSON content type is quoted as text', http: 500, ct: 'application/json', body: '{"method":', status: 1, message: /HTTP 500: \{"method":$/ },
    {
      name: 'HTML page: message names the title',
      http: 502,
      ct: 'text/html',
      body: '<html><head><title> 502 Bad Gateway </title></head><body><h1>Bad Gateway</h1></body></html>',
      status: 1,
      message: /HTTP 502: HTML page "502 Bad Gateway"$/,
    },
    { name: 'HTML page with only an h1', http: 503, ct: 'text/html; charset=utf-8', body: '<html><body><h1 class="x">Service Unavailable</h1></body></html>', status: 1, message: /HTML page "Service Unavailable"$/ },
    { name: 'HTML without content type', http: 500, body: '  <!DOCTYPE html><html><title>Error</title></html>', status: 1, message: /HTML page "Error"$/ },
    { name: 'HTML with no title', http: 500, ct: 'text/html', body: '<html><body>oops</body></html>', status: 1, message: /HTTP 500: an HTML page$/ },
    { name: 'empty body', http: 500, body: '', status: 1, message: /HTTP 500: an empty body$/ },
    { name: 'whitespace-only body', http: 500, ct: 'text/plain', body: ' \n\t ', status: 1, message: /an empty body$/ },
    { name: 'plain text, whitespace collapsed', http: 500, ct: 'text/plain', body: 'java.lang.NumberFormatException:\n  For input string: "x"', status: 1, message: /HTTP 500: java\.lang\.NumberFormatException: For input string: "x"$/ },
    { name: '401 HTML maps to status -1', http: 401, ct: 'text/html', body: '<title>Unauthorized</title>', status: -1, message: /HTTP 401: HTML page "Unauthorized"/ },
    { name: '401 Spring JSON maps to status -1', http: 401, ct: 'application/json', body: '{"status":401,"error":"Unauthorized"}', status: -1, message: /Unauthorized/ },
    { name: '403 maps to status 3', http: 403, ct: 'text/plain', body: 'Forbidden', status: 3, message: /HTTP 403: Forbidden$/ },
    { name: '200 with a non-envelope is an error', http: 200, ct: 'text/plain', body: 'hello', status: 1, message: /HTTP 200: hello$/ },
  ];
  for (const r of rows) {
    const out = wrapUpstreamAnswer(M, r.http, r.ct, r.body, inst);
    if (r.status === undefined) {
      assert.equal(out, null, r.name);
      continue;
    }
    assert.ok(out !== null, r.name);
    const env = JSON.parse(out);
    assert.deepEqual(Object.keys(env), ['method', 'status', 'message', 'data'], r.name);
    assert.equal(env.method, M, r.name);
    assert.equal(env.status, r.status, r.name);
    assert.ok(env.message.startsWith(`The Entrance ${inst} answered HTTP ${r.http}: `), `${r.name}: ${env.message}`);
    if (r.message) assert.match(env.message, r.message, r.name);
    assert.deepEqual(env.data, { errorCode: 'UPSTREAM_ERROR_ANSWER', upstreamStatus: r.http, instance: inst }, r.name);
  }
});

test('wrapUpstreamAnswer truncates huge bodies', () => {
  const huge = 'x'.repeat(100_000);
  for (const [ct, body] of [
    ['text/plain', huge],
    ['application/json', JSON.stringify({ error: huge })],
    ['text/html', `<title>${huge}</title>`],
  ] as const) {
    const out = wrapUpstreamAnswer(M, 500, ct, body, 'h:1');
    assert.ok(out);
    const env = JSON.parse(out);
    assert.ok(env.message.length < 700, `${ct}: ${env.message.length}`);
    assert.match(env.message, /x{512}…/, ct);
    assert.doesNotMatch(env.message, /x{513}/, ct);
  }
  // Exactly 512 characters are not truncated.
  const env = JSON.parse(wrapUpstreamAnswer(M, 500, 'text/plain', 'y'.repeat(512), 'h:1')!);
  assert.ok(env.message.endsWith('y'.repeat(512)));
  assert.ok(!env.message.includes('…'));
});

test('property: wrapUpstreamAnswer never throws and always gives an envelope or null', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 100, max: 599 }),
      fc.option(fc.constantFrom('application/json', 'text/html', 'text/plain', 'application/problem+json', ''), { nil: undefined }),
      fc.oneof(fc.string(), fc.json(), fc.string({ unit: 'binary' })),
      (http, ct, body) => {
        const out = wrapUpstreamAnswer(M, http, ct, body, 'h:1');
        if (out === null) {
          assert.ok(isEnvelope(JSON.parse(body)));
          return;
        }
        const env = JSON.parse(out);
        assert.ok(isEnvelope(env));
        assert.equal(env.status, http === 401 ? -1 : http === 403 ? 3 : 1);
        assert.equal(env.data.upstreamStatus, http);
      },
    ),
    { numRuns: 1000 },
  );
});

test('wrapUpstreamAnswer quotes nothing secret from the answer, and carries the request id', () => {
  const ticket = createTicketCodec('bdp-for-server').mint('alice');
  const cookie = `linkis_user_session_ticket_id_v1=${ticket}; dataworkcloud_inner_request=true`;
  const answers: Array<[string, string]> = [
    ['application/json', JSON.stringify({ timestamp: 1, status: 400, error: 'Bad Request', message: `bad cookie ${cookie}`, path: '/x' })],
    ['text/html', `<html><head><title>Error 400 Cookie: ${cookie}</title></head></html>`],
    ['text/html', `<html><body><h1>Bad ticket ${ticket}</h1></body></html>`],
    ['text/plain', `TRACE /api/rest_j/v1/entrance/x/status HTTP/1.1\r\nCookie: ${cookie}\r\n\r\n`],
    ['message/http', `request had ticket=${encodeURIComponent(ticket)}`],
  ];
  for (const [ct, body] of answers) {
    const out = wrapUpstreamAnswer(M, 400, ct, body, 'h:1', 'Entrance', 'req-7')!;
    const env = JSON.parse(out);
    assert.ok(!out.includes(ticket) && !out.includes(encodeURIComponent(ticket)), `${ct}: ${env.message}`);
    assert.ok(!/dataworkcloud_inner_request|linkis_user_session/.test(out), `${ct}: ${env.message}`);
    assert.deepEqual(env.data, { errorCode: 'UPSTREAM_ERROR_ANSWER', upstreamStatus: 400, instance: 'h:1', requestId: 'req-7' });
  }
  // What helps an operator still comes through.
  const spring = JSON.parse(wrapUpstreamAnswer(M, 405, 'application/json', JSON.stringify({ error: 'Method Not Allowed', message: "Request method 'PUT' is not supported" }), 'h:1')!);
  assert.match(spring.message, /Method Not Allowed - Request method 'PUT' is not supported$/);
});
