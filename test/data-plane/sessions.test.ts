import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clearedSessionCookie, createSessionCodec, sessionCookie } from '../../src/data-plane/sessions';

const SECRET = 'a-session-secret-of-at-least-32-characters';
const DIGEST = 'ab'.repeat(32);

test('a sealed session opens to its claims until it expires', () => {
  let clock = 1_700_000_000_000;
  const codec = createSessionCodec(SECRET, 60_000, () => clock);
  const { value, claims } = codec.issue('alice', DIGEST);
  assert.deepEqual(codec.open(value), claims);
  assert.equal(claims.expires, 1_700_000_060_000);
  clock += 59_999;
  assert.equal(codec.open(value)?.user, 'alice');
  clock += 1;
  assert.equal(codec.open(value), null, 'expired at expires');
});

test('the cookie is opaque: neither the user nor the token digest can be read from it', () => {
  const { value } = createSessionCodec(SECRET, 60_000).issue('alice', DIGEST);
  assert.doesNotMatch(value, /alice/);
  assert.doesNotMatch(Buffer.from(value.split('.')[2]!, 'base64url').toString('latin1'), /alice|abab/);
  assert.match(value, /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'cookie-safe characters only');
});

test('tampered, truncated, foreign or junk cookies do not open', () => {
  const codec = createSessionCodec(SECRET, 60_000);
  const { value } = codec.issue('alice', DIGEST);
  const [v, iv, body, tag] = value.split('.') as [string, string, string, string];
  const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
  const cases: Array<[string, string]> = [
    ['body changed', `${v}.${iv}.${flip(body)}.${tag}`],
    ['tag changed', `${v}.${iv}.${body}.${flip(tag)}`],
    ['iv changed', `${v}.${flip(iv)}.${body}.${tag}`],
    ['tag missing', `${v}.${iv}.${body}`],
    ['other version', `v2.${iv}.${body}.${tag}`],
    ['empty', ''],
    ['junk', 'not-a-session'],
    ['too long', `${value}${'A'.repeat(2000)}`],
    ['sealed with another secret', createSessionCodec(`${SECRET}-other`, 60_000).issue('alice', DIGEST).value],
  ];
  for (const [name, cookie] of cases) assert.equal(codec.open(cookie), null, name);
});

test('every session has its own id; a short secret is refused', () => {
  const codec = createSessionCodec(SECRET, 60_000);
  assert.notEqual(codec.issue('alice', DIGEST).claims.id, codec.issue('alice', DIGEST).claims.id);
  assert.throws(() => createSessionCodec('short', 60_000), /at least 32/);
});

test('Set-Cookie values: HttpOnly, Path=/, Max-Age in seconds, Secure when asked; clearing sets Max-Age=0', () => {
  assert.equal(sessionCookie('X', 7_200_000, false), 'linkis_gateway_session=X; Path=/; Max-Age=7200; HttpOnly; SameSite=Lax');
  assert.equal(sessionCookie('X', 7_200_000, true), 'linkis_gateway_session=X; Path=/; Max-Age=7200; HttpOnly; SameSite=Lax; Secure');
  assert.equal(clearedSessionCookie(false), 'linkis_gateway_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax');
});

test('an opened cookie is remembered by its exact value: the same frozen claims, expiry still checked, look-alikes still refused', () => {
  let clock = 1_700_000_000_000;
  const codec = createSessionCodec(SECRET, 60_000, () => clock);
  const { value } = codec.issue('alice', DIGEST);
  const first = codec.open(value);
  assert.ok(first && Object.isFrozen(first), 'shared by requests, so nobody may change it');
  assert.equal(codec.open(value), first, 'a hit unseals nothing');
  const [v, iv, body, tag] = value.split('.') as [string, string, string, string];
  const mid = tag.length >> 1;
  assert.equal(codec.open(`${v}.${iv}.${body}.${tag.slice(0, mid)}${tag[mid] === 'A' ? 'B' : 'A'}${tag.slice(mid + 1)}`), null, 'one character off is another cookie');
  clock += 60_000;
  assert.equal(codec.open(value), null, 'a remembered cookie expires like any other');
  // Many sessions: the memory stays bounded and every one still opens.
  const many = Array.from({ length: 12_000 }, () => codec.issue('bob', DIGEST).value);
  for (const c of many) assert.equal(codec.open(c)?.user, 'bob');
  assert.equal(codec.open(many[0]!)?.user, 'bob');
});
