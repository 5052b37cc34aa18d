/** publicservice query parameters Linkis trusts unchecked: pinned to the authenticated user, or dropped. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ownUserQuery } from '../../src/linkis/publicservice-query';

const TOP = '/api/rest_j/v1/jobhistory/listDurationTop';
const cases: Array<[target: string, want: string | undefined]> = [
  ['/api/rest_j/v1/jobhistory/list?proxyUser=bob', undefined], // Linkis checks proxyUser here itself (admins only)
  ['/api/rest_j/v1/jobhistory/list?pageNow=1&isDeptView=true&proxyUser=bob', '/api/rest_j/v1/jobhistory/list?pageNow=1&proxyUser=bob'],
  ['/api/rest_j/v1/jobhistory/download-job-list?isDept%56iew=true', '/api/rest_j/v1/jobhistory/download-job-list'],
  ['/api/rest_j/v1/jobhistory/list?', undefined],
  ['/api/rest_j/v1/filesystem/openScriptFromBML?resourceId=r1&creator=bob', '/api/rest_j/v1/filesystem/openScriptFromBML?resourceId=r1'],
  ['/api/rest_j/v1/filesystem/product/openScriptFromBML?creator=bob&creator=carol&version=v1', '/api/rest_j/v1/filesystem/product/openScriptFromBML?version=v1'],
  ['/api/rest_j/v1/filesystem/openScriptFromBML?resourceId=r1', undefined],
  ['/api/rest_j/v1/jobhistory/42/get', undefined],
  [TOP, `${TOP}?proxyUser=alice`],
  [`${TOP}?`, `${TOP}?proxyUser=alice`],
  [`${TOP}?proxyUser=bob`, `${TOP}?proxyUser=alice`],
  [`${TOP}?pageNow=2&proxyUser=bob&proxy%55ser=carol&proxyUser&pageSize=5`, `${TOP}?pageNow=2&pageSize=5&proxyUser=alice`],
  [`${TOP}/?proxyUser=bob`, `${TOP}/?proxyUser=alice`],
  ['/api/rest_j/v1/jobhistory/listDuration%54op?proxyUser=bob', '/api/rest_j/v1/jobhistory/listDuration%54op?proxyUser=alice'],
  ['/api/rest_j/v1/jobhistory/jobstatistics/taskCount?startDate=1', '/api/rest_j/v1/jobhistory/jobstatistics/taskCount?startDate=1&proxyUser=alice'],
  ['/api/rest_j/v1/jobhistory/jobstatistics/engineCount?proxyUser=', '/api/rest_j/v1/jobhistory/jobstatistics/engineCount?proxyUser=alice'],
  ['/api/rest_j/v1/jobhistory/listdurationtop?proxyUser=bob', undefined], // Spring matches paths case-sensitively
];
for (const [target, want] of cases) {
  test(`ownUserQuery(${JSON.stringify(target.slice(26))})`, () => assert.equal(ownUserQuery(target, 'alice'), want));
}

test('property: whatever the query, the call names exactly the authenticated user, and every other parameter stays', () => {
  const part = fc.oneof(
    fc.constantFrom('proxyUser=bob', 'proxy%55ser=carol', 'proxyUser', 'proxyUser=', 'pageNow=1', 'creator=IDE', '%70roxyUser=x', 'proxyUser=a%2Cb'),
    fc.string({ maxLength: 10 }).map((s) => `${encodeURIComponent(s)}=${encodeURIComponent(s)}`),
  );
  fc.assert(
    fc.property(fc.array(part, { maxLength: 6 }), fc.constantFrom('alice', 'svc.bi@corp'), (parts, user) => {
      const out = ownUserQuery(`${TOP}?${parts.join('&')}`, user)!;
      const q = new URLSearchParams(out.slice(out.indexOf('?') + 1));
      assert.deepEqual(q.getAll('proxyUser'), [user], out);
      const others = (s: URLSearchParams) => [...s].filter(([k]) => k !== 'proxyUser');
      assert.deepEqual(others(q), others(new URLSearchParams(parts.join('&'))), out);
    }),
    { numRuns: 300 },
  );
});
