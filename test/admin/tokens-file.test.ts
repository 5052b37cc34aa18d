import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenFingerprint } from '../../src/control-plane/token-policy';
import { AdminError } from '../../src/admin/admin-error';
import { escapeKey, escapeValue, splitPhysicalLines, joinPhysicalLines, valueOffset } from '../../src/admin/properties-text';
import { applyEdit, checkUsers, normalizeFingerprint, readTokens, type TokenEdit } from '../../src/admin/tokens-file';
import { generateToken } from '../../src/admin/tokens-service';
import { weakTokenReason } from '../../src/control-plane/token-policy';
import { parseProperties } from '../../src/linkis/properties';

const A = 'aaaaaaaa-token-0001';
const B = 'bbbbbbbb-token-0002';
const C = 'cccccccc-token-0003';
/** A base64 token pasted into a user list by mistake. */
const PASTED = 'dG9rZW4rcGFzdGVk/aW4=';
const fa = tokenFingerprint(A);
const fb = tokenFingerprint(B);

function refused(fn: () => unknown, code: string, message?: RegExp): AdminError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AdminError, String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

test('edits touch only their entry: comments, blanks, order, unrelated lines and terminators stay', () => {
  const table: Array<[name: string, before: string, edit: TokenEdit, after: string]> = [
    ['set users, LF', `# head\n${A}=alice\n\n! bang\n${B}=*\n`, { op: 'set-users', fingerprint: fb, users: ['x', 'y'] }, `# head\n${A}=alice\n\n! bang\n${B}=x,y\n`],
    ['set users keeps separator and indentation', `  ${A} : alice\n${B}\tbob\n`, { op: 'set-users', fingerprint: fa, users: '*' }, `  ${A} : *\n${B}\tbob\n`],
    ['set users, CRLF', `# c\r\n${A}=alice\r\n${B}=bob\r\n`, { op: 'add-users', fingerprint: fa, users: ['carol'] }, `# c\r\n${A}=alice,carol\r\n${B}=bob\r\n`],
    ['continued entry is rewritten on one line', `# c\n${A}=alice,\\\n    bob\n${B}=x\n`, { op: 'remove-users', fingerprint: fa, users: ['alice'] }, `# c\n${A}=bob\n${B}=x\n`],
    ['escaped key, continued: rewritten with Java escapes', `abc\\=def\\:ghi=al\\\n ice\n`, { op: 'set-users', fingerprint: tokenFingerprint('abc=def:ghi'), users: ['bob'] }, `abc\\=def\\:ghi=bob\n`],
    ['one-line escaped key is kept as written', `abc\\=def\\u0041ghi=alice\n`, { op: 'add-users', fingerprint: tokenFingerprint('abc=defAghi'), users: ['bob'] }, `abc\\=def\\u0041ghi=alice,bob\n`],
    // The comment right above is the token's label: it goes with the token (token-labels.test.ts has more).
    ['delete takes its label line, keeps the rest', `# head\n\n# for BI\n${A}=alice\n# sched\n${B}=*\n`, { op: 'delete', fingerprint: fa }, `# head\n\n# sched\n${B}=*\n`],
    ['delete a continued entry', `${A}=alice,\\\n bob\n${B}=*`, { op: 'delete', fingerprint: fa }, `${B}=*`],
    ['delete the last line without newline', `${A}=alice\n${B}=*`, { op: 'delete', fingerprint: fb }, `${A}=alice\n`],
    ['create appends', `# only a comment\n`, { op: 'create', token: C, users: ['alice', 'bob'] }, `# only a comment\n${C}=alice,bob\n`],
    ['create: missing final newline added, CRLF kept', `# c\r\n${A}=alice`, { op: 'create', token: C, users: '*' }, `# c\r\n${A}=alice\r\n${C}=*\r\n`],
    ['create in an empty file', ``, { op: 'create', token: C, users: ['a'] }, `${C}=a\n`],
    ['a BOM stays', `\ufeff${A}=alice\n`, { op: 'add-users', fingerprint: fa, users: ['bob'] }, `\ufeff${A}=alice,bob\n`],
    ['add keeps order, skips present users', `${A}=alice,bob\n`, { op: 'add-users', fingerprint: fa, users: ['carol', 'alice'] }, `${A}=alice,bob,carol\n`],
    ['CR-only file', `# c\r${A}=alice\r`, { op: 'create', token: C, users: ['z'] }, `# c\r${A}=alice\r${C}=z\r`],
  ];
  for (const [name, before, edit, after] of table) {
    const r = applyEdit(before, edit);
    assert.equal(r.text, after, name);
    assert.equal(r.changed, true, name);
    assert.deepEqual(readTokens(r.text).problems, [], name);
  }
});

test('results report users before and after, by fingerprint', () => {
  const r = applyEdit(`${A}=alice,bob\n`, { op: 'remove-users', fingerprint: fa.slice('sha256:'.length), users: ['bob'] });
  assert.deepEqual([r.fingerprint, r.usersBefore, r.usersAfter], [fa, ['alice', 'bob'], ['alice']]);
  const c = applyEdit('', { op: 'create', token: C, users: '*' });
  assert.deepEqual([c.fingerprint, c.usersBefore, c.usersAfter], [tokenFingerprint(C), null, '*']);
  const d = applyEdit(`${A}=*\n`, { op: 'delete', fingerprint: fa });
  assert.deepEqual([d.usersBefore, d.usersAfter, d.text], ['*', null, '']);
});

test('an edit that changes nothing says so and returns the same text', () => {
  const text = `# c\n${A}=alice,bob\n`;
  for (const edit of [
    { op: 'add-users', fingerprint: fa, users: ['bob'] },
    { op: 'remove-users', fingerprint: fa, users: ['zed'] },
    { op: 'set-users', fingerprint: fa, users: ['alice', 'bob'] },
  ] as TokenEdit[]) {
    const r = applyEdit(text, edit);
    assert.equal(r.changed, false, edit.op);
    assert.equal(r.text, text);
  }
});

test('refusals: unknown fingerprint, last user, star, a broken file, a duplicate, a continued last line', () => {
  const text = `${A}=alice\n${B}=*\n`;
  refused(() => applyEdit(text, { op: 'delete', fingerprint: tokenFingerprint(C) }), 'TOKEN_NOT_FOUND');
  refused(() => applyEdit(text, { op: 'delete', fingerprint: 'not-a-fingerprint' }), 'TOKEN_NOT_FOUND', /12 hex/);
  refused(() => applyEdit(text, { op: 'remove-users', fingerprint: fa, users: ['alice'] }), 'ADMIN_VALIDATION', /delete the token instead/);
  refused(() => applyEdit(text, { op: 'add-users', fingerprint: fb, users: ['x'] }), 'ADMIN_VALIDATION', /any user/);
  refused(() => applyEdit(text, { op: 'remove-users', fingerprint: fb, users: ['x'] }), 'ADMIN_VALIDATION', /any user/);
  const broken = refused(() => applyEdit(`${A}=alice\n=bob\n`, { op: 'set-users', fingerprint: fa, users: ['x'] }), 'ADMIN_VALIDATION', /fix them by hand first.*line 2: empty token/);
  assert.deepEqual((broken.data.problems as Array<{ line: number }>).map((p) => p.line), [2]);
  refused(() => applyEdit(text, { op: 'create', token: A, users: ['x'] }), 'ADMIN_VALIDATION', /already in the file \(line 1\)/);
  refused(() => applyEdit(text, { op: 'create', token: 'short', users: ['x'] }), 'ADMIN_VALIDATION', /refusing to create a weak token \(shorter than 16 characters \(5\)\)/);
  refused(() => applyEdit(text, { op: 'create', token: 'LINKIS-UNAVAILABLE-TOKEN', users: ['x'] }), 'ADMIN_VALIDATION', /weak token \(a well-known Linkis default/);
  refused(() => applyEdit(text, { op: 'create', token: 'has space inside', users: ['x'] }), 'ADMIN_VALIDATION');
  // A last line continued with a backslash would swallow an appended entry: refused, not mangled.
  refused(() => applyEdit(`# c\\\n${A}=alice,\\`, { op: 'create', token: C, users: ['x'] }), 'ADMIN_VALIDATION');
});

// A file as Linkis's own gateway takes it: a short token, a Linkis default, a strong one.
const WEAK_FILE = `# from Linkis\nabc=alice\n${A}=bob\nLINKIS-UNAVAILABLE-TOKEN=*\n`;

test('readTokens marks each weak token with why, and only weak ones', () => {
  const { tokens, problems } = readTokens(WEAK_FILE);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    tokens.map((t) => [t.line, t.weak]),
    [
      [2, 'shorter than 16 characters (3)'],
      [3, undefined],
      [4, 'a well-known Linkis default or example value'],
    ],
  );
  assert.ok(!('weak' in tokens[1]!), 'a strong token has no weak field');
  assert.ok(!JSON.stringify(tokens).includes('UNAVAILABLE') && !JSON.stringify(tokens).includes('abc'), 'no token in the listing');
});

test('token policy: under warn a file with weak tokens can be edited; under strict it is refused until fixed by hand', () => {
  const fw = tokenFingerprint('abc');
  const warn = applyEdit(WEAK_FILE, { op: 'add-users', fingerprint: fw, users: ['carol'] });
  assert.equal(warn.text, WEAK_FILE.replace('abc=alice', 'abc=alice,carol'));
  assert.equal(applyEdit(WEAK_FILE, { op: 'create', token: C, users: ['z'] }, { tokenPolicy: 'warn' }).text, `${WEAK_FILE}${C}=z\n`);
  const strict = refused(() => applyEdit(WEAK_FILE, { op: 'add-users', fingerprint: fa, users: ['carol'] }, { tokenPolicy: 'strict' }), 'ADMIN_VALIDATION', /fix them by hand first.*line 2: weak token/);
  assert.deepEqual((strict.data.problems as Array<{ line: number }>).map((p) => p.line), [2, 4]);
  assert.ok(!strict.message.includes('UNAVAILABLE') && !strict.message.includes('abc'), strict.message);
  // Deleting the weak tokens by hand makes the file editable under strict again.
  const fixed = WEAK_FILE.replace('abc=alice\n', '').replace('LINKIS-UNAVAILABLE-TOKEN=*\n', '');
  assert.equal(applyEdit(fixed, { op: 'add-users', fingerprint: fa, users: ['carol'] }, { tokenPolicy: 'strict' }).text, fixed.replace(`${A}=bob`, `${A}=bob,carol`));
  assert.deepEqual(readTokens(WEAK_FILE, { tokenPolicy: 'strict' }).problems.map((p) => p.line), [2, 4]);
});

test('generated tokens are never weak', () => {
  for (let i = 0; i < 2000; i++) {
    const t = generateToken();
    assert.equal(weakTokenReason(t), null, t);
  }
});

test('refusal messages never quote a token', () => {
  for (const fn of [
    () => applyEdit(`${A}=alice\n${A}=bob\n`, { op: 'delete', fingerprint: fa }),
    () => applyEdit(`${A}=alice\n`, { op: 'create', token: A, users: ['x'] }),
    () => checkUsers(['ok', PASTED], false),
  ]) {
    const err = refused(fn, 'ADMIN_VALIDATION');
    for (const secret of [A, PASTED]) assert.ok(!err.message.includes(secret) && !JSON.stringify(err.data).includes(secret), err.message);
  }
});

test('checkUsers: the allowlist rules, named by position; * alone', () => {
  assert.deepEqual(checkUsers(['alice', ' bob ', 'alice'], true), ['alice', 'bob']);
  assert.equal(checkUsers(['*'], true), '*');
  refused(() => checkUsers(['*'], false), 'ADMIN_VALIDATION', /not a user name here/);
  refused(() => checkUsers(['alice', '*'], true), 'ADMIN_VALIDATION', /must stand alone/);
  refused(() => checkUsers([], true), 'ADMIN_VALIDATION', /empty/);
  refused(() => checkUsers(['ok', 'bad name'], true), 'ADMIN_VALIDATION', /user #2 .*bad character " "|user #2 .*U\+0020/);
  refused(() => checkUsers(['-x'], true), 'ADMIN_VALIDATION', /must start with/);
  refused(() => checkUsers(['a'.repeat(65)], true), 'ADMIN_VALIDATION', /too long/);
});

test('normalizeFingerprint accepts the listed form and the bare hex', () => {
  assert.equal(normalizeFingerprint(fa), fa);
  assert.equal(normalizeFingerprint(fa.slice(7).toUpperCase()), fa);
  refused(() => normalizeFingerprint(A), 'TOKEN_NOT_FOUND');
});

test('Java escaping round-trips through the parser', () => {
  const keys = ['plain-token-123', 'with space', 'a=b:c#d!e\\f', ' lead', 'tab\there', 'uni\u00e9\u4e2d', 'nl\nin', 'emoji\u{1F600}'];
  for (const key of keys) {
    const value = ' v=a:l#u!e ';
    const line = `${escapeKey(key)}=${escapeValue(value)}`;
    const { entries, problems } = parseProperties(line);
    assert.deepEqual(problems, []);
    assert.deepEqual([entries[0]!.key, entries[0]!.value], [key, value], line);
    assert.match(line, /^[\x20-\x7e]*$/, 'escaped text is printable ASCII');
  }
});

test('physical lines split and join back byte-for-byte', () => {
  for (const text of ['', 'a', 'a\n', 'a\r\nb\rc\n\n', '\ufeffx\r\n', '\n\n', 'a\\\nb']) {
    assert.equal(joinPhysicalLines(splitPhysicalLines(text)), text, JSON.stringify(text));
    assert.equal(splitPhysicalLines(text).lines.length, text.replace(/^\ufeff/, '').split(/\r\n|\r|\n/).filter((_, i, a) => i < a.length - 1 || a[i] !== '').length);
  }
});

test('valueOffset follows the Java key/value split', () => {
  const table: Array<[string, string]> = [
    ['k=v', 'v'],
    ['k = v', 'v'],
    ['  k:v', 'v'],
    ['k v', 'v'],
    ['k \t: v', 'v'],
    ['k\\=x=v', 'v'],
    ['k\\ x v', 'v'],
    ['k', ''],
    ['k==v', '=v'],
  ];
  for (const [line, value] of table) assert.equal(line.slice(valueOffset(line)), value, line);
});
