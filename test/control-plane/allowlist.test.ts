import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProperties } from '../../src/linkis/properties';
import { buildAllowlist, buildAllowlistInSlices, type Decision } from '../../src/control-plane/allowlist';
import { maskToken, tokenFingerprint, type TokenPolicy } from '../../src/control-plane/token-policy';

function build(text: string, tokenPolicy?: TokenPolicy) {
  const parsed = parseProperties(text);
  assert.deepEqual(parsed.problems, []);
  return buildAllowlist(parsed.entries, tokenPolicy ? { tokenPolicy } : undefined);
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


// Each case: file text and the expected [line, message pattern] problems.
const problemCases: Array<{ name: string; text: string; want: Array<[number, RegExp]> }> = [
  { name: 'empty token', text: '=alice', want: [[1, /^empty token$/]] },
  { name: 'short token is no problem under warn (a warning)', text: '\nshort=alice', want: [] },
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
    // Under strict the same problems, plus weak-token ones; none of these cases has a strong token with a problem.
    for (const [line] of c.want) assert.ok(build(c.text, 'strict').problems.some((p) => p.line === line), `${c.name}: line ${line} under strict`);
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

// ---- weak tokens: what makes one, and what each policy does with it ----


// [name, file, policy, want problems [line, re], want warnings [line, re], tokens in force]
const policyCases: Array<[string, string, TokenPolicy | undefined, Array<[number, RegExp]>, Array<[number, RegExp]>, number]> = [
  ['short token, warn: works, warned', '# c\nabc=alice\n', 'warn', [], [[2, /^weak token: shorter than 16 characters \(3\); replace it/]], 1],
  ['short token, no policy given: as warn', 'abc=alice\n', undefined, [], [[1, /^weak token: shorter than 16/]], 1],
  ['short token, strict: a problem', '# c\nabc=alice\n', 'strict', [[2, /^weak token: shorter than 16 characters \(3\); refused by gateway\.token\.policy=strict$/]], [], 0],
  ['Linkis default, warn', 'LINKIS-UNAVAILABLE-TOKEN=*\n', 'warn', [], [[1, /well-known Linkis default/]], 1],
  ['Linkis default, strict', 'LINKIS-UNAVAILABLE-TOKEN=*\n', 'strict', [[1, /well-known Linkis default.*strict/]], [], 0],
  ['low variety, warn', `${'ab'.repeat(10)}=alice\n`, 'warn', [], [[1, /only 2 distinct characters/]], 1],
  ['low variety, strict', `${'ab'.repeat(10)}=alice\n`, 'strict', [[1, /only 2 distinct characters/]], [], 0],
  ['empty token: a problem under warn too', '=alice\n', 'warn', [[1, /^empty token$/]], [], 0],
  ['whitespace in a short token: a problem under warn, and no weak warning', 'a\\ b=alice\n', 'warn', [[1, /whitespace or a control character/]], [], 0],
  ['control character in a token: a problem under warn', `${'k'.repeat(20)}\\u0007=alice\n`, 'warn', [[1, /control character \(U\+0007\)/]], [], 0],
  ['weak token with a bad user: the user problem, and the warning', 'abc=al ice\n', 'warn', [[1, /user #1 is an invalid user name/]], [[1, /weak token/]], 0],
  ['weak token listed twice: duplicate problems and both warnings', 'abc=alice\nabc=bob\n', 'warn', [[1, /duplicate token \(also on line 2\)/], [2, /duplicate token \(also on line 1\)/]], [[1, /weak/], [2, /weak/]], 0],
  ['star mixed with names still a problem under warn', 'abc=alice,*\n', 'warn', [[1, /must stand alone/]], [[1, /weak/]], 0],
  ['strong tokens: nothing under either policy (warn)', `${T1}x9Z=alice\n9f2c4e1a7b3d5f60c8e2a4b6d8f01357=*\n`, 'warn', [], [], 2],
  ['strong tokens: nothing under either policy (strict)', `${T1}x9Z=alice\n9f2c4e1a7b3d5f60c8e2a4b6d8f01357=*\n`, 'strict', [], [], 2],
  ['strict refuses only the weak line (the store refuses the file)', `9f2c4e1a7b3d5f60c8e2a4b6d8f01357=*\nBML-AUTH=bob\n`, 'strict', [[2, /well-known/]], [], 1],
];

for (const [name, text, policy, wantProblems, wantWarnings, size] of policyCases) {
  test(`token policy: ${name}`, async () => {
    const parsed = parseProperties(text);
    assert.deepEqual(parsed.problems, []);
    const opts = policy ? { tokenPolicy: policy } : undefined;
    for (const r of [buildAllowlist(parsed.entries, opts), await buildAllowlistInSlices(parsed.entries, opts ?? {})]) {
      assert.deepEqual(r.problems.map((p) => p.line), wantProblems.map(([l]) => l), JSON.stringify(r.problems));
      wantProblems.forEach(([, re], i) => assert.match(r.problems[i]!.message, re));
      assert.deepEqual(r.warnings.map((w) => w.line), wantWarnings.map(([l]) => l), JSON.stringify(r.warnings));
      wantWarnings.forEach(([, re], i) => assert.match(r.warnings[i]!.message, re));
      assert.equal(r.allowlist.size, size);
    }
  });
}

test('under warn a weak token decides like any other; under strict it is not in the allowlist', () => {
  const text = 'abc=alice\nLINKIS-UNAVAILABLE-TOKEN=*\n';
  const warn = build(text, 'warn').allowlist;
  assert.equal(warn.decide('abc', 'alice'), 'allowed');
  assert.equal(warn.decide('abc', 'bob'), 'user-not-allowed');
  assert.equal(warn.decide('LINKIS-UNAVAILABLE-TOKEN', 'hadoop'), 'allowed');
  assert.equal(warn.decide('linkis-unavailable-token', 'hadoop'), 'unknown-token', 'the match is case-insensitive for warnings only, never for auth');
  const strict = build(text, 'strict').allowlist;
  assert.equal(strict.decide('abc', 'alice'), 'unknown-token');
  assert.equal(strict.decide('LINKIS-UNAVAILABLE-TOKEN', 'hadoop'), 'unknown-token');
});

test('buildAllowlistInSlices still takes sliceMs as its second argument', async () => {
  const parsed = parseProperties('abc=alice\n');
  const r = await buildAllowlistInSlices(parsed.entries, 1);
  assert.equal(r.allowlist.size, 1);
  assert.equal(r.warnings.length, 1);
});

test('warning messages never contain the token', () => {
  for (const token of ['S3cr3tT0k', 'LINKIS-UNAVAILABLE-TOKEN', 'Qml-Auth', 'zzzzzzzzzzzzzzzzzzzzzz', 'xyxyxyxyxyxyxyxyxyxy']) {
    for (const policy of ['warn', 'strict'] as const) {
      const r = build(`${token}=alice\n`, policy);
      const messages = [...r.problems, ...r.warnings].map((p) => p.message);
      assert.equal(messages.length, 1, `${token} ${policy}`);
      for (const m of messages) assert.ok(!m.toLowerCase().includes(token.toLowerCase()) && !m.includes(token.slice(0, 6)), m);
    }
  }
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
