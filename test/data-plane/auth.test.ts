/**
 * Every way a client authenticates, through a real gateway in front of a simulated Entrance that checks
 * the ticket: Proxy-User/Validation-Code, Token-User/Token-Code headers and cookies (linkis-cli, the Java
 * SDK's TokenAuthenticationStrategy), and sessions from user/login and user/proxy. Same allowlist, same
 * refusals; no credential of any kind reaches the Entrance.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ENTRANCE, OTHER_TOKEN, TOKEN, call, startAll, type TestGateway } from '../support/harness';
import type { EntranceSimulator } from '../../src/simulator/entrance';

const LOGIN = '/api/rest_j/v1/user/login';
const body = (user: string) => JSON.stringify({ executionContent: { code: 'show tables', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: `${user}-LINKISCLI` } });

function submitWith(gw: TestGateway, headers: Record<string, string>) {
  return call(`${gw.url}${ENTRANCE}/submit`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body('alice') });
}

/** What the Entrance received last: the ticket's user, and no credential of the client's. */
function assertReceivedAs(sim: EntranceSimulator, user: string) {
  const r = sim.received.at(-1)!;
  assert.equal(r.ticketUser, user);
  for (const h of ['token-code', 'token-user', 'validation-code', 'proxy-user']) assert.equal(r.headers[h], undefined, h);
  assert.doesNotMatch(String(r.headers.cookie), /Token-|linkis_gateway_session|test-token/i);
}

function sessionCookieOf(res: { headers: Headers }): string {
  const set = res.headers.getSetCookie().find((c) => c.startsWith('linkis_gateway_session='));
  assert.ok(set, 'a session cookie is set');
  return set.split(';')[0]!;
}

describe('authentication forms', () => {
  it('Token-User + Token-Code headers act as the user, like Proxy-User + Validation-Code', async (t) => {
    const { sims, gw } = await startAll(t, 1);
    const res = await submitWith(gw, { 'token-user': 'alice', 'token-code': TOKEN });
    assert.equal(res.status, 200, res.text);
    assertReceivedAs(sims[0]!, 'alice');
    const poll = await call(`${gw.url}${ENTRANCE}/${res.body.data.execID}/status`, { headers: { 'Token-User': 'alice', 'Token-Code': TOKEN } });
    assert.equal(poll.body.status, 0, poll.text);
  });

  it('Token-User + Token-Code as cookies work too, and the cookies are not forwarded', async (t) => {
    const { sims, gw } = await startAll(t, 1);
    const res = await submitWith(gw, { cookie: `theme=dark; Token-User=alice; Token-Code=${TOKEN}` });
    assert.equal(res.status, 200, res.text);
    assertReceivedAs(sims[0]!, 'alice');
    assert.match(String(sims[0]!.received.at(-1)!.headers.cookie), /; theme=dark$/, 'other cookies pass, after the minted ticket');
  });

  it('token refusals are those of the header form: 401/-1, 403/3, 412/2', async (t) => {
    const { sims, gw } = await startAll(t, 1);
    const cases: Array<[Record<string, string>, number, number, string]> = [
      [{ 'token-user': 'alice', 'token-code': 'no-such-token-0123456789' }, 401, -1, 'AUTH_TOKEN_UNKNOWN'],
      [{ 'token-user': 'carol', 'token-code': TOKEN }, 403, 3, 'AUTH_USER_NOT_ALLOWED'],
      [{ 'token-user': 'bad user', 'token-code': TOKEN }, 412, 2, 'AUTH_USER_INVALID'],
      [{ 'token-code': TOKEN }, 401, -1, 'AUTH_MISSING'],
      [{ cookie: 'Token-User=alice' }, 401, -1, 'AUTH_MISSING'],
      [{}, 401, -1, 'AUTH_MISSING'],
    ];
    for (const [headers, http, status, code] of cases) {
      const res = await submitWith(gw, headers);
      assert.equal(res.status, http, `${JSON.stringify(headers)}: ${res.text}`);
      assert.equal(res.body.status, status);
      assert.equal(res.body.data.errorCode, code);
    }
    assert.match((await submitWith(gw, { 'token-code': TOKEN })).body.message, /the Token-User header is missing/);
    assert.equal(sims[0]!.received.length, 0);
  });

  it('user/login with a token as the password opens a session; the cookie acts as the user until logout', async (t) => {
    const { sims, gw } = await startAll(t, 1);
    const login = await call(`${gw.url}${LOGIN}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userName: 'alice', password: TOKEN }) });
    assert.equal(login.status, 200, login.text);
    assert.deepEqual(
      { ...login.body, data: { ...login.body.data } },
      { method: LOGIN, status: 0, message: 'login successful(登录成功)！', data: { userName: 'alice', isAdmin: false, sessionTimeOut: 7_200_000, enableWatermark: false } },
    );
    const setCookie = login.headers.getSetCookie().join('\n');
    assert.match(setCookie, /linkis_gateway_session=v1\.[^;]+; Path=\/; Max-Age=7200; HttpOnly; SameSite=Lax/);
    assert.doesNotMatch(setCookie, /ticket/i, 'never a Linkis ticket');
    const cookie = sessionCookieOf(login);

    const res = await submitWith(gw, { cookie });
    assert.equal(res.status, 200, res.text);
    assertReceivedAs(sims[0]!, 'alice');

    const logout = await call(`${gw.url}/api/rest_j/v1/user/logout`, { method: 'POST', headers: { cookie } });
    assert.equal(logout.body.status, 0);
    assert.match(logout.headers.getSetCookie().join('\n'), /linkis_gateway_session=; Path=\/; Max-Age=0/);
    const after = await submitWith(gw, { cookie });
    assert.equal(after.status, 401);
    assert.equal(after.body.status, -1, 'the Java SDK logs in again on 401');
    assert.equal(after.body.data.errorCode, 'SESSION_ENDED');
    assert.match(after.body.message, /logged out/);
  });

  it('user/proxy?proxyUser=&validationCode= (Linkis\'s proxy login) opens a session too', async (t) => {
    const { sims, gw } = await startAll(t, 1);
    const res = await call(`${gw.url}/api/rest_j/v1/user/proxy?proxyUser=bob&validationCode=${TOKEN}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.proxyUser, 'bob');
    const sub = await call(`${gw.url}${ENTRANCE}/submit`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: sessionCookieOf(res) }, body: body('bob') });
    assert.equal(sub.status, 200, sub.text);
    assertReceivedAs(sims[0]!, 'bob');
  });

  it('a wrong login gets the refusal envelope of the header form and no cookie', async (t) => {
    const { gw } = await startAll(t, 1);
    const cases: Array<[unknown, number, string]> = [
      [{ userName: 'alice', password: 'wrong-password-0123456789' }, 401, 'AUTH_TOKEN_UNKNOWN'],
      [{ userName: 'carol', password: TOKEN }, 403, 'AUTH_USER_NOT_ALLOWED'],
      [{ userName: 'alice' }, 401, 'AUTH_MISSING'],
      [{ userName: 'a b', password: TOKEN }, 412, 'AUTH_USER_INVALID'],
      [[1], 400, 'BODY_INVALID'],
    ];
    for (const [b, http, code] of cases) {
      const res = await call(`${gw.url}${LOGIN}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
      assert.equal(res.status, http, `${JSON.stringify(b)}: ${res.text}`);
      assert.equal(res.body.data.errorCode, code);
      assert.equal(res.headers.getSetCookie().length, 0);
    }
    const bad = await call(`${gw.url}${LOGIN}`, { method: 'POST', body: '{"userName":' });
    assert.equal(bad.body.data.errorCode, 'BODY_MALFORMED');
    const get = await call(`${gw.url}${LOGIN}?userName=alice&password=${TOKEN}`);
    assert.equal(get.status, 405, 'a login is a POST');
  });

  it('removing the user from the token ends the session and the token auth at once; a forged or foreign cookie never works', async (t) => {
    const { gw } = await startAll(t, 1);
    const login = await call(`${gw.url}${LOGIN}`, { method: 'POST', body: JSON.stringify({ userName: 'alice', password: TOKEN }) });
    const cookie = sessionCookieOf(login);
    assert.equal((await submitWith(gw, { cookie })).status, 200);
    writeFileSync(gw.config.proxyUserFile, `${TOKEN}=bob\n${OTHER_TOKEN}=*\n`);
    assert.ok(gw.store.reload('file-change').ok);
    const ended = await submitWith(gw, { cookie });
    assert.equal(ended.status, 401);
    assert.equal(ended.body.data.errorCode, 'SESSION_ENDED');
    assert.match(ended.body.message, /no longer allows "alice"/);
    assert.equal((await submitWith(gw, { 'token-user': 'alice', 'token-code': TOKEN })).status, 403);
    for (const forged of ['linkis_gateway_session=v1.AAAA.BBBB.CCCC', 'linkis_gateway_session=alice']) {
      const res = await submitWith(gw, { cookie: forged });
      assert.equal(res.body.data.errorCode, 'SESSION_ENDED', forged);
    }
  });

  it('no token, session cookie or validationCode appears in any log line', async (t) => {
    const { gw } = await startAll(t, 1);
    const login = await call(`${gw.url}${LOGIN}`, { method: 'POST', body: JSON.stringify({ userName: 'alice', password: TOKEN }) });
    const cookie = sessionCookieOf(login);
    await submitWith(gw, { cookie });
    await call(`${gw.url}/api/rest_j/v1/user/proxy?proxyUser=alice&validationCode=${TOKEN}`);
    await call(`${gw.url}/api/rest_j/v1/user/proxy?proxyUser=alice&validationCode=wrong-${TOKEN}`);
    await submitWith(gw, { 'token-user': 'alice', 'token-code': `${TOKEN}x` });
    await new Promise((r) => setTimeout(r, 20));
    const logs = gw.rawLogs();
    assert.ok(logs.includes('"route":"session"'), 'session calls are access-logged');
    assert.ok(!logs.includes(TOKEN), 'no token');
    assert.ok(!logs.includes(cookie.split('=')[1]!.slice(0, 40)), 'no session cookie');
    assert.ok(!logs.includes('validationCode'), 'no query string');
    const metrics = await gw.metrics.render();
    assert.match(metrics, /linkis_gateway_requests_total\{route="session",code="200",instance="none"\} 2/);
    assert.match(metrics, /linkis_gateway_auth_total\{outcome="unknown-token"\} 2/);
    const access = gw.logs.filter((l) => l.message === 'access');
    assert.ok(access.some((l) => l.auth === 'session' && l.user === 'alice' && l.route === 'submit'), 'the access line says how the user authenticated');
  });
});
