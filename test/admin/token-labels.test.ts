/**
 * Labels: the comment line right above a token in proxy.properties names it (the README's own example puts
 * the service there). Shown by readTokens, set at creation (with a created stamp) and later, removed with
 * the token; never taken from a comment that may hold a secret; no edit ever relabels another token.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdminError } from '../../src/admin/admin-error';
import { applyEdit, readTokens, type TokenEdit } from '../../src/admin/tokens-file';
import { tokenFingerprint } from '../../src/control-plane/token-policy';
import { parseProperties } from '../../src/linkis/properties';

const A = 'aaaaaaaa-token-0001';
const B = 'bbbbbbbb-token-0002';
const C = 'cccccccc-token-0003';
const fa = tokenFingerprint(A);
const fb = tokenFingerprint(B);
const STAMP = { at: '2026-11-28T11:19:12Z', by: 'anna' };

const labels = (text: string) => readTokens(text).tokens.map((t) => [t.label ?? null, t.created ?? null, t.createdBy ?? null]);

test('the comment line right above a token is its label; created and by come from the stamp', () => {
  const text = [
    '# The allowlist',
    '',
    '# BI service: may act as these users only',
    `${A}=alice,bob`,
    `! scheduler (created ${STAMP.at} by anna)`,
    `${B}=*`,
    `${C}=carol`,
  ].join('\n');
  assert.deepEqual(labels(text), [
    ['BI service: may act as these users only', null, null],
    ['scheduler', STAMP.at, 'anna'],
    [null, null, null], // an entry right above: no label
  ]);
  assert.deepEqual(labels(`# (created ${STAMP.at})\n${A}=x\n#\n${B}=y\n# b\n\n${C}=z\n`), [
    [null, STAMP.at, null],
    [null, null, null],
    [null, null, null], // a blank line parts the comment from the token
  ]);
  // A "#" continuing a value is part of it, not a comment.
  assert.deepEqual(labels(`${A}=alice,\\\n# bob\n${B}=x\n`), [[null, null, null], [null, null, null]]);
  assert.deepEqual(parseProperties(`${A}=alice,\\\n# bob\n`).entries[0]!.value, 'alice,# bob');
});

test('a comment that may hold a secret is never a label: commented-out entries, token-like words, a live token', () => {
  for (const comment of [
    '# 9f2c4e1a7b3d5f60c8e2a4b6d8f01357=hadoop,alice',
    '#9f2c4e1a7b3d5f60c8e2a4b6d8f01357 : *',
    '# 3f5abec6a1d2e4f5a6b7c8d9e0f1a2b3',
    `# old copy of ${B} for the BI team`,
    '# the BI token was dG9rZW4rcGFzdGVkL2Jhc2U2NA=',
  ]) {
    const r = readTokens(`${comment}\n${A}=alice\n${B}=bob\ndG9rZW4rcGFzdGVkL2Jhc2U2NA\\==x\n`);
    assert.equal(r.tokens[0]!.label, undefined, comment);
    assert.deepEqual(r.problems, []);
    assert.ok(!['9f2c4e1a', '3f5abec6', B, 'dG9rZW4r'].some((s) => JSON.stringify(r).includes(s)), comment);
  }
  // Ordinary labels with digits and separators are labels.
  assert.equal(readTokens(`# ETL 2024: nightly=on\n${A}=x\n`).tokens[0]!.label, 'ETL 2024: nightly=on');
});

test('create writes the label line with its stamp; CRLF and a missing final newline are respected', () => {
  const r = applyEdit(`# head\r\n${A}=alice`, { op: 'create', token: C, users: ['carol'], label: ' BI nightly ', created: STAMP });
  assert.equal(r.text, `# head\r\n${A}=alice\r\n# BI nightly (created ${STAMP.at} by anna)\r\n${C}=carol\r\n`);
  assert.deepEqual([r.labelBefore, r.labelAfter], [null, 'BI nightly']);
  const plain = applyEdit('', { op: 'create', token: C, users: '*', label: '', created: STAMP });
  assert.equal(plain.text, `# (created ${STAMP.at} by anna)\n${C}=*\n`);
  assert.deepEqual(readTokens(plain.text).tokens[0]!.created, STAMP.at);
  // A file ending in a comment: the new token has its own line above it, so it does not inherit that comment.
  const after = applyEdit(`${A}=x\n# end\n`, { op: 'create', token: C, users: ['z'], label: '', created: STAMP });
  assert.equal(readTokens(after.text).tokens[1]!.label, undefined);
});

test('set-label replaces, inserts or removes only the label line; the stamp and the comment marker stay', () => {
  const table: Array<[string, string, string, string]> = [
    ['replace, keep stamp and marker', `!  old (created ${STAMP.at} by anna)\n${A}=x\n`, 'new name', `!  new name (created ${STAMP.at} by anna)\n${A}=x\n`],
    ['insert where there is none', `${B}=y\n${A}=x\n`, 'billing', `${B}=y\n# billing\n${A}=x\n`],
    ['insert below a comment that is not a label (kept)', `# 9f2c4e1a7b3d5f60c8e2a4b6d8f01357=x\n${A}=x\n`, 'billing', `# 9f2c4e1a7b3d5f60c8e2a4b6d8f01357=x\n# billing\n${A}=x\n`],
    ['remove: the line goes', `${B}=y\n# old\n${A}=x\n`, '', `${B}=y\n${A}=x\n`],
    ['remove: the stamp stays', `# old (created ${STAMP.at})\n${A}=x\n`, '', `# (created ${STAMP.at})\n${A}=x\n`],
    ['remove next to another comment: a blank line, so that comment does not become the label', `# section\n# old\n${A}=x\n`, '', `# section\n\n${A}=x\n`],
    ['CRLF', `# a\r\n${A}=x\r\n`, 'b', `# b\r\n${A}=x\r\n`],
  ];
  for (const [name, before, label, after] of table) {
    const r = applyEdit(before, { op: 'set-label', fingerprint: fa, label });
    assert.equal(r.text, after, name);
    assert.equal(readTokens(r.text).tokens.find((t) => t.fingerprint === fa)!.label ?? '', label, name);
  }
  const same = applyEdit(`# same\n${A}=x\n`, { op: 'set-label', fingerprint: fa, label: ' same ' });
  assert.equal(same.changed, false);
});

test('delete takes the label line along and never hands another comment to the next token', () => {
  assert.equal(applyEdit(`# a\n${A}=x\n# b\n${B}=y\n`, { op: 'delete', fingerprint: fa }).text, `# b\n${B}=y\n`);
  // "# section" would end up right above B: a blank line keeps B unlabelled, as it was.
  const r = applyEdit(`# section\n# a\n${A}=x\n${B}=y\n`, { op: 'delete', fingerprint: fa });
  assert.equal(r.text, `# section\n\n${B}=y\n`);
  assert.equal(readTokens(r.text).tokens[0]!.label, undefined);
  // No label line: only the entry goes; a comment that is not a label stays.
  assert.equal(applyEdit(`# 9f2c4e1a7b3d5f60c8e2a4b6d8f01357=x\n${A}=x\n`, { op: 'delete', fingerprint: fa }).text, `# 9f2c4e1a7b3d5f60c8e2a4b6d8f01357=x\n`);
});

test('labels are checked: one printable line, at most 100 characters, nothing like a token or a stamp', () => {
  const bad: Array<[string, RegExp]> = [
    ['two\nlines', /one line/],
    ['tab\there', /one line/],
    ['x'.repeat(101), /at most 100/],
    ['9f2c4e1a7b3d5f60c8e2a4b6d8f01357', /look like a token/],
    ['old=9f2c4e1a7b3d5f60c8e2a4b6d8f01357', /look like a token/],
    [`copy of ${B}`, /look like a token/],
    [`fake (created ${STAMP.at})`, /created/],
    ['# hash', /must not start with #/],
  ];
  for (const [label, message] of bad) {
    for (const edit of [{ op: 'set-label', fingerprint: fa, label }, { op: 'create', token: C, users: ['x'], label }] as TokenEdit[]) {
      assert.throws(() => applyEdit(`${A}=x\n${B}=y\n`, edit), (e: Error) => e instanceof AdminError && e.code === 'ADMIN_VALIDATION' && message.test(e.message) && !e.message.includes(B), `${edit.op} ${label}`);
    }
  }
  assert.equal(applyEdit(`${A}=x\n`, { op: 'set-label', fingerprint: fa, label: '商业智能 · 夜间报表' }).text, `# 商业智能 · 夜间报表\n${A}=x\n`);
  assert.equal(applyEdit(`${A}=x\n`, { op: 'set-label', fingerprint: fa, label: 'x'.repeat(100) }).changed, true);
});

test("no edit changes another token's label", () => {
  const text = `# a\n${A}=x\n# b\n${B}=y\n`;
  for (const edit of [
    { op: 'add-users', fingerprint: fa, users: ['z'] },
    { op: 'set-label', fingerprint: fb, label: 'bee' },
    { op: 'delete', fingerprint: fb },
    { op: 'create', token: C, users: ['z'], label: 'c', created: STAMP },
  ] as TokenEdit[]) {
    const r = applyEdit(text, edit);
    assert.equal(readTokens(r.text).tokens[0]!.label, 'a', edit.op);
  }
});
