/** Whether a change to proxy.properties is still in a later version of the file. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { changeSurvives } from '../../src/admin/line-change';

const b = (lines: string[]) => Buffer.from(lines.map((l) => `${l}\n`).join(''));
const BASE = ['# c', 't1=alice', 't2=bob'];

const cases: Array<[name: string, after: string[], now: string[], want: boolean]> = [
  ['added line, kept by a later copy with its own edit', [...BASE, 't3=carol'], ['# c', 't1=alice,hand', 't2=bob', 't3=carol'], true],
  ['added line, lost to a copy read before the change', [...BASE, 't3=carol'], ['# c', 't1=alice,hand', 't2=bob'], false],
  ['removed line, still gone', ['# c', 't1=alice'], ['# c', 't1=alice', 't9=x'], true],
  ['removed line, back again', ['# c', 't1=alice'], BASE, false],
  ['modified line, kept', ['# c', 't1=alice,dave', 't2=bob'], ['t2=bob', '# c', 't1=alice,dave'], true],
  ['modified line, the old one back', ['# c', 't1=alice,dave', 't2=bob'], BASE, false],
  ['a second copy of a line added, only one there', [...BASE, 't2=bob'], BASE, false],
  ['CRLF endings in the later copy', [...BASE, 't3=carol'], ['# c\r', 't1=alice\r', 't2=bob\r', 't3=carol\r'], true],
];
for (const [name, after, now, want] of cases) test(`changeSurvives: ${name}`, () => assert.equal(changeSurvives(b(BASE), b(after), b(now)), want));

test('property: the version written holds its own change; so does any copy that only adds lines to it', () => {
  const line = fc.stringMatching(/^[a-z0-9]{1,6}=[a-z,]{1,8}$/);
  fc.assert(
    fc.property(fc.array(line, { maxLength: 8 }), fc.array(line, { maxLength: 8 }), fc.array(line, { maxLength: 4 }), (before, after, extra) => {
      assert.ok(changeSurvives(b(before), b(after), b(after)));
      assert.ok(changeSurvives(b(before), b(after), b([...extra, ...after].reverse())));
    }),
  );
});
