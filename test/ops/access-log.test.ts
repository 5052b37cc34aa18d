/**
 * The access line is built by hand from preallocated parts (it is written once per request); it must be
 * byte for byte what JSON.stringify writes for the same fields, for any values a request can carry.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { createAccessLog, jsonFields } from '../../src/ops/access-log';

const value = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }), // quotes, backslashes, control characters, lone surrogates
  fc.constantFrom('a7c0e6a0-8d2e-4c1f', '/api/rest_j/v1/entrance/exec_id018016%2Fx/status', 'sha256:0123456789ab', 'a"b', 'a\\b', '\u2028'),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(undefined),
  fc.constant(null),
);

test('jsonFields writes what JSON.stringify writes (generated fields and values)', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.oneof(fc.constantFrom('requestId', 'path', 'status', 'user'), fc.string({ unit: 'binary' })), value), (fields) => {
      assert.equal(`{"x":1${jsonFields(fields)}}`, JSON.stringify({ x: 1, ...fields }));
    }),
    { numRuns: 2000 },
  );
});

test('a written line is the JSON object winston would write, with the worker id and a current timestamp', async () => {
  const chunks: string[] = [];
  const stream = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) });
  const log = createAccessLog({ logger: {} as never, level: 'info', pretty: false, stream, worker: 2 });
  const before = Date.now();
  log.write({ requestId: 'r-1', method: 'GET', path: '/a"b', status: 200, user: undefined, durationMs: 1.25, completed: true });
  log.close();
  const lines = chunks.join('').split('\n').filter(Boolean);
  assert.equal(lines.length, 1);
  const parsed = JSON.parse(lines[0]);
  const { timestamp, ...rest } = parsed;
  assert.deepEqual(rest, { level: 'info', message: 'access', worker: 2, requestId: 'r-1', method: 'GET', path: '/a"b', status: 200, durationMs: 1.25, completed: true });
  assert.ok(Date.parse(timestamp) >= before - 1 && Date.parse(timestamp) <= Date.now(), timestamp);
  assert.equal(lines[0], JSON.stringify(parsed), 'same bytes as JSON.stringify');
});
