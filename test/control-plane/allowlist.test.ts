import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseProperties } from '../../src/linkis/properties';
import {
  buildAllowlist,
  checkUserName,
  maskToken,
  tokenFingerprint,
  USER_NAME_RULE,
  type Decision,
} from '../../src/control-plane/allowlist';

function build(text: string) {
  const parsed = parseProperties(text);
  assert.deepEqual(parsed.problems, []);
  return buildAllowlist(parsed.entries);
}

const T1 = 'tok-alpha-0001';
const T2 = 'tok-bravo-0002';
const TSTAR = 'tok-star-00003';
const FILE = `# proxy users\n${T1}=alice, bob\n${T2}=alice2,malice\n${TSTAR}=*\n`;

const decisions: Array<[token: string, user: string, want: Decision]> = [
  [T1, 'alice', 'allowed'],
  [T1, 'bob', 'allowed'],
  [T1, 'carol', 'user-not-allowed'],
  [T1, 'Alice', 'user-not-allowed'], // exact match, case-sensitive
  [T1, 'alice ', 'user-not-allowed'],
  [T1, '', 'user-not-allowed'],
  [T2, 'alice', 'user-not-allowed'], // substring of alice2 and malice
  [T2, 'alic', 'user-not-allowed'],
  [T2, 'alice2,malice', 'user-not-allowed'],
  [T2, 'alice2', 'allowed'],
  [T2, 'malice', 'allowed'],
  [TSTAR, 'anyone', 'allowed'],
  [TSTAR, 'x.y@z-1', 'allowed'],
  [TSTAR, '../etc', 'user-not-allowed'], // '*' is any valid user, not any string
  [TSTAR, '', 'user-not-allowed'],
  ['tok-unknown-99', 'alice', 'unknown-token'],
  ['', 'alice', 'unknown-token'],
  [T1.slice(0, -1), 'alice', 'unknown-token'], // prefix of a real token
  [T1 + 'x', 'alice', 'unknown-token'],
  [T1.toUpperCase(), 'alice', 'unknown-token'],
];

const { allowlist, problems } = build(FILE);
for (const [token, user, want] of decisions) {
  test(`decide(${maskToken(token)}, ${JSON.stringify(user)}) = ${want}`, () => {
    assert.deepEqual(problems, []);
    assert.equal(allowlist.decide(token, user), want);
  });
}

test('entries() lists fingerprints, users and lines in file order', () => {
  assert.equal(allowlist.size, 3);
  assert.deepEqual(allowlist.entries(), [
    { fingerprint: tokenFingerprint(T1), users: ['alice', 'bob'], line: 2 },
    { fingerprint: tokenFingerprint(T2), users: ['alice2', 'malice'], line: 3 },
    { fingerprint: tokenFingerprint(TSTAR), users: '*', line: 4 },
  ]);
  assert.ok(!JSON.stringify(allowlist.entries()).includes('tok-'));
});

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

// Each case: file text and the expected [line, message pattern] problems.
const problemCases: Array<{ name: string; text: string; want: Array<[number, RegExp]> }> = [
  { name: 'empty token', text: '=alice', want: [[1, /^empty token$/]] },
  { name: 'short token', text: '\nshort=alice', want: [[2, /token too short \(5 chars, min 8\)/]] },
  { name: 'whitespace in token', text: 'abc\\ defghij=alice', want: [[1, /whitespace or a control character \(U\+0020\) at position 4/]] },
  { name: 'control char in token', text: 'abcdefgh\\u0007=alice', want: [[1, /control character \(U\+0007\)/]] },
  { name: 'zero-width char in token', text: 'abcdefgh\\u200B=alice', want: [[1, /U\+200B/]] },
  { name: 'empty user list', text: 'goodtoken1=\ngoodtoken2=   ', want: [[1, /empty user list/], [2, /empty user list/]] },
  { name: 'empty item', text: 'goodtoken1=alice,,bob', want: [[1, /user #2 in the list is empty/]] },
  { name: 'trailing comma', text: 'goodtoken1=alice,', want: [[1, /user #2 in the list is empty/]] },
  { name: 'invalid user name', text: '\n\ngoodtoken1=alice,b ob', want: [[3, /user #2 is an invalid user name: .*U\+0020/]] },
  { name: 'star mixed with names', text: 'goodtoken1=alice,*', want: [[1, /"\*".*stand alone/]] },
  { name: 'star mixed, star first', text: 'goodtoken1=*, alice', want: [[1, /user #1 is "\*"/]] },
  {
    name: 'duplicate token reports both lines',
    text: 'dupetoken1=alice\nother-token=bob\ndupetoken1=carol',
    want: [[1, /duplicate token \(also on line 3\)/], [3, /duplicate token \(also on line 1\)/]],
  },
  {
    name: 'continuation entry reported at its first line',
    text: 'goodtoken1=alice,\\\n   ,bob',
    want: [[1, /user #2 in the list is empty/]],
  },
];

for (const c of problemCases) {
  test(`buildAllowlist problem: ${c.name}`, () => {
    const { problems } = build(c.text);
    assert.equal(problems.length, c.want.length, JSON.stringify(problems));
    c.want.forEach(([line, re], i) => {
      assert.equal(problems[i]!.line, line);
      assert.match(problems[i]!.message, re);
    });
  });
}

test('entries with problems and duplicated tokens are left out (fail closed)', () => {
  const { allowlist, problems } = build('dupetoken1=alice\nokay-token=bob,b ob\ndupetoken1=alice\ngood-token=carol');
  assert.equal(problems.length, 3);
  assert.equal(allowlist.size, 1);
  assert.equal(allowlist.decide('dupetoken1', 'alice'), 'unknown-token');
  assert.equal(allowlist.decide('okay-token', 'bob'), 'unknown-token');
  assert.equal(allowlist.decide('good-token', 'carol'), 'allowed');
});

test('problem messages never contain the token or the user-list text', () => {
  const secret = 'S3cr3tT0ken!!';
  const texts = [
    `${secret}=`,
    `${secret}=alice,,`,
    `${secret}=${secret}x y`, // a token pasted into the user list by mistake
    `${secret}=a\n${secret}=b`,
    `${secret}\\ x=alice`,
  ];
  for (const text of texts) {
    const { problems } = build(text);
    assert.ok(problems.length > 0, text);
    for (const p of problems) assert.ok(!p.message.includes(secret) && !p.message.includes('S3cr'), p.message);
  }
});

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

test('100,000 tokens build, and lookups work', () => {
  const lines: string[] = [];
  for (let i = 0; i < 100_000; i++) lines.push(`token-${String(i).padStart(8, '0')}=user${i % 97},svc_${i}`);
  const { allowlist, problems } = build(lines.join('\n'));
  assert.deepEqual(problems, []);
  assert.equal(allowlist.size, 100_000);
  assert.equal(allowlist.decide('token-00099999', 'svc_99999'), 'allowed');
  assert.equal(allowlist.decide('token-00099999', 'svc_99998'), 'user-not-allowed');
  assert.equal(allowlist.decide('token-00100000', 'svc_99999'), 'unknown-token');
  assert.equal(allowlist.entries()[12_345]!.line, 12_346);
});
