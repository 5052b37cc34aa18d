/**
 * The effective-user rewrite (LINKIS.md §4). An unmodified Entrance believes the ticket cookie when
 * `dataworkcloud_inner_request=true` comes with it, so whoever controls those cookies controls the
 * identity. These pure functions remove every identity the client sent and write the gateway's own.
 */

/** Headers a client might use to claim an identity; none of them reaches an Entrance. */
export const IDENTITY_HEADERS = ['validation-code', 'proxy-user', 'token-code', 'token-user'] as const;

const INNER_REQUEST_COOKIE = 'dataworkcloud_inner_request';

/**
 * True for cookies that carry Linkis identity: any ticket or proxy ticket (current and pre-1.1.1 names,
 * the configured name) and the inner-request flag. Case-insensitive: a servlet container is not the
 * only thing that may read them.
 */
function isIdentityCookie(name: string, ticketCookie: string): boolean {
  const n = name.toLowerCase();
  return n === ticketCookie.toLowerCase() || n.includes('ticket') || n === INNER_REQUEST_COOKIE;
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

export type SubmissionRewrite = { ok: true; body: Record<string, unknown> } | { ok: false; reason: string };

/**
 * Makes an execute/submit body agree with the authenticated user: `executeUser` (and the older
 * `submitUser`/`umUser` when present) become the user, and the user part of `labels.userCreator` is
 * replaced while the creator is kept. A body that is not a JSON object cannot be a submission.
 */
export function rewriteSubmissionBody(body: unknown, user: string): SubmissionRewrite {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, reason: 'the body must be a JSON object' };
  const out: Record<string, unknown> = { ...(body as Record<string, unknown>) };
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
