// Tokens: their loggable forms (digest, fingerprint, mask) and when one is unusable or weak.
// Tokens are secrets: no message here contains a token or any part of it.
import * as crypto from 'node:crypto';
import { describeChar } from './user-names';

// crypto.hash (Node >= 20.12) skips the Hash object; at 100,000 tokens per reload
// the allocations of createHash dominate. Strings are hashed as UTF-8 either way.
export const sha256Hex: (s: string) => string =
  typeof crypto.hash === 'function'
    ? (s) => crypto.hash('sha256', s, 'hex')
    : (s) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');

/** Hex SHA-256 of a token: what a session remembers of the token that opened it. */
export function tokenDigest(token: string): string {
  return sha256Hex(token);
}

export function tokenFingerprint(token: string): string {
  return fingerprintOf(sha256Hex(token));
}

export function fingerprintOf(digestHex: string): string {
  return 'sha256:' + digestHex.slice(0, 12);
}

/** For UI: at most 4 leading characters, and fewer for short tokens so it never shows them whole. */
export function maskToken(token: string): string {
  const chars = Array.from(token);
  const shown = Math.min(4, Math.floor(chars.length / 4));
  return chars.slice(0, shown).join('') + '…';
}

// Whitespace, control and invisible format characters (e.g. U+200B) in a token
// are almost always copy-paste accidents that make the token impossible to send.
const BAD_TOKEN_CHAR = /[\s\p{Cc}\p{Cf}]/u;

/** What a token that cannot be sent as a header is: a problem under every policy (it cannot mean anything). */
export function tokenProblem(token: string): string | null {
  if (token.length === 0) return 'empty token';
  const m = BAD_TOKEN_CHAR.exec(token);
  if (m) return `token contains whitespace or a control character (${describeChar(m[0])}) at position ${m.index + 1}`;
  return null;
}

/**
 * `warn` (the default, what Linkis's own gateway does with the same file): a weak token works and is
 * reported as a warning. `strict`: a weak token is a problem, so the file is refused as a whole.
 */
export type TokenPolicy = 'warn' | 'strict';
export const DEFAULT_TOKEN_POLICY: TokenPolicy = 'warn';

/** A token is weak below this many characters (code points)... */
export const MIN_STRONG_TOKEN_LENGTH = 16;
/** ...or with fewer distinct characters than this (`aaaaaaaaaaaaaaaaaaaa`, `abababababababab`). */
export const MIN_TOKEN_VARIETY = 6;

// Values published by Apache Linkis as defaults (its DDL seeds linkis_mg_gateway_auth_token with them,
// `wds.linkis.token` defaults to the first) or as examples in its documentation and scripts: anyone can
// guess them. Compared case-insensitively (Linkis ships both `DSS-AUTH` and `dss-AUTH`).
const WELL_KNOWN_TOKENS: ReadonlySet<string> = new Set(
  [
    'LINKIS-UNAVAILABLE-TOKEN',
    'LINKIS-AUTH',
    'BML-AUTH',
    'WS-AUTH',
    'DSS-AUTH',
    'QUALITIS-AUTH',
    'VALIDATOR-AUTH',
    'LINKISCLI-AUTH',
    'DSM-AUTH',
    'QML-AUTH',
    'CLI-AUTH',
    'LINKIS_CLI_TEST',
    // Linkis 1.3.2+ documentation ("modify the system's default tokens") and scripts.
    'BML-928a721518014ba4a28735ec2a0da799',
    'WS-52bce72ed51741c7a2a9544812b45725',
    'DSM-65169e8e1b564c0d8a04ee861ca7df6e',
    'LINKIS_CLI-215af9e265ae437ca1f070b17d6a540d',
    'LINKIS-AUTH-eTaYLbQpmIulPyrXcMl',
  ].map((t) => t.toLowerCase()),
);
const LONGEST_WELL_KNOWN = Math.max(...[...WELL_KNOWN_TOKENS].map((t) => t.length));

/**
 * Why a sendable token is weak, or null when it is not. The reason never contains the token or any part
 * of it (only counts), so it can go into logs, the CLI and the admin API as is.
 */
export function weakTokenReason(token: string): string | null {
  if (token.length <= LONGEST_WELL_KNOWN && WELL_KNOWN_TOKENS.has(token.toLowerCase())) return 'a well-known Linkis default or example value';
  // Counted in code points (an emoji is one character); only a short string can have too few of them.
  const length = token.length < 2 * MIN_STRONG_TOKEN_LENGTH ? Array.from(token).length : token.length;
  if (length < MIN_STRONG_TOKEN_LENGTH) return `shorter than ${MIN_STRONG_TOKEN_LENGTH} characters (${length})`;
  // Reloads check 100,000s of tokens: stop as soon as there is enough variety, which random tokens reach at once.
  const seen: number[] = [];
  for (let i = 0; i < token.length; ) {
    const cp = token.codePointAt(i)!;
    i += cp > 0xffff ? 2 : 1;
    if (!seen.includes(cp) && seen.push(cp) >= MIN_TOKEN_VARIETY) return null;
  }
  return `only ${seen.length} distinct character${seen.length === 1 ? '' : 's'} (fewer than ${MIN_TOKEN_VARIETY})`;
}

export const weakWarning = (reason: string): string => `weak token: ${reason}; replace it (e.g. openssl rand -hex 24)`;
export const weakProblem = (reason: string): string => `weak token: ${reason}; refused by gateway.token.policy=strict`;
