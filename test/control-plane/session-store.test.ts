import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMPACT_FROM_BYTES, createRevokedSessionStore, loadSessionSecret } from '../../src/control-plane/session-store';

const dir = () => mkdtempSync(join(tmpdir(), 'lgw-sessions-'));

test('the configured secret wins; otherwise one is generated once, 0600, and read back by every later start', () => {
  assert.equal(loadSessionSecret('x'.repeat(40), dir()), 'x'.repeat(40));
  const d = dir();
  const first = loadSessionSecret('', d);
  assert.match(first, /^[0-9a-f]{64}$/);
  assert.equal(statSync(join(d, 'session.secret')).mode & 0o777, 0o600);
  assert.equal(loadSessionSecret('', d), first, 'a restart keeps the sessions valid');
});

test('a session.secret too short is an error that says what to do', () => {
  const d = dir();
  writeFileSync(join(d, 'session.secret'), 'short\n');
  assert.throws(() => loadSessionSecret('', d), /at least 32 characters; delete the file/);
});

test('revocations: kept until expiry, appended for other processes, read back by reload', () => {
  let clock = 1_000;
  const d = dir();
  const a = createRevokedSessionStore(d, () => clock);
  const b = createRevokedSessionStore(d, () => clock);
  a.revoke({ id: 's1', expires: 5_000 });
  assert.ok(a.has('s1'));
  assert.ok(!b.has('s1'), 'another process learns it on reload');
  b.reload();
  assert.ok(b.has('s1'));
  appendFileSync(join(d, 'sessions.revoked'), 'not json\n{"id":7}\n');
  b.reload();
  assert.ok(b.has('s1'), 'junk lines revoke nothing and break nothing');
  clock = 5_000;
  b.reload();
  assert.ok(!b.has('s1'), 'an expired session needs no revocation');
  assert.equal(readFileSync(join(d, 'sessions.revoked'), 'utf8').split('\n')[0], '{"id":"s1","expires":5000}');
  a.close();
  b.close();
});

test('revocations: once the file is large and mostly expired, a reload rewrites it without the expired lines', async () => {
  let clock = 1_000_000;
  const d = dir();
  const file = join(d, 'sessions.revoked');
  const a = createRevokedSessionStore(d, () => clock);
  const b = createRevokedSessionStore(d, () => clock);
  // A busy day of logouts: most sessions would have expired by now anyway.
  for (let i = 0; i < 2000; i++) a.revoke({ id: `old-${i}`, expires: 1_000_000 + i });
  for (let i = 0; i < 10; i++) a.revoke({ id: `live-${i}`, expires: 9_000_000 });
  assert.ok(statSync(file).size >= COMPACT_FROM_BYTES, 'large enough to compact');
  clock = 2_000_000;
  b.reload();
  await b.close(); // waits for the compaction it started
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  assert.equal(lines.length, 10, 'only the sessions still to be refused');
  assert.ok(lines.every((l) => /"live-\d"/.test(l)));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  a.reload();
  for (let i = 0; i < 10; i++) assert.ok(a.has(`live-${i}`), 'every process still refuses the live ones');
  const c = createRevokedSessionStore(d, () => clock);
  assert.ok(c.has('live-3'), 'and so does a process started after');
  await a.close();
  await c.close();
});

test('revocations: a large file that is mostly live is left as it is', async () => {
  let clock = 0;
  const d = dir();
  const a = createRevokedSessionStore(d, () => clock);
  for (let i = 0; i < 2000; i++) a.revoke({ id: `s-${i}`, expires: i < 900 ? 10 : 1_000 });
  const before = readFileSync(join(d, 'sessions.revoked'), 'utf8');
  clock = 100;
  a.reload();
  await a.close();
  assert.equal(readFileSync(join(d, 'sessions.revoked'), 'utf8'), before);
});
