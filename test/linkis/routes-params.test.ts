/**
 * Path rules servers disagree on (issue 11, item 6): `;` path parameters and backslashes anywhere in the
 * path, and only the known read-only `operation/` calls, for generated paths.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifyEntranceRequest, classifyRequest, ENTRANCE_PREFIX } from '../../src/linkis/routes';

const P = ENTRANCE_PREFIX;
const ID1 = 'exec_id018014linkis-cg-entrancelocalhost:9104IDE_root_spark_7';

test('property: a path with ";" or "\\" (raw or percent-encoded) in any segment is refused, for every service', () => {
  const trick = fc.constantFrom(';', ';x=1', '%3b', '%3B', '\\', '%5c', '%5C', '..;', '.;');
  const segment = fc.oneof(fc.constantFrom('submit', 'execute', 'operation', 'metrics', 'runningtask', ID1, '42', 'status', 'jobhistory', 'list', 'user', 'login'), fc.stringMatching(/^[A-Za-z0-9_.-]{1,8}$/));
  fc.assert(
    fc.property(fc.array(segment, { maxLength: 4 }), trick, fc.nat(), fc.nat(), fc.constantFrom('GET', 'POST'), fc.constantFrom('entrance/', '', 'jobhistory/', 'user/'), (segs, t, at, pos, method, service) => {
      const i = at % (segs.length + 1);
      const seg = segs[i] ?? '';
      const p = pos % (seg.length + 1);
      const withTrick = [...segs.slice(0, i), seg.slice(0, p) + t + seg.slice(p), ...segs.slice(i + 1)];
      const url = `/api/rest_j/v1/${service}${withTrick.join('/')}?instance=h:1`;
      const r = classifyRequest(method, url);
      assert.ok(r.type === 'reject' && (r.code === 'BAD_PATH' || r.code === 'NOT_FOUND'), `${url}: ${JSON.stringify(r)}`);
      // Never a route the data plane would forward.
      assert.ok(!['submit', 'followup', 'task', 'operation', 'publicservice', 'session'].includes(r.type), url);
    }),
    { numRuns: 2000 },
  );
});

test('property: under operation/, only the four known read-only calls are routed', () => {
  const KNOWN = ['metrics/runningtask', 'metrics/taskinfo', 'label/isOnline', 'consumer/info'];
  const part = fc.constantFrom('metrics', 'runningtask', 'taskinfo', 'label', 'isOnline', 'consumer', 'info', 'markoffline', 'backonline', 'update', 'kill', 'submit', 'x');
  fc.assert(
    fc.property(fc.array(part, { minLength: 0, maxLength: 3 }), fc.constantFrom('GET', 'POST'), (parts, method) => {
      const sub = parts.join('/');
      const r = classifyEntranceRequest(method, `${P}operation${sub ? `/${sub}` : ''}?instance=h:1`);
      if (KNOWN.includes(sub) && method === 'GET') assert.equal(r.type, 'operation', sub);
      else assert.equal(r.type, 'reject', `${method} ${sub}`);
    }),
    { numRuns: 1000 },
  );
});
