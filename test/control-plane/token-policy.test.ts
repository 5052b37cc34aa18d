/** Tokens: weak-token reasons, fingerprints and masks, table-driven and by property. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MIN_STRONG_TOKEN_LENGTH, maskToken, tokenFingerprint, weakTokenReason } from '../../src/control-plane/token-policy';

const T1 = 'tok-alpha-0001';
const T2 = 'tok-bravo-0002';

const LINKIS_DEFAULTS = ['LINKIS-UNAVAILABLE-TOKEN', 'LINKIS-AUTH', 'BML-AUTH', 'WS-AUTH', 'DSS-AUTH', 'QUALITIS-AUTH', 'VALIDATOR-AUTH', 'LINKISCLI-AUTH', 'DSM-AUTH', 'QML-AUTH', 'CLI-AUTH'];

const weakCases: Array<[name: string, token: string, want: RegExp | null]> = [
  ...LINKIS_DEFAULTS.map((t): [string, string, RegExp] => [`Linkis default ${t}`, t, /^a well-known Linkis default or example value$/]),
  ['Linkis default, lower case', 'linkis-unavailable-token', /well-known Linkis default/],
  ['Linkis default, mixed case (as Linkis ships dss-AUTH)', 'dss-AUTH', /well-known Linkis default/],
  ['Linkis documentation example', 'BML-928a721518014ba4a28735ec2a0da799', /well-known Linkis default/],
  ['a Linkis default with more after it is not that default', 'LINKIS-UNAVAILABLE-TOKEN-8f3a91c2', null],
  ['1 character', 'x', /^shorter than 16 characters \(1\)$/],
  ['8 characters (enough before)', 'abcdefgh', /^shorter than 16 characters \(8\)$/],
  ['15 characters', 'abcdefghijklmno', /^shorter than 16 characters \(15\)$/],
  ['16 characters', 'abcdefghijklmnop', null],
  ['16 UTF-16 units but 8 characters', '\u{1F511}\u{1F512}\u{1F513}\u{1F514}\u{1F515}\u{1F516}\u{1F517}\u{1F518}', /^shorter than 16 characters \(8\)$/],
  ['one character repeated', 'a'.repeat(40), /^only 1 distinct character \(fewer than 6\)$/],
  ['two characters alternating', 'ab'.repeat(12), /^only 2 distinct characters \(fewer than 6\)$/],
  ['5 distinct', 'abcde'.repeat(4), /^only 5 distinct characters/],
  ['6 distinct', 'abcdef'.repeat(3), null],
  ['5 distinct emoji', '\u{1F600}\u{1F601}\u{1F602}\u{1F603}\u{1F604}'.repeat(4), /^only 5 distinct characters/],
  ['the README example', '9f2c4e1a7b3d5f60c8e2a4b6d8f01357', null],
  ['openssl rand -hex 24', 'c0ffee0123456789abcdef0123456789abcdef0123456789', null],
];

for (const [name, token, want] of weakCases) {
  test(`weakTokenReason: ${name} -> ${want ?? 'strong'}`, () => {
    const reason = weakTokenReason(token);
    if (want === null) assert.equal(reason, null);
    else {
      assert.ok(reason !== null, 'weak');
      assert.match(reason, want);
      if (token.length >= 4) assert.ok(!reason.toLowerCase().includes(token.toLowerCase()), `the reason quotes the token: ${reason}`);
    }
  });
}

test(`MIN_STRONG_TOKEN_LENGTH is ${MIN_STRONG_TOKEN_LENGTH}`, () => assert.equal(MIN_STRONG_TOKEN_LENGTH, 16));

test('tokenFingerprint: sha256: plus 12 hex chars, never the token', () => {
  const fp = tokenFingerprint(T1);
  assert.match(fp, /^sha256:[0-9a-f]{12}$/);
  assert.notEqual(fp, T1);
  assert.equal(tokenFingerprint(T1), fp);
  assert.notEqual(tokenFingerprint(T2), fp);
  fc.assert(
    fc.property(fc.string(), (t) => {
      const f = tokenFingerprint(t);
      return f !== t && (t.length < 8 || !f.includes(t));
    }),
  );
});

const masks: Array<[token: string, want: string]> = [
  ['abcdefghijklmnop', 'abcd…'],
  ['abcdefghijklmnopqrstuvwxyz', 'abcd…'],
  ['abcdefgh', 'ab…'],
  ['abc', '…'],
  ['', '…'],
  ['😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀', '😀😀😀😀…'],
];
for (const [token, want] of masks) {
  test(`maskToken(${token.length} chars) = ${want}`, () => assert.equal(maskToken(token), want));
}

test('maskToken never shows a whole non-empty token (fast-check)', () => {
  fc.assert(fc.property(fc.string({ minLength: 1 }), (t) => !maskToken(t).startsWith(t)));
});
