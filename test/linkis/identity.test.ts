import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { forwardedCookieHeader, IDENTITY_HEADERS, rewriteSubmissionBody } from '../../src/linkis/identity';

const TICKET_COOKIE = 'linkis_user_session_ticket_id_v1';
const MINTED = 'M7UZXQP9Ld0njo8cjtULXGM+1N1N+j782HLiVea4FcQ=';
const OWN = `${TICKET_COOKIE}=${MINTED}; dataworkcloud_inner_request=true`;

/** Splits a Cookie header into [name, value] pairs the way a servlet container would. */
function cookies(header: string): Array<[string, string]> {
  return header
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const eq = p.indexOf('=');
      return eq === -1 ? [p, ''] : [p.slice(0, eq).trim(), p.slice(eq + 1)];
    });
}

function assertEndsWithOwn(out: string, ticketCookie: string, ticket: string, label: string): void {
  const own = `${ticketCookie}=${ticket}; dataworkcloud_inner_request=true`;
  assert.ok(out === own || out.endsWith(`; ${own}`), `${label}: ${out}`);
  const pairs = cookies(out);
  const tickets = pairs.filter(([n]) => n.toLowerCase() === ticketCookie.toLowerCase() || n.toLowerCase().includes('ticket'));
  assert.deepEqual(tickets, [[ticketCookie, ticket]], `${label}: exactly one ticket cookie, the minted one: ${out}`);
  const inner = pairs.filter(([n]) => n.toLowerCase() === 'dataworkcloud_inner_request');
  assert.deepEqual(inner, [['dataworkcloud_inner_request', 'true']], `${label}: exactly one inner flag: ${out}`);
}

const table: Array<{ name: string; in: string | string[] | undefined; want: string; ticketCookie?: string }> = [
  { name: 'no cookie header', in: undefined, want: OWN },
  { name: 'empty string', in: '', want: OWN },
  { name: 'empty array', in: [], want: OWN },
  { name: 'only separators', in: ' ; ;; ', want: OWN },
  { name: 'other cookies are kept in order', in: 'a=1; b=2; c=3', want: `a=1; b=2; c=3; ${OWN}` },
  { name: 'current ticket removed', in: `a=1; ${TICKET_COOKIE}=FORGED; b=2`, want: `a=1; b=2; ${OWN}` },
  { name: 'pre-1.1.1 ticket removed', in: 'bdp-user-ticket-id=FORGED; a=1', want: `a=1; ${OWN}` },
  { name: 'proxy ticket removed', in: 'linkis_user_session_proxy_ticket_id_v1=FORGED; a=1', want: `a=1; ${OWN}` },
  { name: 'inner flag removed', in: 'dataworkcloud_inner_request=true; a=1', want: `a=1; ${OWN}` },
  { name: 'inner flag in another case removed', in: 'DataWorkCloud_Inner_Request=true; a=1', want: `a=1; ${OWN}` },
  { name: 'inner flag upper case removed', in: 'a=1; DATAWORKCLOUD_INNER_REQUEST=false', want: `a=1; ${OWN}` },
  { name: 'ticket in another case removed', in: 'LINKIS_USER_SESSION_TICKET_ID_V1=FORGED; a=1', want: `a=1; ${OWN}` },
  { name: 'any name containing "ticket" removed', in: 'my_ticket=1; TICKETS=2; xTiCkEtx=3; keep=4', want: `keep=4; ${OWN}` },
  { name: 'ticket without "="', in: `${TICKET_COOKIE}; a=1`, want: `a=1; ${OWN}` },
  { name: 'inner flag without "="', in: 'a=1; dataworkcloud_inner_request', want: `a=1; ${OWN}` },
  { name: 'a cookie without "=" that is not identity is kept', in: 'flag; a=1', want: `flag; a=1; ${OWN}` },
  { name: 'whitespace around names', in: `  ${TICKET_COOKIE} =FORGED ;  a=1  ;dataworkcloud_inner_request =true`, want: `a=1; ${OWN}` },
  { name: 'empty parts dropped', in: 'a=1;;; ;b=2;', want: `a=1; b=2; ${OWN}` },
  { name: 'value containing "=" kept whole', in: 'a=x=y==; b=', want: `a=x=y==; b=; ${OWN}` },
  { name: 'value mentioning ticket is not a ticket cookie', in: 'a=ticket; b=dataworkcloud_inner_request', want: `a=ticket; b=dataworkcloud_inner_request; ${OWN}` },
  { name: 'repeated forged tickets all removed', in: `${TICKET_COOKIE}=A; ${TICKET_COOKIE}=B; ${TICKET_COOKIE}=C`, want: OWN },
  { name: 'array of headers joined', in: ['a=1; bdp-user-ticket-id=X', `b=2; ${TICKET_COOKIE}=Y`, 'dataworkcloud_inner_request=true'], want: `a=1; b=2; ${OWN}` },
  { name: 'array with empty entries', in: ['', 'a=1', ''], want: `a=1; ${OWN}` },
  {
    name: 'configured ticket name without "ticket" is removed too',
    ticketCookie: 'my_session',
    in: 'my_session=FORGED; MY_SESSION=F2; linkis_user_session_ticket_id_v1=F3; a=1',
    want: `a=1; my_session=${MINTED}; dataworkcloud_inner_request=true`,
  },
  {
    name: 'configured pre-1.1.1 name',
    ticketCookie: 'bdp-user-ticket-id',
    in: 'bdp-user-ticket-id=FORGED; linkis_user_session_ticket_id_v1=F2; a=1',
    want: `a=1; bdp-user-ticket-id=${MINTED}; dataworkcloud_inner_request=true`,
  },
];

test('forwardedCookieHeader table', () => {
  for (const c of table) {
    const ticketCookie = c.ticketCookie ?? TICKET_COOKIE;
    const out = forwardedCookieHeader(c.in, ticketCookie, MINTED);
    assert.equal(out, c.want, c.name);
    if (ticketCookie === TICKET_COOKIE) assertEndsWithOwn(out, ticketCookie, MINTED, c.name);
  }
});

test('forwardedCookieHeader does not modify an array it is given', () => {
  const input = ['a=1', `${TICKET_COOKIE}=X`];
  const copy = [...input];
  forwardedCookieHeader(input, TICKET_COOKIE, MINTED);
  assert.deepEqual(input, copy);
});

test('IDENTITY_HEADERS lists the seed and token headers and jobInstanceKey, lower case', () => {
  assert.deepEqual([...IDENTITY_HEADERS].sort(), ['jobinstancekey', 'proxy-user', 'token-alive', 'token-code', 'token-user', 'validation-code']);
});

test('credential cookies (Token-Code, Token-User, the gateway session) are never forwarded', () => {
  const out = forwardedCookieHeader('a=1; Token-Code=secret; token-user=root; linkis_gateway_session=v1.x.y.z; b=2', 'linkis_user_session_ticket_id_v1', 'T');
  assert.equal(out, 'a=1; b=2; linkis_user_session_ticket_id_v1=T; dataworkcloud_inner_request=true');
});

test('property: for any client cookies, the output has exactly one ticket cookie and it is the minted one', () => {
  const identityName = fc.constantFrom(
    TICKET_COOKIE,
    TICKET_COOKIE.toUpperCase(),
    'bdp-user-ticket-id',
    'BDP-User-Ticket-Id',
    'linkis_user_session_proxy_ticket_id_v1',
    'dataworkcloud_inner_request',
    'DATAWORKCLOUD_INNER_REQUEST',
    'Dataworkcloud_Inner_Request',
    'ticket',
    'xTicketx',
  );
  const plainName = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
  const value = fc.stringMatching(/^[A-Za-z0-9+/=_.-]{0,20}$/);
  const pad = fc.constantFrom('', ' ', '  ', '\t');
  const cookie = fc
    .tuple(fc.oneof(identityName, plainName), fc.option(value, { nil: undefined }), pad, pad)
    .map(([n, v, a, b]) => (v === undefined ? `${a}${n}${b}` : `${a}${n}${b}=${v}`));
  const header = fc.array(cookie, { maxLength: 8 }).map((cs) => cs.join(';'));
  const input = fc.oneof(header, fc.array(header, { maxLength: 3 }), fc.constant(undefined));
  const minted = fc.stringMatching(/^[A-Za-z0-9+/]{8,44}={0,2}$/);
  fc.assert(
    fc.property(input, minted, (client, ticket) => {
      const out = forwardedCookieHeader(client, TICKET_COOKIE, ticket);
      assertEndsWithOwn(out, TICKET_COOKIE, ticket, JSON.stringify(client));
      // Every non-identity cookie of the client survives, in order.
      const joined = client === undefined ? '' : Array.isArray(client) ? client.join(';') : client;
      const keptIn = cookies(joined).filter(([n]) => !n.toLowerCase().includes('ticket') && n.toLowerCase() !== 'dataworkcloud_inner_request');
      const keptOut = cookies(out).slice(0, -2);
      assert.deepEqual(keptOut.map(([n]) => n), keptIn.map(([n]) => n));
    }),
    { numRuns: 1000 },
  );
  // Arbitrary text never throws and still ends with the gateway's own cookies.
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (client) => {
      const out = forwardedCookieHeader(client, TICKET_COOKIE, MINTED);
      assert.ok(out.endsWith(`; ${OWN}`) || out === OWN);
      const tickets = cookies(out).filter(([n]) => n.toLowerCase() === TICKET_COOKIE);
      assert.deepEqual(tickets, [[TICKET_COOKIE, MINTED]], out);
    }),
    { numRuns: 1000 },
  );
});

// ---- rewriteSubmissionBody ----

const EXECUTE_0X = {
  executeApplicationName: 'hive',
  executionCode: 'show tables',
  runType: 'sql',
  requestApplicationName: 'IDE',
  params: { variable: {}, configuration: {} },
  source: {},
};

const SUBMIT_1X = {
  executionContent: { code: 'show tables', runType: 'sql' },
  params: { variable: {}, configuration: { runtime: {}, startup: {} } },
  labels: { engineType: 'spark-3.2.1', userCreator: 'mallory-IDE' },
  source: { scriptPath: 'file:///tmp/hadoop/1.sql' },
};

type Case = { name: string; body: unknown; user?: string; want: unknown } | { name: string; body: unknown; user?: string; reason: RegExp };

const rewrites: Case[] = [
  { name: '0.x execute body gets executeUser', body: EXECUTE_0X, want: { ...EXECUTE_0X, executeUser: 'alice' } },
  {
    name: '1.x submit body: userCreator user replaced, creator kept',
    body: SUBMIT_1X,
    want: { ...SUBMIT_1X, labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' }, executeUser: 'alice' },
  },
  { name: 'executeUser naming another user is refused, not rewritten', body: { ...SUBMIT_1X, executeUser: 'root' }, reason: /executeUser "root" is not "alice"/ },
  { name: 'executeUser of another type is refused', body: { ...SUBMIT_1X, executeUser: 7 }, reason: /executeUser/ },
  {
    name: 'executeUser equal to the user is kept',
    body: { ...SUBMIT_1X, executeUser: 'alice' },
    want: { ...SUBMIT_1X, executeUser: 'alice', labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' } },
  },
  { name: 'empty or null executeUser is set', body: { executeUser: '' }, want: { executeUser: 'alice' } },
  {
    name: 'submitUser and umUser overwritten when present',
    body: { ...EXECUTE_0X, submitUser: 'root', umUser: 'hadoop' },
    want: { ...EXECUTE_0X, submitUser: 'alice', umUser: 'alice', executeUser: 'alice' },
  },
  {
    name: 'submitUser/umUser not added when absent',
    body: { executionContent: { code: '1' } },
    want: { executionContent: { code: '1' }, executeUser: 'alice' },
  },
  {
    name: 'client user name with "-" in userCreator',
    body: { labels: { userCreator: 'mal-lory-IDE' } },
    want: { labels: { userCreator: 'alice-IDE' }, executeUser: 'alice' },
  },
  {
    name: 'authenticated user name with "-"',
    user: 'data-eng',
    body: { labels: { userCreator: 'mallory-LINKISCLI', engineType: 'hive-2.3.3' } },
    want: { labels: { userCreator: 'data-eng-LINKISCLI', engineType: 'hive-2.3.3' }, executeUser: 'data-eng' },
  },
  {
    name: 'userCreator with an empty user part',
    body: { labels: { userCreator: '-IDE' } },
    want: { labels: { userCreator: 'alice-IDE' }, executeUser: 'alice' },
  },
  { name: 'labels absent: not added', body: { executionContent: { code: '1' }, params: {} }, want: { executionContent: { code: '1' }, params: {}, executeUser: 'alice' } },
  { name: 'labels without userCreator kept', body: { labels: { engineType: 'spark-3.2.1' } }, want: { labels: { engineType: 'spark-3.2.1' }, executeUser: 'alice' } },
  { name: 'labels null kept', body: { labels: null }, want: { labels: null, executeUser: 'alice' } },
  { name: 'empty object', body: {}, want: { executeUser: 'alice' } },
  { name: 'labels a string', body: { labels: 'userCreator=mallory-IDE' }, reason: /labels/ },
  { name: 'labels an array', body: { labels: [{ userCreator: 'mallory-IDE' }] }, reason: /labels/ },
  { name: 'labels a number', body: { labels: 1 }, reason: /labels/ },
  { name: 'userCreator a number', body: { labels: { userCreator: 7 } }, reason: /userCreator/ },
  { name: 'userCreator null', body: { labels: { userCreator: null } }, reason: /userCreator/ },
  { name: 'userCreator an object', body: { labels: { userCreator: { user: 'mallory' } } }, reason: /userCreator/ },
  { name: 'userCreator without "-"', body: { labels: { userCreator: 'malloryIDE' } }, reason: /userCreator/ },
  { name: 'userCreator ending with "-"', body: { labels: { userCreator: 'mallory-' } }, reason: /userCreator/ },
  { name: 'userCreator empty', body: { labels: { userCreator: '' } }, reason: /userCreator/ },
  { name: 'body an array', body: [SUBMIT_1X], reason: /object/ },
  { name: 'body null', body: null, reason: /object/ },
  { name: 'body undefined', body: undefined, reason: /object/ },
  { name: 'body a string', body: '{"executeUser":"root"}', reason: /object/ },
  { name: 'body a number', body: 42, reason: /object/ },
  { name: 'body a boolean', body: true, reason: /object/ },
];

test('rewriteSubmissionBody table; the input is never mutated', () => {
  for (const c of rewrites) {
    const before = structuredClone(c.body);
    const r = rewriteSubmissionBody(c.body, c.user ?? 'alice');
    if ('want' in c) {
      assert.equal(r.ok, true, `${c.name}: ${JSON.stringify(r)}`);
      assert.ok(r.ok);
      assert.deepEqual(r.body, c.want, c.name);
      assert.notEqual(r.body, c.body, `${c.name}: a new object`);
    } else {
      assert.equal(r.ok, false, `${c.name}: ${JSON.stringify(r)}`);
      assert.ok(!r.ok);
      assert.match(r.reason, c.reason, c.name);
    }
    assert.deepEqual(c.body, before, `${c.name}: input mutated`);
  }
});

test('rewriteSubmissionBody: the labels object of the input is not shared or changed', () => {
  const body = structuredClone(SUBMIT_1X);
  const labels = body.labels;
  const r = rewriteSubmissionBody(body, 'alice');
  assert.ok(r.ok);
  assert.equal(labels.userCreator, 'mallory-IDE');
  assert.notEqual(r.body.labels, labels);
  assert.equal(JSON.stringify(r.body).includes('mallory'), false);
});

test('property: whatever identity fields the client sends, the rewritten body names only the user', () => {
  const user = fc.stringMatching(/^[a-z][a-z0-9_-]{0,15}$/);
  const creator = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,9}$/);
  const forged = fc.stringMatching(/^[a-z][a-z0-9_-]{0,15}$/);
  fc.assert(
    fc.property(user, creator, forged, fc.boolean(), fc.boolean(), fc.boolean(), (u, cr, f, withSubmit, withUm, withExecute) => {
      const body: Record<string, unknown> = { labels: { userCreator: `${f}-${cr}`, engineType: 'spark-3.2.1' } };
      if (withExecute) body.executeUser = f;
      if (withSubmit) body.submitUser = f;
      if (withUm) body.umUser = f;
      const r = rewriteSubmissionBody(body, u);
      // An executeUser naming someone else is refused; otherwise only the user remains.
      if (withExecute && f !== u) return void assert.ok(!r.ok && r.otherUser === f);
      assert.ok(r.ok);
      assert.equal(r.body.executeUser, u);
      assert.deepEqual(r.body.labels, { userCreator: `${u}-${cr}`, engineType: 'spark-3.2.1' });
      if (withSubmit) assert.equal(r.body.submitUser, u);
      if (withUm) assert.equal(r.body.umUser, u);
      if (withExecute) assert.equal(body.executeUser, f);
    }),
    { numRuns: 500 },
  );
});
