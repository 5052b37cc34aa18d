/**
 * Proxy-user authentication, the seed's §3.6 front door: `Proxy-User` + `Validation-Code` checked
 * against the allowlist from proxy.properties. Decision rows and their Linkis statuses are in
 * `decideProxyUser`, a pure function; the middleware only reads headers and records the outcome.
 */
import type { IncomingMessage } from 'node:http';
import type { Allowlist } from '../control-plane/allowlist';
import { checkUserName } from '../control-plane/allowlist';
import { GatewayError } from '../linkis/errors';
import { contextOf } from './context';
import type { Middleware } from './pipeline';
import { printable } from '../linkis/routes';

export type AuthOutcome =
  | { ok: true; user: string; fingerprint: string }
  | { ok: false; error: GatewayError; reason: AuthRefusal; fingerprint?: string };

/** Bounded set of refusal reasons: these become log fields and metric labels. */
export type AuthRefusal = 'missing' | 'invalid-user' | 'unknown-token' | 'user-not-allowed';

export function decideProxyUser(user: string | string[] | undefined, token: string | string[] | undefined, allowlist: Allowlist): AuthOutcome {
  // Node joins repeated custom headers into one string; arrays only occur for set-cookie, but be total.
  const u = Array.isArray(user) ? user.join(', ') : user;
  const t = Array.isArray(token) ? token.join(', ') : token;
  // A Proxy-User header that is present but empty is an invalid name (412), not a missing one.
  if (u === undefined && !t) return refuse('missing', 'AUTH_MISSING', 'send both Proxy-User and Validation-Code headers');
  if (u === undefined) return refuse('missing', 'AUTH_MISSING', 'the Proxy-User header is missing');
  if (!t) return refuse('missing', 'AUTH_MISSING', 'the Validation-Code header is missing');
  const name = checkUserName(u);
  if (!name.ok) return refuse('invalid-user', 'AUTH_USER_INVALID', name.reason);
  const { decision, fingerprint } = allowlist.check(t, u);
  switch (decision) {
    case 'allowed':
      return { ok: true, user: u, fingerprint };
    case 'unknown-token':
      return { ...refuse('unknown-token', 'AUTH_TOKEN_UNKNOWN'), fingerprint };
    case 'user-not-allowed':
      return { ...refuse('user-not-allowed', 'AUTH_USER_NOT_ALLOWED', `"${printable(u)}" is not in this token's list`), fingerprint };
  }
}

function refuse(reason: AuthRefusal, code: 'AUTH_MISSING' | 'AUTH_USER_INVALID' | 'AUTH_TOKEN_UNKNOWN' | 'AUTH_USER_NOT_ALLOWED', detail?: string): AuthOutcome {
  return { ok: false, reason, error: new GatewayError(code, detail) };
}

export interface ProxyUserAuthDeps {
  /** The allowlist in force now; read per request so a reload applies to the very next request. */
  allowlist: () => Allowlist;
  onRefusal?: (req: IncomingMessage, outcome: Extract<AuthOutcome, { ok: false }>) => void;
}

export function createProxyUserAuth(deps: ProxyUserAuthDeps): Middleware {
  return (req, _res, next) => {
    const outcome = decideProxyUser(req.headers['proxy-user'], req.headers['validation-code'], deps.allowlist());
    const ctx = contextOf(req);
    if (outcome.ok) {
      ctx.authOutcome = 'allowed';
      ctx.user = outcome.user;
      ctx.tokenFingerprint = outcome.fingerprint;
      return next();
    }
    ctx.tokenFingerprint = outcome.fingerprint;
    ctx.authOutcome = outcome.reason;
    deps.onRefusal?.(req, outcome);
    next(outcome.error);
  };
}
