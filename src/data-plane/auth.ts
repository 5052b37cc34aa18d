/**
 * Authentication: who the request acts as. Four forms, all checked against the same live allowlist
 * (proxy.properties: a token may act as its users), tried in this order:
 *   1. `Proxy-User` + `Validation-Code` headers (the seed's front door);
 *   2. `Token-User` + `Token-Code` headers (linkis-cli, the Java SDK's TokenAuthenticationStrategy);
 *   3. the same two as cookies (Linkis's TokenAuthentication accepts both);
 *   4. the gateway's session cookie from user/login or user/proxy.
 * Decisions are pure functions (`decidePair`, `decideSession`); the middleware reads the request and
 * records the outcome.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { parse as parseCookies } from 'cookie';
import type { Allowlist } from '../control-plane/allowlist';
import { checkUserName } from '../control-plane/user-names';
import type { RevokedSessionStore } from '../control-plane/session-store';
import { GatewayError } from '../linkis/errors';
import { printable } from '../linkis/routes';
import { contextOf } from './context';
import type { Middleware } from './pipeline';
import { SESSION_COOKIE, type SessionCodec } from './sessions';

export type AuthOutcome =
  | { ok: true; user: string; fingerprint: string; via: CredentialForm }
  | { ok: false; error: GatewayError; reason: AuthRefusal; fingerprint?: string; askedUser?: string };

/** Bounded set of refusal reasons: these become log fields and metric labels. */
export type AuthRefusal = 'missing' | 'invalid-user' | 'unknown-token' | 'user-not-allowed' | 'session-ended';
export type CredentialForm = 'proxy-user' | 'token-header' | 'token-cookie' | 'session';

/** How a user/token pair was presented, for messages that name what the client actually sent. */
export interface PairNames {
  user: string;
  token: string;
  where: 'header' | 'cookie' | 'parameter';
}

export const PROXY_USER_HEADERS: PairNames = { user: 'Proxy-User', token: 'Validation-Code', where: 'header' };
export const TOKEN_HEADERS: PairNames = { user: 'Token-User', token: 'Token-Code', where: 'header' };
export const TOKEN_COOKIES: PairNames = { user: 'Token-User', token: 'Token-Code', where: 'cookie' };

/** Longest user name (USER_NAME_RULE): a longer "user" in a log line is cut here. */
const ASKED_USER_MAX = 64;

/**
 * The user a refused request asked to act as, fit for a log line: non-printable characters as `?`, at most
 * 64 characters. A "user" that is a token (the presented one, or any configured one: a client that swapped
 * the two headers) is never logged: `[a token]` says what happened without saying which.
 */
export function askedUserOf(user: string | undefined, token: string | undefined, allowlist: Pick<Allowlist, 'decide'>): string | undefined {
  if (user === undefined) return undefined;
  if (user !== '' && (user === token || allowlist.decide(user, '') !== 'unknown-token')) return '[a token]';
  const clean = user.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > ASKED_USER_MAX ? `${clean.slice(0, ASKED_USER_MAX)}…` : clean;
}

export function decidePair(user: string | string[] | undefined, token: string | string[] | undefined, allowlist: Allowlist, names: PairNames, via: CredentialForm): AuthOutcome {
  // Node joins repeated custom headers into one string; arrays only occur for set-cookie, but be total.
  const u = Array.isArray(user) ? user.join(', ') : user;
  const t = Array.isArray(token) ? token.join(', ') : token;
  const outcome = decide(u, t, allowlist, names, via);
  if (outcome.ok) return outcome;
  // Who tried to act as whom: an operator's first question about a refusal (screened: see askedUserOf).
  const askedUser = askedUserOf(u, t, allowlist);
  return askedUser === undefined ? outcome : { ...outcome, askedUser };
}

function decide(u: string | undefined, t: string | undefined, allowlist: Allowlist, names: PairNames, via: CredentialForm): AuthOutcome {
  const plural = names.where === 'header' ? 'headers' : names.where === 'cookie' ? 'cookies' : 'parameters';
  // A user that is present but empty is an invalid name (412), not a missing one.
  if (u === undefined && !t) return refuse('missing', 'AUTH_MISSING', `send both ${names.user} and ${names.token} ${plural}`);
  if (u === undefined) return refuse('missing', 'AUTH_MISSING', `the ${names.user} ${names.where} is missing`);
  if (!t) return refuse('missing', 'AUTH_MISSING', `the ${names.token} ${names.where} is missing`);
  const name = checkUserName(u);
  if (!name.ok) return refuse('invalid-user', 'AUTH_USER_INVALID', name.reason);
  // A token pasted where the user goes would be logged and forwarded as a user name (a `*` token allows any
  // name): refuse it. Names shorter than any usable token skip the extra hash.
  if (u.length >= 8 && (u === t || allowlist.decide(u, u) !== 'unknown-token')) return refuse('invalid-user', 'AUTH_USER_INVALID', 'the user name is a token');
  const { decision, fingerprint } = allowlist.check(t, u);
  switch (decision) {
    case 'allowed':
      return { ok: true, user: u, fingerprint, via };
    case 'unknown-token':
      return { ...refuse('unknown-token', 'AUTH_TOKEN_UNKNOWN'), fingerprint };
    case 'user-not-allowed':
      return { ...refuse('user-not-allowed', 'AUTH_USER_NOT_ALLOWED', `"${printable(u)}" is not in this token's list`), fingerprint };
  }
}

/** A session lasts while its cookie is sealed by us, unexpired, not logged out, and its token still allows its user. */
export function decideSession(value: string, sessions: SessionCodec, revoked: Pick<RevokedSessionStore, 'has'>, allowlist: Allowlist): AuthOutcome {
  const claims = sessions.open(value);
  if (!claims) return refuse('session-ended', 'SESSION_ENDED', 'the session cookie is expired or not valid');
  // The user is the one the gateway sealed into the cookie at login: a checked name, logged as is.
  const askedUser = claims.user;
  if (revoked.has(claims.id)) return { ...refuse('session-ended', 'SESSION_ENDED', 'this session was logged out'), askedUser };
  const { decision, fingerprint } = allowlist.checkDigest(claims.tokenDigest, claims.user);
  if (decision !== 'allowed') return { ...refuse('session-ended', 'SESSION_ENDED', `the token it was opened with no longer allows "${printable(claims.user)}"`), fingerprint, askedUser };
  return { ok: true, user: claims.user, fingerprint, via: 'session' };
}

function refuse(reason: AuthRefusal, code: 'AUTH_MISSING' | 'AUTH_USER_INVALID' | 'AUTH_TOKEN_UNKNOWN' | 'AUTH_USER_NOT_ALLOWED' | 'SESSION_ENDED', detail?: string): Extract<AuthOutcome, { ok: false }> {
  return { ok: false, reason, error: new GatewayError(code, detail) };
}

/** Cookies are parsed only when no credential header came: the header forms stay as cheap as before. */
export function cookiesOf(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const raw = headers.cookie;
  return raw ? parseCookies(Array.isArray(raw) ? raw.join('; ') : raw) : {};
}

export function authenticate(headers: IncomingHttpHeaders, allowlist: Allowlist, sessions: SessionCodec, revoked: Pick<RevokedSessionStore, 'has'>): AuthOutcome {
  if (headers['proxy-user'] !== undefined || headers['validation-code'] !== undefined) {
    return decidePair(headers['proxy-user'], headers['validation-code'], allowlist, PROXY_USER_HEADERS, 'proxy-user');
  }
  if (headers['token-user'] !== undefined || headers['token-code'] !== undefined) {
    return decidePair(headers['token-user'], headers['token-code'], allowlist, TOKEN_HEADERS, 'token-header');
  }
  const cookies = cookiesOf(headers);
  if (cookies['Token-User'] !== undefined || cookies['Token-Code'] !== undefined) {
    return decidePair(cookies['Token-User'], cookies['Token-Code'], allowlist, TOKEN_COOKIES, 'token-cookie');
  }
  const session = cookies[SESSION_COOKIE];
  if (session) return decideSession(session, sessions, revoked, allowlist);
  return refuse('missing', 'AUTH_MISSING', 'send Proxy-User and Validation-Code (or Token-User and Token-Code) headers, or log in with user/login');
}

export interface AuthDeps {
  /** The allowlist in force now; read per request so a reload applies to the very next request. */
  allowlist: () => Allowlist;
  sessions: SessionCodec;
  revoked: Pick<RevokedSessionStore, 'has'>;
  onRefusal?: (req: IncomingMessage, outcome: Extract<AuthOutcome, { ok: false }>) => void;
  /** Each request let through, by token fingerprint (when a token was last used); must stay O(1). */
  onAllowed?: (fingerprint: string) => void;
}

export function createAuth(deps: AuthDeps): Middleware {
  return (req, _res, next) => {
    const outcome = authenticate(req.headers, deps.allowlist(), deps.sessions, deps.revoked);
    const ctx = contextOf(req);
    ctx.tokenFingerprint = outcome.fingerprint;
    if (outcome.ok) {
      ctx.authOutcome = 'allowed';
      ctx.user = outcome.user;
      ctx.authVia = outcome.via;
      deps.onAllowed?.(outcome.fingerprint);
      return next();
    }
    ctx.authOutcome = outcome.reason;
    ctx.askedUser = outcome.askedUser;
    deps.onRefusal?.(req, outcome);
    next(outcome.error);
  };
}
