/**
 * The gateway's own user API, shaped like Linkis's UserRestful so stock clients log in unchanged:
 *   POST user/login {userName, password}: the password is a proxy.properties TOKEN that may act as
 *        userName, never a user's real password (the Java SDK's StaticAuthenticationStrategy, the Python SDK);
 *   GET  user/proxy?proxyUser=&validationCode=: Linkis's proxy login;
 *   user/logout: ends the session.
 * A login answers Linkis's login envelope and sets the gateway's session cookie (sessions.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Allowlist } from '../control-plane/allowlist';
import { tokenDigest } from '../control-plane/token-policy';
import type { RevokedSessionStore } from '../control-plane/session-store';
import { envelopeJson, sendEnvelope } from '../linkis/envelope';
import { GatewayError } from '../linkis/errors';
import { cookiesOf, decidePair, type AuthOutcome } from './auth';
import { readLimited } from './body';
import { contextOf } from './context';
import type { Middleware, Next } from './pipeline';
import { clearedSessionCookie, SESSION_COOKIE, sessionCookie, type SessionCodec } from './sessions';

// A login body is two short strings; anything larger is not a login.
const LOGIN_BODY_LIMIT = 16 * 1024;

export interface SessionEndpointDeps {
  allowlist: () => Allowlist;
  sessions: SessionCodec;
  revoked: RevokedSessionStore;
  cookieSecure: boolean;
  securityHeaders: Readonly<Record<string, string>>;
  onRefusal?: (req: IncomingMessage, outcome: Extract<AuthOutcome, { ok: false }>) => void;
}

const LOGIN_NAMES = { user: 'userName', token: 'password', where: 'parameter' } as const;
const PROXY_NAMES = { user: 'proxyUser', token: 'validationCode', where: 'parameter' } as const;

export function createSessionEndpoints(deps: SessionEndpointDeps): Middleware {
  const answer = (req: IncomingMessage, res: ServerResponse, message: string, data: Record<string, unknown>, cookie: string) => {
    const ctx = contextOf(req);
    ctx.envelopeStatus = 0;
    sendEnvelope(res, 200, envelopeJson(ctx.route!.path, 0, message, data), { ...deps.securityHeaders, 'x-request-id': ctx.id, 'set-cookie': cookie, 'cache-control': 'no-store' });
  };

  const open = (req: IncomingMessage, res: ServerResponse, next: Next, outcome: AuthOutcome, token: string | undefined, message: string, data: (user: string) => Record<string, unknown>) => {
    const ctx = contextOf(req);
    ctx.tokenFingerprint = outcome.fingerprint;
    if (!outcome.ok) {
      ctx.authOutcome = outcome.reason;
      ctx.askedUser = outcome.askedUser;
      deps.onRefusal?.(req, outcome);
      return next(outcome.error);
    }
    ctx.authOutcome = 'allowed';
    ctx.user = outcome.user;
    const { value } = deps.sessions.issue(outcome.user, tokenDigest(token!));
    answer(req, res, message, data(outcome.user), sessionCookie(value, deps.sessions.timeoutMs, deps.cookieSecure));
  };

  return (req, res, next) => {
    const ctx = contextOf(req);
    const route = ctx.route!;
    if (route.type !== 'session') return next();
    // Answered before authentication (they are how one authenticates), so the method is checked here.
    if (route.action === 'login' ? req.method !== 'POST' : req.method !== 'GET' && req.method !== 'POST') {
      return next(new GatewayError('METHOD_NOT_ALLOWED', route.action === 'login' ? 'user/login takes POST' : `user/${route.action} takes GET or POST`));
    }
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    switch (route.action) {
      case 'proxy': {
        const token = query.get('validationCode') ?? undefined;
        const outcome = decidePair(query.get('proxyUser') ?? undefined, token, deps.allowlist(), PROXY_NAMES, 'session');
        return open(req, res, next, outcome, token, 'proxy login successful(代理成功)', (user) => ({ proxyUser: user, sessionTimeOut: deps.sessions.timeoutMs }));
      }
      case 'logout': {
        const value = cookiesOf(req.headers)[SESSION_COOKIE];
        const claims = value ? deps.sessions.open(value) : null;
        if (claims) {
          ctx.user = claims.user;
          deps.revoked.revoke(claims);
        }
        return answer(req, res, 'Logout successful(退出登录成功)！', {}, clearedSessionCookie(deps.cookieSecure));
      }
      case 'login':
        return readLimited(req, LOGIN_BODY_LIMIT, (err, raw) => {
          if (err) return next(err);
          // Linkis reads the query parameters first, then the JSON body (UserRestful).
          let userName = query.get('userName') ?? undefined;
          let password = query.get('password') ?? undefined;
          if ((userName === undefined || password === undefined) && raw && raw.length) {
            let body: unknown;
            try {
              body = JSON.parse(raw.toString('utf8'));
            } catch (e) {
              return next(new GatewayError('BODY_MALFORMED', (e as Error).message));
            }
            if (body === null || typeof body !== 'object' || Array.isArray(body)) return next(new GatewayError('BODY_INVALID', 'the body must be {"userName": ..., "password": ...}'));
            const b = body as Record<string, unknown>;
            if (typeof b.userName === 'string') userName ??= b.userName;
            if (typeof b.password === 'string') password ??= b.password;
          }
          const outcome = decidePair(userName, password, deps.allowlist(), LOGIN_NAMES, 'session');
          open(req, res, next, outcome, password, 'login successful(登录成功)！', (user) => ({ userName: user, isAdmin: false, sessionTimeOut: deps.sessions.timeoutMs, enableWatermark: false }));
        });
    }
  };
}
