/** Finding the taskIDs a client names besides the path: table-driven, and by property. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_NAMED_TASKS, killJobsTaskIds, queryTaskIds } from '../../src/linkis/named-tasks';

const E = '/api/rest_j/v1/entrance/exec_id018/kill';
const queries: Array<[target: string, want: string[] | RegExp]> = [
  [E, []],
  [`${E}?`, []],
  [`/api/rest_j/v1/entrance/x/log?fromLine=0&size=100`, []],
  [`${E}?taskID=42`, ['42']],
  [`${E}?a=1&taskID=9223372036854775807`, ['9223372036854775807']],
  // Spring decodes names and values: so does the gateway.
  [`${E}?task%49D=42`, ['42']],
  [`${E}?%74askID=4%32`, ['42']],
  [`${E}?taskid=42`, []], // Spring's names are case-sensitive: Linkis never reads this one
  [`${E}?taskID=42&taskID=43`, /more than once/],
  [`${E}?taskID=`, /task number/],
  [`${E}?taskID=-1`, /task number/],
  [`${E}?taskID=1+2`, /task number/],
  [`${E}?taskID=12345678901234567890`, /task number/],
  [`${E}?taskID=0x10`, /task number/],
];
for (const [target, want] of queries) {
  test(`queryTaskIds(${JSON.stringify(target.slice(E.length - 4))})`, () => {
    const r = queryTaskIds(target);
    if (Array.isArray(want)) assert.deepEqual(r, { ok: true, taskIds: want });
    else assert.ok(!r.ok && want.test(r.reason), JSON.stringify(r));
  });
}

const bodies: Array<[body: string | undefined, want: string[] | RegExp]> = [
  [undefined, []],
  ['', []],
  ['{"idList":["exec_id1"]}', []],
  ['{"idList":["a","b"],"taskIDList":[1,2]}', ['1', '2']],
  ['{"taskIDList":["7",7]}', ['7']],
  ['{"taskIDList":null}', []],
  ['{"taskIDList":[1.5]}', /task numbers/],
  ['{"taskIDList":[-3]}', /task numbers/],
  ['{"taskIDList":["7x"]}', /task numbers/],
  ['{"taskIDList":7}', /task numbers/],
  ['{"taskIDList":[[7]]}', /task numbers/],
  [`{"taskIDList":[${Array.from({ length: MAX_NAMED_TASKS + 1 }, (_, i) => i).join(',')}]}`, /more than 100/],
  ['{"taskIDList":', /not JSON/],
  // JSON.parse and Jackson both keep the last of a repeated key.
  ['{"taskIDList":[1],"taskIDList":[2]}', ['2']],
  ['{"\\u0074askIDList":[5]}', ['5']],
];
for (const [body, want] of bodies) {
  test(`killJobsTaskIds(${JSON.stringify(body?.slice(0, 50))})`, () => {
    const r = killJobsTaskIds(body === undefined ? undefined : Buffer.from(body));
    if (Array.isArray(want)) assert.deepEqual(r, { ok: true, taskIds: want });
    else assert.ok(!r.ok && want.test(r.reason), JSON.stringify(r));
  });
}

test('property: whatever the query, every taskID Spring would read is found (or the request is refused)', () => {
  const part = fc.oneof(
    fc.constantFrom('taskID=5', 'task%49D=6', '%74askID=7', 'taskID=8x', 'fromLine=1', 'size=2', 'taskid=9', ''),
    fc.string({ maxLength: 8 }).map((s) => encodeURIComponent(s)),
  );
  fc.assert(
    fc.property(fc.array(part, { maxLength: 5 }), (parts) => {
      const target = `${E}?${parts.join('&')}`;
      const r = queryTaskIds(target);
      const spring = new URLSearchParams(parts.join('&')).getAll('taskID');
      if (r.ok) assert.deepEqual(r.taskIds, spring, target);
      else assert.ok(spring.length > 0, `refused a query that names no task: ${target}`);
    }),
    { numRuns: 500 },
  );
});
