/** Whose job a short id names: `<creator>_<user>_<engineType>_<index>` (1.x) or `<creator>_<user>_<index>` (0.x). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { shortIdNamesUser } from '../../src/linkis/job-owner';

const cases: Array<[shortId: string, user: string, want: boolean]> = [
  ['IDE_alice_spark_3', 'alice', true],
  ['IDE_alice_spark_3', 'bob', false],
  ['LINKISCLI_hadoop_shell_0', 'hadoop', true],
  ['IDE_johnnwang_21', 'johnnwang', true], // 0.x: no engine type
  ['IDE_alice_io_file_12', 'alice', true], // an engine type with "_"
  ['my_app_alice_spark_1', 'alice', true], // a creator with "_"
  ['IDE_svc_bi_spark_1', 'svc_bi', true], // a user with "_"
  ['IDE_alice2_spark_1', 'alice', false],
  ['IDE_xalice_spark_1', 'alice', false],
  ['alice_spark_1', 'alice', false], // no creator
  ['IDE_alice_spark_x', 'alice', false], // no index
  ['IDE_alice_', 'alice', false],
  ['IDE_john.doe@corp_spark_1', 'john.doe@corp', true],
];
for (const [shortId, user, want] of cases) test(`shortIdNamesUser(${shortId}, ${user}) = ${want}`, () => assert.equal(shortIdNamesUser(shortId, user), want));

test("property: the short id Linkis builds for a user's job names that user, and no user who is not a part of it", () => {
  const part = fc.stringMatching(/^[A-Za-z0-9]{1,8}$/);
  fc.assert(
    fc.property(part, part, part, fc.nat(1_000_000), part, (creator, user, engine, index, other) => {
      const shortId = `${creator}_${user}_${engine}_${index}`;
      assert.ok(shortIdNamesUser(shortId, user), shortId);
      if (other !== user && other !== engine && other !== creator) assert.ok(!shortIdNamesUser(shortId, other), `${shortId} as ${other}`);
    }),
    { numRuns: 500 },
  );
});
