/** The key readers: a bad value is a problem naming the key, and validation goes on with a fallback. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createKeyReader } from '../../src/control-plane/config-reader';

const cases: Array<[name: string, read: (r: ReturnType<typeof createKeyReader>) => unknown, value: string, want: unknown, problem: RegExp | null]> = [
  ['int in range', (r) => r.int('gateway.server.port', 0, 65535), '8080', 8080, null],
  ['int with spaces around', (r) => r.int('gateway.server.port', 0, 65535), '  8080 ', 8080, null],
  ['int above max: min', (r) => r.int('gateway.server.port', 0, 65535), '70000', 0, /^gateway\.server\.port: "70000" is not a whole number between 0 and 65535$/],
  ['int negative', (r) => r.int('gateway.server.port', 0, 65535), '-1', 0, /not a whole number/],
  ['int with a unit', (r) => r.int('gateway.server.port', 0, 65535), '80ms', 0, /not a whole number/],
  ['bool true', (r) => r.bool('gateway.session.cookie.secure'), 'true', true, null],
  ['bool yes', (r) => r.bool('gateway.session.cookie.secure'), 'yes', false, /^gateway\.session\.cookie\.secure: "yes" is not true or false$/],
  ['oneOf in the list', (r) => r.oneOf('gateway.token.policy', ['warn', 'strict'] as const), 'strict', 'strict', null],
  ['oneOf not in it: the first', (r) => r.oneOf('gateway.token.policy', ['warn', 'strict'] as const), 'STRICT', 'warn', /^gateway\.token\.policy: "STRICT" is not one of warn, strict$/],
  ['nonEmpty empty', (r) => r.nonEmpty('gateway.server.host'), '', '', /^gateway\.server\.host: must not be empty$/],
];

for (const [name, read, value, want, problem] of cases) {
  test(`key reader: ${name}`, () => {
    const key = name.startsWith('int') ? 'gateway.server.port' : name.startsWith('bool') ? 'gateway.session.cookie.secure' : name.startsWith('oneOf') ? 'gateway.token.policy' : 'gateway.server.host';
    const r = createKeyReader({ [key]: value });
    assert.deepEqual(read(r), want);
    if (problem) {
      assert.equal(r.problems.length, 1, r.problems.join('\n'));
      assert.match(r.problems[0]!, problem);
    } else assert.deepEqual(r.problems, []);
  });
}

test('key reader: a key not given reads as its default', () => {
  const r = createKeyReader({});
  assert.equal(r.get('gateway.token.policy'), 'warn');
  assert.equal(r.int('gateway.upstream.max.sockets', 1, 65535) > 0, true);
  assert.deepEqual(r.problems, []);
});
