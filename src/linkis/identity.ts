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
 * The Cookie header to forward: the client's other cookies, then the minted ticket and the inner flag.
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
    // RFC 2965-style parsers also split on ',': "a=x, <ticket>=forged" must not smuggle a ticket through.
    const smuggled = pair.includes(',') && pair.split(',').some((p) => isIdentityCookie(p.split('=')[0].trim(), ticketCookie));
    if (!smuggled && !isIdentityCookie(name, ticketCookie)) kept.push(pair);
  }
  return kept.length ? `${kept.join('; ')}; ${own}` : own;
}

export type SubmissionRewrite = { ok: true; body: Record<string, unknown> } | { ok: false; reason: string; otherUser?: string };

/**
 * Makes an execute/submit body agree with the authenticated user: `executeUser` is set to the user (and
 * the older `submitUser`/`umUser` when present), and the user part of `labels.userCreator` is replaced
 * while the creator is kept. An `executeUser` naming someone else is refused rather than rewritten: it is
 * how linkis-cli's `-proxyUser` asks to run as another user, and a job must never run silently as
 * someone other than who was asked for. A body that is not a JSON object cannot be a submission.
 */
export function rewriteSubmissionBody(body: unknown, user: string): SubmissionRewrite {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, reason: 'the body must be a JSON object' };
  const out: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  const asked = out.executeUser;
  if (asked !== undefined && asked !== null && asked !== '' && asked !== user) {
    if (typeof asked !== 'string') return { ok: false, reason: '"executeUser" must be a string' };
    return { ok: false, otherUser: asked, reason: `executeUser "${asked.replace(/[^\x20-\x7e]/g, '?').slice(0, 64)}" is not "${user}"; authenticate as that user instead (Token-User / Proxy-User / login)` };
  }
  out.executeUser = user;
  for (const field of ['submitUser', 'umUser']) if (field in out) out[field] = user;
  if ('labels' in out && out.labels !== undefined && out.labels !== null) {
    if (typeof out.labels !== 'object' || Array.isArray(out.labels)) return { ok: false, reason: '"labels" must be an object' };
    const labels: Record<string, unknown> = { ...(out.labels as Record<string, unknown>) };
    if ('userCreator' in labels) {
      const uc = labels.userCreator;
      if (typeof uc !== 'string') return { ok: false, reason: '"labels.userCreator" must be a string "user-creator"' };
      // Creators are application names without '-'; user names may contain one, so split at the last.
      const dash = uc.lastIndexOf('-');
      if (dash === -1 || dash === uc.length - 1) return { ok: false, reason: '"labels.userCreator" must look like "user-creator"' };
      labels.userCreator = `${user}-${uc.slice(dash + 1)}`;
    }
    out.labels = labels;
  }
  return { ok: true, body: out };
}
