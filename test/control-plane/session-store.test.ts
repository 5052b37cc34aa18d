import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createRevokedSessionStore, loadSessionSecret } from '../../src/control-plane/session-store';

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
