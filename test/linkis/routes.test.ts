import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifyEntranceRequest, ENTRANCE_PREFIX, printable, type Route } from '../../src/linkis/routes';
import { ERROR_CATALOGUE } from '../../src/linkis/errors';

const P = ENTRANCE_PREFIX; // '/api/rest_j/v1/entrance/'
const ID1 = 'exec_id018014linkis-cg-entrancelocalhost:9104IDE_root_spark_7';
const ID1_ENC = ID1.replace(':', '%3A');
const ID0 = '030415IDEhivelocalhost:11002IDE_jiaorenyu_0';
const ID0_ENC = ID0.replace(':', '%3A');
const ID_MULTI = 'exec_id018027linkis-cg-entrance10.0.0.1:9104_10.0.0.2:9105LINKISCLI_hadoop_shell_0';

type Want = Partial<Record<string, unknown>> & { type: Route['type'] };

const cases: Array<[method: string, url: string, want: Want]> = [
  // New jobs.
  ['POST', `${P}execute`, { type: 'submit', kind: 'submit', action: 'execute', path: `${P}execute` }],
  ['POST', `${P}submit`, { type: 'submit', kind: 'submit', action: 'submit', path: `${P}submit` }],
  ['POST', `${P}submit?x=1`, { type: 'submit', kind: 'submit', action: 'submit', path: `${P}submit` }],
  ['GET', `${P}execute`, { type: 'reject', code: 'METHOD_NOT_ALLOWED' }],
  ['GET', `${P}submit`, { type: 'reject', code: 'METHOD_NOT_ALLOWED' }],
  ['PUT', `${P}submit`, { type: 'reject', code: 'METHOD_NOT_ALLOWED' }],
  ['DELETE', `${P}execute`, { type: 'reject', code: 'METHOD_NOT_ALLOWED' }],
  ['post', `${P}execute`, { type: 'reject', code: 'METHOD_NOT_ALLOWED' }],

  // Every follow-up action of LINKIS.md §2, 1.x id.
  ['GET', `${P}${ID1}/status`, { type: 'followup', kind: 'status', action: 'status', instance: 'localhost:9104', execId: ID1, path: `${P}${ID1}/status` }],
  ['GET', `${P}${ID1}/status?taskID=12`, { type: 'followup', kind: 'status', action: 'status', instance: 'localhost:9104', path: `${P}${ID1}/status` }],
  ['GET', `${P}${ID1}/log?fromLine=0&size=100`, { type: 'followup', kind: 'log', action: 'log', instance: 'localhost:9104', path: `${P}${ID1}/log` }],
  ['GET', `${P}${ID1}/log?fromLine=3&size=-1`, { type: 'followup', kind: 'log', action: 'log', instance: 'localhost:9104' }],
  ['GET', `${P}${ID1}/progress`, { type: 'followup', kind: 'progress', action: 'progress', instance: 'localhost:9104' }],
  ['GET', `${P}${ID1}/progressWithResource`, { type: 'followup', kind: 'progress', action: 'progressWithResource', instance: 'localhost:9104' }],
  ['GET', `${P}${ID1}/kill`, { type: 'followup', kind: 'kill', action: 'kill', instance: 'localhost:9104' }],
  ['GET', `${P}${ID1}/kill?taskID=7`, { type: 'followup', kind: 'kill', action: 'kill', instance: 'localhost:9104' }],
  ['POST', `${P}${ID1}/killJobs`, { type: 'followup', kind: 'kill', action: 'killJobs', instance: 'localhost:9104', execId: ID1 }],
  ['GET', `${P}${ID1}/pause`, { type: 'followup', kind: 'other', action: 'pause', instance: 'localhost:9104' }],
  // Percent-encoded ids: execId is the decoded id, path is kept as sent.
  ['GET', `${P}${ID1_ENC}/status`, { type: 'followup', kind: 'status', instance: 'localhost:9104', execId: ID1, path: `${P}${ID1_ENC}/status` }],
  // 0.x ids.
  ['GET', `${P}${ID0}/status`, { type: 'followup', kind: 'status', instance: 'localhost:11002', execId: ID0 }],
  ['GET', `${P}${ID0_ENC}/log?fromLine=0&size=100`, { type: 'followup', kind: 'log', instance: 'localhost:11002', execId: ID0 }],
  ['GET', `${P}030418IDEhivebdpdwc010004:10087IDE_johnnwang_21/kill`, { type: 'followup', kind: 'kill', instance: 'bdpdwc010004:10087' }],
  // Several instances: the owner (first) is the target.
  ['GET', `${P}${ID_MULTI}/progress`, { type: 'followup', kind: 'progress', instance: '10.0.0.1:9104', execId: ID_MULTI }],
  // An unknown but well-formed action goes to the owner as kind "other"; Object.prototype names are not kinds.
  ['GET', `${P}${ID1}/someNewAction`, { type: 'followup', kind: 'other', action: 'someNewAction', instance: 'localhost:9104' }],
  ['GET', `${P}${ID1}/constructor`, { type: 'followup', kind: 'other', action: 'constructor' }],
  ['GET', `${P}${ID1}/toString`, { type: 'followup', kind: 'other', action: 'toString' }],
  ['GET', `${P}${ID1}/hasOwnProperty`, { type: 'followup', kind: 'other', action: 'hasOwnProperty' }],
  // A query string may hold anything, even slashes and dots.
  ['GET', `${P}${ID1}/status?next=/../..//x`, { type: 'followup', kind: 'status', path: `${P}${ID1}/status` }],

  // Numeric taskIDs.
  ['GET', `${P}123/status`, { type: 'task', kind: 'status', action: 'status', taskId: '123', path: `${P}123/status` }],
  ['GET', `${P}9876543210/log?fromLine=0&size=100`, { type: 'task', kind: 'log', action: 'log', taskId: '9876543210' }],
  ['GET', `${P}1/kill`, { type: 'task', kind: 'kill', taskId: '1' }],
  ['GET', `${P}42/progressWithResource`, { type: 'task', kind: 'progress', taskId: '42' }],

  // operation/... with ?instance=
  ['GET', `${P}operation/metrics/runningtask?instance=10.0.0.1:9104`, { type: 'operation', kind: 'other', instance: '10.0.0.1:9104', path: `${P}operation/metrics/runningtask` }],
  ['GET', `${P}operation/metrics/runningtask?instance=localhost%3A9104`, { type: 'operation', instance: 'localhost:9104' }],
  ['GET', `${P}operation/metrics/runningtask?a=b&instance=h:1&c=d`, { type: 'operation', instance: 'h:1' }],
  ['GET', `${P}operation/metrics/runningtask`, { type: 'reject', code: 'INSTANCE_PARAM_MISSING' }],
  ['GET', `${P}operation/metrics/runningtask?`, { type: 'reject', code: 'INSTANCE_PARAM_MISSING' }],
  ['GET', `${P}operation/metrics/runningtask?instance=`, { type: 'reject', code: 'INSTANCE_PARAM_MISSING' }],
  ['GET', `${P}operation/metrics/runningtask?other=h:1`, { type: 'reject', code: 'INSTANCE_PARAM_MISSING' }],
  ['GET', `${P}operation/metrics/runningtask?instance=localhost`, { type: 'reject', code: 'INSTANCE_PARAM_MISSING' }],
  ['GET', `${P}operation/metrics/runningtask?instance=localhost:0`, { type: 'reject', code: 'INSTANCE_PARAM_MISSING' }],
  ['GET', `${P}operation/metrics/runningtask?instance=localhost:70000`, { type: 'reject', code: 'INSTANCE_PARAM_MISSING' }],
  ['GET', `${P}operation/metrics/runningtask?instance=http://evil:80/`, { type: 'reject', code: 'INSTANCE_PARAM_MISSING' }],
  ['GET', `${P}operation/metrics/runningtask?instance=a%20b:1`, { type: 'reject', code: 'INSTANCE_PARAM_MISSING' }],
  // Only the read-only operation/ calls, by GET; markoffline/backonline have no admin check in Linkis.
  ['GET', `${P}operation/metrics/taskinfo?instance=h:1`, { type: 'operation', instance: 'h:1' }],
  ['GET', `${P}operation/label/isOnline?instance=h:1`, { type: 'operation', instance: 'h:1' }],
  ['GET', `${P}operation/consumer/info?instance=h:1`, { type: 'operation', instance: 'h:1' }],
  ['GET', `${P}operation/label/markoffline?instance=h:1`, { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `${P}operation/label/backonline?instance=h:1`, { type: 'reject', code: 'NOT_FOUND' }],
  ['POST', `${P}operation/label/update?instance=h:1`, { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `${P}operation/consumer/kill?instance=h:1`, { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `${P}operation/submit?instance=h:1`, { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `${P}operation?instance=h:1`, { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `${P}operation/metrics?instance=h:1`, { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `${P}operation/metrics/runningtask/x?instance=h:1`, { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `${P}operation/Metrics/runningtask?instance=h:1`, { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `${P}operation/%6detrics/runningtask?instance=h:1`, { type: 'reject', code: 'NOT_FOUND' }],
  ['POST', `${P}operation/metrics/runningtask?instance=h:1`, { type: 'reject', code: 'METHOD_NOT_ALLOWED' }],

  // Path parameters and backslashes: containers strip ";params" before normalising.
  ['POST', `${P}operation/..;/submit?instance=h:1`, { type: 'reject', code: 'BAD_PATH' }],
  ['POST', `${P}operation/.;/submit?instance=h:1`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}operation/metrics/runningtask;x=1?instance=h:1`, { type: 'reject', code: 'BAD_PATH' }],
  ['POST', `${P}submit;jsessionid=1`, { type: 'reject', code: 'BAD_PATH' }],
  ['POST', `${P}submit%3B`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}${ID1};/status`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}${ID1}/status;`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}${ID1}%3b/status`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}${ID1}\\..\\status`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}${ID1}%5C/status`, { type: 'reject', code: 'BAD_PATH' }],
  // A ';' in the query is the query's business.
  ['GET', `${P}${ID1}/status?a=1;b=2`, { type: 'followup', kind: 'status' }],

  // Empty and dot segments.
  ['GET', `${P}${ID1}//status`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}/${ID1}/status`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}${ID1}/status/`, { type: 'reject', code: 'BAD_PATH' }],
  ['POST', `${P}execute/`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', P, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}./execute`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}${ID1}/./status`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}${ID1}/../status`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}../../jobhistory/list`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}%2e%2e/status`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}%2E%2E/status`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}.%2e/status`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}%2e/status`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}operation//metrics?instance=h:1`, { type: 'reject', code: 'BAD_PATH' }],
  ['GET', `${P}operation/../x?instance=h:1`, { type: 'reject', code: 'BAD_PATH' }],

  // Wrong shape.
  ['GET', `${P}${ID1}/status/extra`, { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `${P}${ID1}/log/a/b/c`, { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `${P}${ID1}`, { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `${P}123`, { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `${P}${ID1}/sta-tus`, { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `${P}${ID1}/1status`, { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `${P}${ID1}/${'a'.repeat(65)}`, { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `${P}${ID1}/__proto__`, { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `${P}${ID1}/status%2Fx`, { type: 'reject', code: 'NOT_FOUND' }],

  // Malformed ids.
  ['GET', `${P}hello/status`, { type: 'reject', code: 'EXECID_MALFORMED' }],
  ['GET', `${P}030418IDEhivelocalhost010004:10087IDE_test_user_21/status`, { type: 'reject', code: 'EXECID_MALFORMED' }],
  ['GET', `${P}${ID1.replace(':', '%253A')}/status`, { type: 'reject', code: 'EXECID_MALFORMED' }],
  ['GET', `${P}${ID1}%E0%A4%A/status`, { type: 'reject', code: 'EXECID_MALFORMED' }],
  ['GET', `${P}${ID1}%00/status`, { type: 'reject', code: 'EXECID_MALFORMED' }],
  ['GET', `${P}exec_id018014linkis-cg-entrancelocalhost:0IDE_root_spark_7/status`, { type: 'reject', code: 'EXECID_MALFORMED' }],
  ['GET', `${P}exec_id018999linkis-cg-entrancelocalhost:9104IDE_root_spark_7/kill`, { type: 'reject', code: 'EXECID_MALFORMED' }],
  ['GET', `${P}${'1'.repeat(600)}/status`, { type: 'reject', code: 'EXECID_MALFORMED' }],
  ['GET', `${P}x%2Fy/status`, { type: 'reject', code: 'EXECID_MALFORMED' }],

  // Outside the prefix.
  ['POST', '/api/rest_j/v1/entrance', { type: 'reject', code: 'NOT_FOUND' }],
  ['POST', '/api/rest_j/v1/entranceexecute', { type: 'reject', code: 'NOT_FOUND' }],
  ['POST', '/api/rest_j/v1/entrancex/execute', { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', '/api/rest_j/v1/jobhistory/list', { type: 'reject', code: 'NOT_FOUND' }],
  ['POST', '/api/rest_j/v2/entrance/execute', { type: 'reject', code: 'NOT_FOUND' }],
  ['POST', '/API/rest_j/v1/entrance/execute', { type: 'reject', code: 'NOT_FOUND' }],
  ['POST', '//api/rest_j/v1/entrance/execute', { type: 'reject', code: 'NOT_FOUND' }],
  ['POST', 'api/rest_j/v1/entrance/execute', { type: 'reject', code: 'NOT_FOUND' }],
  ['POST', 'http://gw/api/rest_j/v1/entrance/execute', { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', '/', { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', '', { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', '*', { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `/api/rest_j/v1/entrance%2F${ID1}/status`, { type: 'reject', code: 'NOT_FOUND' }],
  ['GET', `?${P}execute`, { type: 'reject', code: 'NOT_FOUND' }],
];

test('classifyEntranceRequest table', () => {
  for (const [method, url, want] of cases) {
    const got = classifyEntranceRequest(method, url) as unknown as Record<string, unknown>;
    const picked: Record<string, unknown> = {};
    for (const k of Object.keys(want)) picked[k] = got[k];
    assert.deepEqual(picked, want, `${method} ${url} → ${JSON.stringify(got)}`);
    // The path never includes the query string.
    assert.equal(got.path, url.split('?')[0], `${method} ${url}: path`);
    if (got.type === 'reject') assert.ok((got.code as string) in ERROR_CATALOGUE, `${method} ${url}: code`);
  }
});

test('a malformed execID is refused with the parser\'s reason as detail', () => {
  const r = classifyEntranceRequest('GET', `${P}030418IDEhivelocalhost010004:10087IDE_test_user_21/status`);
  assert.equal(r.type, 'reject');
  assert.ok(r.type === 'reject' && typeof r.detail === 'string' && /length|creator/.test(r.detail), JSON.stringify(r));
});

test('client input echoed in a detail is printable and bounded', () => {
  const r = classifyEntranceRequest('GET', `${P}operation/metrics/runningtask?instance=${encodeURIComponent('\u0000\n' + 'x'.repeat(200))}`);
  assert.equal(r.type, 'reject');
  assert.ok(r.type === 'reject' && r.detail !== undefined);
  if (r.type === 'reject' && r.detail) {
    assert.doesNotMatch(r.detail, /[\u0000-\u001f]/);
    assert.ok(r.detail.length < 120, r.detail);
  }
  assert.equal(printable('a\u0000b\u00e9'), 'a?b?');
  assert.equal(printable('x'.repeat(81)), `${'x'.repeat(80)}…`);
  assert.equal(printable('x'.repeat(80)), 'x'.repeat(80));
});

const KINDS = new Set(['submit', 'status', 'log', 'progress', 'kill', 'other']);

function checkShape(r: Route): void {
  switch (r.type) {
    case 'submit':
      assert.equal(r.kind, 'submit');
      break;
    case 'followup':
      assert.ok(KINDS.has(r.kind), `kind ${String(r.kind)}`);
      assert.equal(typeof r.instance, 'string');
      break;
    case 'task':
      assert.ok(KINDS.has(r.kind), `kind ${String(r.kind)}`);
      assert.match(r.taskId, /^[0-9]+$/);
      break;
    case 'operation':
      assert.equal(r.kind, 'other');
      break;
    case 'reject':
      assert.ok(r.code in ERROR_CATALOGUE, r.code);
      if (r.detail !== undefined) assert.equal(typeof r.detail, 'string');
      break;
    default:
      assert.fail(`unknown route type ${JSON.stringify(r)}`);
  }
}

test('property: never throws on arbitrary paths appended to the prefix, and always gives a known shape', () => {
  const methods = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', '');
  const pieces = fc.string({
    unit: fc.constantFrom('/', '.', '%2e', '%2F', '%', '%3A', '?', '&', '=', 'instance', 'operation', 'status', 'execute', 'submit', '123', ID1, ID0, ':', 'a', '\u0000', ' ', 'constructor', '__proto__'),
    maxLength: 20,
  });
  for (const tail of [fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), pieces]) {
    fc.assert(
      fc.property(methods, tail, (method, t) => {
        const r = classifyEntranceRequest(method, `${P}${t}`);
        checkShape(r);
        assert.equal(r.path, `${P}${t}`.split('?')[0]);
      }),
      { numRuns: 1000 },
    );
  }
  // And on arbitrary whole URLs.
  fc.assert(
    fc.property(methods, fc.string({ unit: 'binary' }), (method, url) => checkShape(classifyEntranceRequest(method, url))),
    { numRuns: 1000 },
  );
});
