/**
 * Sessions that user/login and user/proxy open: a cookie of the gateway's own, never a Linkis ticket.
 * The cookie is sealed with AES-256-GCM (node:crypto), so it is both signed and opaque: it carries the
 * user, the SHA-256 of the token that logged in (so removing the token or the user from the allowlist ends
 * the session at once), an expiry and an id (so logout can revoke it). Sealed rather than only signed
 * because the token's digest must not be readable: a weak token could be found from it offline.
 * Stateless on purpose: every worker and every replica sharing the secret reads the same cookie.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export { GATEWAY_SESSION_COOKIE as SESSION_COOKIE } from '../linkis/identity';
import { GATEWAY_SESSION_COOKIE as SESSION_COOKIE } from '../linkis/identity';

export interface SessionClaims {
  /** Who the session acts as. */
  user: string;
  /** Hex SHA-256 of the token the session was opened with. */
  tokenDigest: string;
  /** Epoch millis after which the session is over. */
  expires: number;
  /** Random id, for revocation at logout. */
  id: string;
}

export interface SessionCodec {
  issue(user: string, tokenDigest: string): { value: string; claims: SessionClaims };
  /** The claims of a cookie this gateway sealed and that has not expired; null for anything else. */
  open(value: string): SessionClaims | null;
  readonly timeoutMs: number;
}

const VERSION = 'v1';
const MAX_COOKIE_CHARS = 1024;
/** Unsealed cookies kept: with the 1 KB cap, at most about 10 MB. */
const MAX_OPENED = 10_000;

export function createSessionCodec(secret: string, timeoutMs: number, now: () => number = Date.now): SessionCodec {
  if (secret.length < 32) throw new RangeError('the session secret must be at least 32 characters');
  // A key of its own for this purpose, derived from the operator's secret.
  const key = Buffer.from(hkdfSync('sha256', secret, 'linkis-gateway', 'session cookie v1', 32));
  // Cookies this codec unsealed, by their exact value: a session client sends the same cookie with every
  // poll, and unsealing (AES-GCM, base64, JSON) cost a session request about 20% more CPU than a token
  // header (bench/RESULTS.md). Only genuine cookies get in; expiry is checked on every hit, and revocation
  // and the allowlist are checked by the caller every time, as before.
  const opened = new Map<string, SessionClaims>();
  return {
    timeoutMs,
    issue(user, tokenDigest) {
      const claims: SessionClaims = { user, tokenDigest, expires: now() + timeoutMs, id: randomBytes(12).toString('base64url') };
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([cipher.update(JSON.stringify([claims.user, claims.tokenDigest, claims.expires, claims.id]), 'utf8'), cipher.final()]);
      const value = `${VERSION}.${iv.toString('base64url')}.${sealed.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
      return { value, claims };
    },
    open(value) {
      const hit = opened.get(value);
      if (hit) return now() < hit.expires ? hit : null;
      const claims = unseal(value);
      if (claims) {
        // Bounded: when full, start over (the sessions in use come back at the cost of one unseal each).
        if (opened.size >= MAX_OPENED) opened.clear();
        opened.set(value, claims);
      }
      return claims;
    },
  };

  function unseal(value: string): SessionClaims | null {
    if (value.length > MAX_COOKIE_CHARS) return null;
    const parts = value.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[1]!, 'base64url'));
      decipher.setAuthTag(Buffer.from(parts[3]!, 'base64url'));
      const plain = Buffer.concat([decipher.update(Buffer.from(parts[2]!, 'base64url')), decipher.final()]).toString('utf8');
      const [user, tokenDigest, expires, id] = JSON.parse(plain) as [string, string, number, string];
      if (typeof user !== 'string' || typeof tokenDigest !== 'string' || typeof expires !== 'number' || typeof id !== 'string') return null;
      if (now() >= expires) return null;
      return Object.freeze({ user, tokenDigest, expires, id });
    } catch {
      return null; // tampered, truncated, or sealed with another secret
    }
  }
}

/** The Set-Cookie value that opens a session in the client's cookie jar. */
export function sessionCookie(value: string, maxAgeMs: number, secure: boolean): string {
  // HttpOnly: no page script reads it; SameSite=Lax: not sent on cross-site POSTs; Path=/ as Linkis sets its own.
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${Math.floor(maxAgeMs / 1000)}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
