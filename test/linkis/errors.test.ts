import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyUpstreamError, ERROR_CATALOGUE, GatewayError, type ErrorCode } from '../../src/linkis/errors';
import { httpStatusForEnvelopeStatus } from '../../src/linkis/envelope';

const CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

/** LINKIS.md §3: the envelope status that goes with an HTTP error status. */
function linkisStatusFor(http: number): number {
  if (http === 401) return -1;
  if (http === 403) return 3;
  if (http === 412) return 2;
  return 1;
}

test('the catalogue is not empty and codes are UPPER_SNAKE', () => {
  assert.ok(CODES.length >= 10);
  for (const code of CODES) assert.match(code, /^[A-Z][A-Z_]*[A-Z]$/, code);
});

test('every catalogue entry: 4xx/5xx, a Linkis status consistent with LINKIS.md §3, a non-empty message', () => {
  for (const code of CODES) {
    const e = ERROR_CATALOGUE[code];
    assert.ok(Number.isInteger(e.http) && e.http >= 400 && e.http <= 599, `${code}: http ${e.http}`);
    assert.ok(([-1, 1, 2, 3] as number[]).includes(e.status), `${code}: status ${e.status}`);
    assert.equal(e.status, linkisStatusFor(e.http), `${code}: http ${e.http} with status ${e.status}`);
    // Where Linkis itself pairs the status with an HTTP status, the catalogue agrees.
    if (e.status !== 1) assert.equal(e.http, httpStatusForEnvelopeStatus(e.status), `${code}`);
    assert.equal(typeof e.message, 'string');
    assert.ok(e.message.trim().length > 0, `${code}: empty message`);
    assert.ok(!e.message.endsWith('.') && !e.message.endsWith(':'), `${code}: message is joined with ": detail"`);
  }
});

test('specific entries', () => {
  const table: Array<[ErrorCode, number, number]> = [
    ['AUTH_MISSING', 401, -1],
    ['AUTH_TOKEN_UNKNOWN', 401, -1],
    ['AUTH_USER_NOT_ALLOWED', 403, 3],
    ['AUTH_USER_INVALID', 412, 2],
    ['NOT_FOUND', 404, 1],
    ['METHOD_NOT_ALLOWED', 405, 1],
    ['BODY_TOO_LARGE', 413, 1],
    ['RATE_LIMITED', 429, 1],
    ['INTERNAL', 500, 1],
    ['UPSTREAM_RESET', 502, 1],
    ['NO_HEALTHY_UPSTREAM', 503, 1],
    ['UPSTREAM_REFUSED', 503, 1],
    ['UPSTREAM_TIMEOUT', 504, 1],
  ];
  for (const [code, http, status] of table) {
    assert.equal(ERROR_CATALOGUE[code].http, http, code);
    assert.equal(ERROR_CATALOGUE[code].status, status, code);
  }
});

test('an undici error classified into a GatewayError stays its cause', async () => {
  const { errors } = await import('undici');
  const cause = new errors.ConnectTimeoutError('Connect Timeout Error');
  const { code, failure } = classifyUpstreamError(cause as NodeJS.ErrnoException);
  const err = new GatewayError(code, 'h:1', failure, { cause });
  assert.equal(err.code, 'UPSTREAM_TIMEOUT');
  assert.equal(err.failure, 'connect-timeout');
  assert.equal(err.cause, cause);
  assert.equal(classifyUpstreamError(new errors.SocketError('other side closed') as NodeJS.ErrnoException).failure, 'reset');
  assert.equal(classifyUpstreamError(new errors.HeadersTimeoutError() as NodeJS.ErrnoException).failure, 'timeout');
  assert.equal(classifyUpstreamError(new errors.BodyTimeoutError() as NodeJS.ErrnoException).failure, 'timeout');
});

test('GatewayError takes http, status and message from the catalogue', () => {
  const plain = new GatewayError('AUTH_USER_NOT_ALLOWED');
  assert.equal(plain.code, 'AUTH_USER_NOT_ALLOWED');
  assert.equal(plain.http, 403);
  assert.equal(plain.status, 3);
  assert.equal(plain.message, ERROR_CATALOGUE.AUTH_USER_NOT_ALLOWED.message);
  assert.ok(plain instanceof Error);

  const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  const detailed = new GatewayError('UPSTREAM_REFUSED', 'h:1', 'refused', { cause });
  assert.equal(detailed.message, `${ERROR_CATALOGUE.UPSTREAM_REFUSED.message}: h:1`);
  assert.equal(detailed.failure, 'refused');
  assert.equal(detailed.detail, 'h:1');
  assert.equal(detailed.cause, cause);
});

test('classifyUpstreamError table', () => {
  const table: Array<[string | undefined, ErrorCode, string, number]> = [
    ['ECONNREFUSED', 'UPSTREAM_REFUSED', 'refused', 503],
    ['ETIMEDOUT', 'UPSTREAM_TIMEOUT', 'timeout', 504],
    ['GW_RESPONSE_TIMEOUT', 'UPSTREAM_TIMEOUT', 'timeout', 504],
    ['GW_CONNECT_TIMEOUT', 'UPSTREAM_TIMEOUT', 'connect-timeout', 504],
    ['ECONNRESET', 'UPSTREAM_RESET', 'reset', 502],
    ['EPIPE', 'UPSTREAM_RESET', 'reset', 502],
    ['ECONNABORTED', 'UPSTREAM_RESET', 'reset', 502],
    ['ENOTFOUND', 'UPSTREAM_UNREACHABLE', 'unreachable', 502],
    ['EAI_AGAIN', 'UPSTREAM_UNREACHABLE', 'unreachable', 502],
    ['EHOSTUNREACH', 'UPSTREAM_UNREACHABLE', 'unreachable', 502],
    ['ENETUNREACH', 'UPSTREAM_UNREACHABLE', 'unreachable', 502],
    // undici (the forwarder's client)
    ['UND_ERR_CONNECT_TIMEOUT', 'UPSTREAM_TIMEOUT', 'connect-timeout', 504],
    ['UND_ERR_HEADERS_TIMEOUT', 'UPSTREAM_TIMEOUT', 'timeout', 504],
    ['UND_ERR_BODY_TIMEOUT', 'UPSTREAM_TIMEOUT', 'timeout', 504],
    ['UND_ERR_SOCKET', 'UPSTREAM_RESET', 'reset', 502],
    ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UPSTREAM_RESET', 'reset', 502],
    ['UND_ERR_ABORTED', 'UPSTREAM_RESET', 'other', 502],
    ['UND_ERR_INFO', 'UPSTREAM_RESET', 'other', 502],
    ['EWHATEVER', 'UPSTREAM_RESET', 'other', 502],
    ['HPE_INVALID_CONSTANT', 'UPSTREAM_RESET', 'other', 502],
    [undefined, 'UPSTREAM_RESET', 'other', 502],
    ['econnrefused', 'UPSTREAM_RESET', 'other', 502],
  ];
  for (const [errCode, code, failure, http] of table) {
    const err: NodeJS.ErrnoException = Object.assign(new Error(`x ${errCode}`), errCode === undefined ? {} : { code: errCode });
    const got = classifyUpstreamError(err);
    assert.deepEqual(got, { code, failure }, String(errCode));
    assert.equal(ERROR_CATALOGUE[got.code].http, http, String(errCode));
    assert.equal(new GatewayError(got.code, undefined, got.failure).http, http, String(errCode));
  }
});
