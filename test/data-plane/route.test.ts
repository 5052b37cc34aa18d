/**
 * The route classifier's cache: the same answers as classifyRequest for any URL (generated), one frozen
 * object per method and URL, and a bound on what it holds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createRouteClassifier } from '../../src/data-plane/route';
import { classifyRequest } from '../../src/linkis/routes';

const P = '/api/rest_j/v1/entrance/';
const ID1 = 'exec_id018014linkis-cg-entrancelocalhost:9104IDE_root_spark_7';

test('a cached classification is what classifyRequest says, for generated methods and URLs, hit or miss', () => {
  const classifier = createRouteClassifier(64); // small: the run goes through many clears
  const segment = fc.oneof(fc.constantFrom(ID1, encodeURIComponent(ID1), '123', 'submit', 'execute', 'status', 'log', 'kill', '..', '', 'operation', 'metrics'), fc.string({ maxLength: 12 }));
  const url = fc.oneof(
    fc.tuple(fc.array(segment, { maxLength: 4 }), fc.constantFrom('', '?fromLine=0&size=-1', '?x=%2F')).map(([segs, q]) => `${P}${segs.join('/')}${q}`),
    fc.constantFrom('/api/rest_j/v1/jobhistory/list', '/api/rest_j/v1/user/login', '/api/rest_j/v1/filesystem/openFile?path=a'),
    fc.string({ maxLength: 40 }).map((s) => `/api/rest_j/v1/${s}`),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), url), { minLength: 1, maxLength: 50 }), (calls) => {
      for (const [method, u] of [...calls, ...calls]) assert.deepEqual(classifier.classify(method, u), classifyRequest(method, u), `${method} ${u}`);
    }),
    { numRuns: 500 },
  );
  assert.ok(classifier.size <= 64);
});

test('one frozen route per method and URL; method, query and long URLs are told apart', () => {
  const classifier = createRouteClassifier();
  const status = `${P}${ID1}/status`;
  const a = classifier.classify('GET', status);
  assert.equal(classifier.classify('GET', status), a, 'the same object: no work on a hit');
  assert.ok(Object.isFrozen(a), 'shared by requests, so nobody may change it');
  assert.notEqual(classifier.classify('POST', status), a);
  assert.notEqual(classifier.classify('GET', `${status}?x=1`), a);
  const long = `${P}${ID1}/log?${'a'.repeat(600)}`;
  assert.deepEqual(classifier.classify('GET', long), classifyRequest('GET', long));
  assert.notEqual(classifier.classify('GET', long), classifier.classify('GET', long), 'long URLs are not kept');
  assert.equal(classifier.size, 3);
});

test('bounded: a flood of distinct URLs never holds more than the bound', () => {
  const classifier = createRouteClassifier(100);
  for (let i = 0; i < 10_000; i++) classifier.classify('GET', `${P}${i}/status`);
  assert.ok(classifier.size <= 100, `${classifier.size}`);
  assert.equal(classifier.classify('GET', `${P}9999/status`).type, 'task');
});
