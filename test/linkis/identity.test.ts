import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { forwardedCookieHeader, IDENTITY_HEADERS } from '../../src/linkis/identity';

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

/** The gateway's own cookies come first: a container that takes the first cookie of a name sees only them. */
function assertStartsWithOwn(out: string, ticketCookie: string, ticket: string, label: string): void {
  const own = `${ticketCookie}=${ticket}; dataworkcloud_inner_request=true`;
  assert.ok(out === own || out.startsWith(`${own}; `), `${label}: ${out}`);
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
  { name: 'other cookies are kept in order', in: 'a=1; b=2; c=3', want: `${OWN}; a=1; b=2; c=3` },
  { name: 'current ticket removed', in: `a=1; ${TICKET_COOKIE}=FORGED; b=2`, want: `${OWN}; a=1; b=2` },
  { name: 'pre-1.1.1 ticket removed', in: 'bdp-user-ticket-id=FORGED; a=1', want: `${OWN}; a=1` },
  { name: 'proxy ticket removed', in: 'linkis_user_session_proxy_ticket_id_v1=FORGED; a=1', want: `${OWN}; a=1` },
  { name: 'inner flag removed', in: 'dataworkcloud_inner_request=true; a=1', want: `${OWN}; a=1` },
  { name: 'inner flag in another case removed', in: 'DataWorkCloud_Inner_Request=true; a=1', want: `${OWN}; a=1` },
  { name: 'inner flag upper case removed', in: 'a=1; DATAWORKCLOUD_INNER_REQUEST=false', want: `${OWN}; a=1` },
  { name: 'ticket in another case removed', in: 'LINKIS_USER_SESSION_TICKET_ID_V1=FORGED; a=1', want: `${OWN}; a=1` },
  { name: 'any name containing "ticket" removed', in: 'my_ticket=1; TICKETS=2; xTiCkEtx=3; keep=4', want: `${OWN}; keep=4` },
  { name: 'ticket without "="', in: `${TICKET_COOKIE}; a=1`, want: `${OWN}; a=1` },
  { name: 'inner flag without "="', in: 'a=1; dataworkcloud_inner_request', want: `${OWN}; a=1` },
  { name: 'a cookie without "=" that is not identity is kept', in: 'flag; a=1', want: `${OWN}; flag; a=1` },
  { name: 'whitespace around names', in: `  ${TICKET_COOKIE} =FORGED ;  a=1  ;dataworkcloud_inner_request =true`, want: `${OWN}; a=1` },
  { name: 'empty parts dropped', in: 'a=1;;; ;b=2;', want: `${OWN}; a=1; b=2` },
  { name: 'value containing "=" kept whole', in: 'a=x=y==; b=', want: `${OWN}; a=x=y==; b=` },
  { name: 'value mentioning ticket is not a ticket cookie', in: 'a=ticket; b=dataworkcloud_inner_request', want: `${OWN}; a=ticket; b=dataworkcloud_inner_request` },
  { name: 'repeated forged tickets all removed', in: `${TICKET_COOKIE}=A; ${TICKET_COOKIE}=B; ${TICKET_COOKIE}=C`, want: OWN },
  { name: 'array of headers joined', in: ['a=1; bdp-user-ticket-id=X', `b=2; ${TICKET_COOKIE}=Y`, 'dataworkcloud_inner_request=true'], want: `${OWN}; a=1; b=2` },
  { name: 'array with empty entries', in: ['', 'a=1', ''], want: `${OWN}; a=1` },
  // RFC 6265 names are tokens: a quoted or escaped name could be unquoted into a ticket name by a container.
  { name: 'quoted, escaped ticket name dropped', in: `"linkis_user_session_tick\\et_id_v1"=FORGED; a=1`, want: `${OWN}; a=1` },
  { name: 'quoted plain name dropped', in: '"a"=1; b=2', want: `${OWN}; b=2` },
  { name: 'names with separators or spaces dropped', in: 'a b=1; a(b)=2; a/b=3; a:b=4; a@b=5; [x]=6; {y}=7; a?b=8; c=9', want: `${OWN}; c=9` },
  { name: 'non-ASCII and control characters in names dropped', in: 'caf\u00e9=1; a\u0001b=2; d=3', want: `${OWN}; d=3` },
  { name: 'an empty name dropped', in: '=1; =; e=5', want: `${OWN}; e=5` },
  { name: 'token punctuation in names kept', in: "a!#$%&'*+-.^_`|~z=1", want: `${OWN}; a!#$%&'*+-.^_\`|~z=1` },
  { name: 'a quoted ticket name after a comma drops the pair', in: 'a=x, "linkis_user_session_tick\\et_id_v1"=F; b=2', want: `${OWN}; b=2` },
  {
    name: 'configured ticket name without "ticket" is removed too',
    ticketCookie: 'my_session',
    in: 'my_session=FORGED; MY_SESSION=F2; linkis_user_session_ticket_id_v1=F3; a=1',
    want: `my_session=${MINTED}; dataworkcloud_inner_request=true; a=1`,
  },
  {
    name: 'configured pre-1.1.1 name',
    ticketCookie: 'bdp-user-ticket-id',
    in: 'bdp-user-ticket-id=FORGED; linkis_user_session_ticket_id_v1=F2; a=1',
    want: `bdp-user-ticket-id=${MINTED}; dataworkcloud_inner_request=true; a=1`,
  },
];

test('forwardedCookieHeader table', () => {
  for (const c of table) {
    const ticketCookie = c.ticketCookie ?? TICKET_COOKIE;
    const out = forwardedCookieHeader(c.in, ticketCookie, MINTED);
    assert.equal(out, c.want, c.name);
    if (ticketCookie === TICKET_COOKIE) assertStartsWithOwn(out, ticketCookie, MINTED, c.name);
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
  assert.equal(out, 'linkis_user_session_ticket_id_v1=T; dataworkcloud_inner_request=true; a=1; b=2');
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
      assertStartsWithOwn(out, TICKET_COOKIE, ticket, JSON.stringify(client));
      // Every non-identity cookie of the client survives, in order.
      const joined = client === undefined ? '' : Array.isArray(client) ? client.join(';') : client;
      const keptIn = cookies(joined).filter(([n]) => !n.toLowerCase().includes('ticket') && n.toLowerCase() !== 'dataworkcloud_inner_request');
      const keptOut = cookies(out).slice(2);
      assert.deepEqual(keptOut.map(([n]) => n), keptIn.map(([n]) => n));
    }),
    { numRuns: 1000 },
  );
  // Arbitrary text never throws and still ends with the gateway's own cookies.
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (client) => {
      const out = forwardedCookieHeader(client, TICKET_COOKIE, MINTED);
      assert.ok(out.startsWith(`${OWN}; `) || out === OWN);
      const tickets = cookies(out).filter(([n]) => n.toLowerCase() === TICKET_COOKIE);
      assert.deepEqual(tickets, [[TICKET_COOKIE, MINTED]], out);
    }),
    { numRuns: 1000 },
  );
});


/** RFC 6265 §4.1.1 cookie-name = token (RFC 2616 §2.2): CHAR except CTLs and separators. */
function isRfcToken(name: string): boolean {
  const separators = '()<>@,;:\\"/[]?={} \t';
  return name.length > 0 && [...name].every((ch) => ch.charCodeAt(0) > 32 && ch.charCodeAt(0) < 127 && !separators.includes(ch));
}

test('property: a client cookie is forwarded iff its name is an RFC 6265 token and not an identity; the own cookies lead', () => {
  const nameChar = fc.oneof(fc.constantFrom(...'()<>@,:\\"/[]?{} \t\u0000\u007f\u00e9!#$%&\'*+-.^_`|~'.split('')), fc.stringMatching(/^[A-Za-z0-9]$/));
  const name = fc.oneof(fc.string({ unit: nameChar, minLength: 1, maxLength: 8 }), fc.constantFrom('"ticket"', '"a"', 'tick\\et', '$Version', 'a b'));
  const value = fc.stringMatching(/^[A-Za-z0-9+/_.-]{0,10}$/);
  fc.assert(
    fc.property(fc.array(fc.tuple(name, value), { minLength: 1, maxLength: 6 }), (pairs) => {
      const client = pairs.map(([n, v]) => `${n}=${v}`).join('; ');
      const out = forwardedCookieHeader(client, TICKET_COOKIE, MINTED);
      assertStartsWithOwn(out, TICKET_COOKIE, MINTED, client);
      const want = pairs
        .map(([n, v]) => [n.trim(), v] as const)
        .filter(([n]) => isRfcToken(n) && !n.toLowerCase().includes('ticket') && n.toLowerCase() !== 'dataworkcloud_inner_request')
        .map(([n, v]) => [n, v]);
      assert.deepEqual(cookies(out).slice(2), want, client);
    }),
    { numRuns: 2000 },
  );
});
