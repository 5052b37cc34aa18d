/**
 * The effective-user rewrite (LINKIS.md §4). An unmodified Entrance believes the ticket cookie when
 * `dataworkcloud_inner_request=true` comes with it, so whoever controls those cookies controls the
 * identity. These pure functions remove every identity the client sent and write the gateway's own.
 */

/**
 * Headers a client might use to claim an identity or a job; none of them reaches a Linkis service.
 * `jobInstanceKey` tells an Entrance which job a taskID is: only the gateway writes it.
 */
export const IDENTITY_HEADERS = ['validation-code', 'proxy-user', 'token-code', 'token-user', 'token-alive', 'jobinstancekey'] as const;

const INNER_REQUEST_COOKIE = 'dataworkcloud_inner_request';

/** The gateway's own session cookie (user/login): a credential for the gateway, never for a Linkis service. */
export const GATEWAY_SESSION_COOKIE = 'linkis_gateway_session';

// Linkis's TokenAuthentication also reads these as cookies; they carry a token.
const CREDENTIAL_COOKIES: ReadonlySet<string> = new Set(['token-code', 'token-user', 'validation-code', 'proxy-user', GATEWAY_SESSION_COOKIE]);

/**
 * True for cookies that carry Linkis identity: any ticket or proxy ticket (current and pre-1.1.1 names,
 * the configured name) and the inner-request flag. Case-insensitive: a servlet container is not the
 * only thing that may read them.
 */
function isIdentityCookie(name: string, ticketCookie: string): boolean {
  const n = name.toLowerCase();
  return n === ticketCookie.toLowerCase() || n.includes('ticket') || n === INNER_REQUEST_COOKIE || CREDENTIAL_COOKIES.has(n);
}

/**
 * RFC 6265 cookie-name: an RFC 2616 token (no separators, quotes, backslashes, spaces or controls). A name
 * outside it (`"linkis_user_session_tick\\et_id_v1"`) is read differently by different containers: some
 * unquote or unescape it into a ticket name, so it is dropped rather than judged by what it might become.
 */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The Cookie header to forward: the minted ticket and the inner flag FIRST (a container that takes the first
 * cookie of a name can only see the gateway's), then the client's other cookies whose names are tokens.
 * Not the `cookie` package: its parse returns one value per name, while the client's other cookies must
 * pass byte for byte (duplicates and order kept) and comma-joined pairs must be seen, not decoded.
 */
export function forwardedCookieHeader(clientCookie: string | string[] | undefined, ticketCookie: string, ticket: string): string {
  const own = `${ticketCookie}=${ticket}; ${INNER_REQUEST_COOKIE}=true`;
  if (!clientCookie) return own;
  const joined = Array.isArray(clientCookie) ? clientCookie.join('; ') : clientCookie;
  const kept: string[] = [];
  for (const part of joined.split(';')) {
    const pair = part.trim();
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const name = (eq === -1 ? pair : pair.slice(0, eq)).trim();
    if (!COOKIE_NAME.test(name)) continue;
    if (isIdentityCookie(name, ticketCookie)) continue;
    // RFC 2965-style parsers also split on ',': "a=x, <ticket>=forged" must not smuggle a ticket through,
    // nor a name such a parser would unquote into one.
    const smuggled = pair.includes(',') && pair.split(',').slice(1).some((p) => {
      const inner = p.split('=')[0]!.trim();
      return !COOKIE_NAME.test(inner) || isIdentityCookie(inner, ticketCookie);
    });
    if (!smuggled) kept.push(pair);
  }
  return kept.length ? `${own}; ${kept.join('; ')}` : own;
}

// The submission rewrite lives beside its JSON scanner; it is part of the same identity policy.
export { rewriteSubmissionBody, SUBMISSION_LIMITS, type SubmissionRewrite } from './submission';
