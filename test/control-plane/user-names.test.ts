/** User names as the gateway accepts them: table-driven. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkUserName, USER_NAME_RULE } from '../../src/control-plane/user-names';

const userNames: Array<[name: string, ok: boolean, reason?: RegExp]> = [
  ['alice', true],
  ['a', true],
  ['_svc', true],
  ['9lives', true],
  ['john.doe@corp-1', true],
  ['x'.repeat(64), true],
  ['', false, /empty/],
  ['x'.repeat(65), false, /too long \(65 chars, max 64\)/],
  ['al ice', false, /bad character U\+0020 at position 3/],
  ['bob/x', false, /bad character "\/" at position 4/],
  ['nul\u0000', false, /bad character U\+0000/],
  ['émile', false, /bad character U\+00E9 at position 1/],
  ['a😀', false, /bad character U\+1F600 at position 2/],
  ['-dash', false, /must start with a letter, digit or _, not "-"/],
  ['.dot', false, /must start.*"\."/],
  ['@at', false, /must start.*"@"/],
];

for (const [name, ok, reason] of userNames) {
  test(`checkUserName(${JSON.stringify(name.length > 20 ? name.slice(0, 8) + '…' : name)}) -> ${ok}`, () => {
    const r = checkUserName(name);
    assert.equal(r.ok, ok);
    if (!r.ok && reason) assert.match(r.reason, reason);
  });
}

test('USER_NAME_RULE documents the rule', () => {
  assert.match(USER_NAME_RULE, /64/);
});
