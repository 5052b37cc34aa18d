/** What an access line records of a path: secrets a client put into it by mistake are gone. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { loggablePath } from '../../src/data-plane/loggable-path';

// With characters a client percent-encodes (but none of the separators: a token holding / ; = & , pasted raw is split apart).
const TOKEN = 'tok+3f5abec6:0123@456789';
const isSecret = (v: string) => v === TOKEN;

const cases: Array<[path: string, refused: boolean, want: string]> = [
  ['/api/rest_j/v1/entrance/exec_id018/status', false, '/api/rest_j/v1/entrance/exec_id018/status'],
  ['/api/rest_j/v1/user/proxy;validationCode=abc', false, '/api/rest_j/v1/user/proxy;validationCode=[redacted]'],
  ['/api/rest_j/v1/user/proxy%3FproxyUser=alice&validationCode=abc', false, '/api/rest_j/v1/user/proxy%3FproxyUser=alice&validationCode=[redacted]'],
  ['/x;Token-Code%3Dabc/y', false, '/x;Token-Code%3D[redacted]/y'],
  ['/x;password=abc', false, '/x;password=[redacted]'],
  // A pasted token as a piece: only compared on refused requests.
  [`/api/rest_j/v1/entrance/${TOKEN}/status`, true, '/api/rest_j/v1/entrance/[redacted]/status'],
  [`/api/rest_j/v1/entrance/${TOKEN}/status`, false, `/api/rest_j/v1/entrance/${TOKEN}/status`],
  [`/a;b=${encodeURIComponent(TOKEN)}`, true, '/a;b=[redacted]'],
  [`/a/${TOKEN}x/b`, true, `/a/${TOKEN}x/b`],
  ['/api/rest_j/v1/entrance/%E0%A4%A/status', true, '/api/rest_j/v1/entrance/%E0%A4%A/status'],
];

for (const [path, refused, want] of cases) {
  test(`loggablePath(${JSON.stringify(path.slice(0, 50))}, ${refused})`, () => assert.equal(loggablePath(path, refused, isSecret), want));
}

test('property: a token placed anywhere in a refused path, raw or encoded, never survives', () => {
  const piece = fc.stringMatching(/^[A-Za-z0-9._~-]{0,12}$/);
  const sep = fc.constantFrom('/', ';', '=', '&', ',');
  fc.assert(
    fc.property(fc.array(fc.tuple(piece, sep), { maxLength: 6 }), fc.nat(6), fc.boolean(), (parts, at, encode) => {
      const pieces = parts.map(([p, s]) => `${p}${s}`);
      pieces.splice(Math.min(at, pieces.length), 0, `${encode ? encodeURIComponent(TOKEN) : TOKEN}/`);
      const out = loggablePath(`/${pieces.join('')}`, true, isSecret);
      assert.ok(!out.includes(TOKEN) && !out.includes(encodeURIComponent(TOKEN)), out);
    }),
  );
});

test('a long hostile path costs at most 64 comparisons', () => {
  let calls = 0;
  loggablePath('/a'.repeat(10_000), true, () => (calls++, false));
  assert.equal(calls, 64);
});
