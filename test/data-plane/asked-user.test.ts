/**
 * Who tried to act as whom: a refused request logs the user it asked for, in its access line and in
 * `auth.refused`, for every credential form (headers, cookies, logins, sessions): sanitized, capped, and
 * never a token, even when a client puts its token where the user belongs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { askedUserOf } from '../../src/data-plane/auth';
import { ENTRANCE, TOKEN, call, startAll, type TestGateway } from '../support/harness';

const LOGIN = '/api/rest_j/v1/user/login';
const body = JSON.stringify({ executionContent: { code: 'show tables', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'alice-LINKISCLI' } });

function submitWith(gw: TestGateway, headers: Record<string, string>) {
  return call(`${gw.url}${ENTRANCE}/submit`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

function sessionCookieOf(res: { headers: Headers }): string {
  const set = res.headers.getSetCookie().find((c) => c.startsWith('linkis_gateway_session='));
  assert.ok(set, 'a session cookie is set');
  return set.split(';')[0]!;
}

describe('who tried to act as whom: refusals log the user asked for', () => {
  /** The access line and the auth.refused line of the request with this id. */
  async function linesOf(gw: TestGateway, requestId: string) {
    for (let i = 0; i < 100 && !gw.logs.some((l) => l.message === 'access' && l.requestId === requestId); i++) await new Promise((r) => setTimeout(r, 10));
    return {
      access: gw.logs.find((l) => l.message === 'access' && l.requestId === requestId),
      refused: gw.logs.find((l) => l.event === 'auth.refused' && l.requestId === requestId),
    };
  }

  it('in the access line and in auth.refused, for every form, sanitized and capped, never a token', async (t) => {
    const { gw } = await startAll(t, 1);
    const id = (n: string) => ({ 'x-request-id': n });
    const long = `u${'x'.repeat(199)}`;
    await submitWith(gw, { 'token-user': 'carol', 'token-code': TOKEN, ...id('not-allowed') });
    await submitWith(gw, { 'proxy-user': 'alice', 'validation-code': 'no-such-token-0123456789', ...id('unknown-token') });
    await submitWith(gw, { 'proxy-user': long, 'validation-code': TOKEN, ...id('long') });
    await submitWith(gw, { 'proxy-user': 'bob', ...id('no-token') });
    // A client that swapped the two headers, or sent one unknown value in both: the "user" is a token.
    await submitWith(gw, { 'proxy-user': TOKEN, 'validation-code': 'alice', ...id('swapped') });
    await submitWith(gw, { 'token-user': 'same-value-0123456789', 'token-code': 'same-value-0123456789', ...id('same') });
    await submitWith(gw, { cookie: 'Token-User=dave; Token-Code=no-such-token-0123456789', ...id('cookie') });
    await call(`${gw.url}${LOGIN}`, { method: 'POST', headers: id('login'), body: JSON.stringify({ userName: 'ev\u00e9\nINFO fake line', password: TOKEN }) });
    await call(`${gw.url}/api/rest_j/v1/user/proxy?proxyUser=frank&validationCode=${TOKEN}`, { headers: id('proxy-login') });

    const expected: Array<[string, string, string]> = [
      ['not-allowed', 'user-not-allowed', 'carol'],
      ['unknown-token', 'unknown-token', 'alice'],
      ['long', 'invalid-user', `${long.slice(0, 64)}…`],
      ['no-token', 'missing', 'bob'],
      ['swapped', 'invalid-user', '[a token]'], // a token where the user goes is refused as a user name
      ['same', 'invalid-user', '[a token]'],
      ['cookie', 'unknown-token', 'dave'],
      ['login', 'invalid-user', 'ev??INFO fake line'],
      ['proxy-login', 'user-not-allowed', 'frank'],
    ];
    for (const [requestId, reason, askedUser] of expected) {
      const { access, refused } = await linesOf(gw, requestId);
      assert.equal(access?.askedUser, askedUser, `access line of ${requestId}: ${JSON.stringify(access)}`);
      assert.equal(access?.user, undefined, 'user stays the authenticated user: none');
      assert.equal(refused?.reason, reason, `auth.refused of ${requestId}: ${JSON.stringify(refused)}`);
      assert.equal(refused?.askedUser, askedUser, `auth.refused of ${requestId}: ${JSON.stringify(refused)}`);
    }
    const raw = gw.rawLogs();
    for (const secret of [TOKEN, 'no-such-token-0123456789', 'same-value-0123456789']) assert.ok(!raw.includes(secret), `a log line holds ${secret}`);
  });

  it('a session refused because it was logged out names its user; an allowed request has no askedUser', async (t) => {
    const { gw } = await startAll(t, 1);
    const cookie = sessionCookieOf(await call(`${gw.url}${LOGIN}`, { method: 'POST', body: JSON.stringify({ userName: 'bob', password: TOKEN }) }));
    await submitWith(gw, { cookie, 'x-request-id': 'allowed' });
    await call(`${gw.url}/api/rest_j/v1/user/logout`, { method: 'POST', headers: { cookie } });
    await submitWith(gw, { cookie, 'x-request-id': 'logged-out' });
    const allowed = await linesOf(gw, 'allowed');
    assert.equal(allowed.access?.user, 'bob');
    assert.equal('askedUser' in allowed.access!, false);
    const out = await linesOf(gw, 'logged-out');
    assert.equal(out.access?.askedUser, 'bob');
    assert.equal(out.refused?.askedUser, 'bob');
  });
});

describe('askedUserOf', () => {
  const allowlist = { decide: (token: string) => (token === TOKEN ? 'user-not-allowed' : 'unknown-token') } as const;
  it('sanitizes, caps at 64 characters, and never returns a token', () => {
    assert.equal(askedUserOf(undefined, TOKEN, allowlist), undefined);
    assert.equal(askedUserOf('', TOKEN, allowlist), '');
    assert.equal(askedUserOf('alice', TOKEN, allowlist), 'alice');
    assert.equal(askedUserOf('a\u0000b\r\nc\u00e9\u{1f600}', TOKEN, allowlist), 'a?b??c???');
    assert.equal(askedUserOf('x'.repeat(65), TOKEN, allowlist), `${'x'.repeat(64)}…`);
    assert.equal(askedUserOf(TOKEN, 'alice', allowlist), '[a token]', 'a configured token');
    assert.equal(askedUserOf('abcdefgh12345678', 'abcdefgh12345678', allowlist), '[a token]', 'the token presented with it');
  });
});
