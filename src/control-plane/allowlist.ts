// Proxy-user policy: which Validation-Code token may act as which end user.
// Pure: builds an immutable Allowlist from parsed entries and answers decisions.
// Tokens are secrets: nothing here ever puts a token (or a value that might be a
// mistyped token) into a message; tokenFingerprint() is the only loggable form.
import * as crypto from 'node:crypto';
import type { PropertyEntry, PropertyProblem } from '../linkis/properties';

export const USER_NAME_RULE =
  'a user name is 1 to 64 characters from A-Z a-z 0-9 . _ @ -, starting with a letter, digit or _';

const MAX_USER_NAME = 64;
const SAFE_CHAR = /^[A-Za-z0-9._@-]$/;
const SAFE_FIRST = /^[A-Za-z0-9_]$/;
// One-regex fast path: reloads check 100,000s of names and most are fine.
const VALID_USER = /^[A-Za-z0-9_][A-Za-z0-9._@-]{0,63}$/;
const OK: UserNameCheck = Object.freeze({ ok: true });

export type UserNameCheck = { ok: true } | { ok: false; reason: string };
export type Decision = 'allowed' | 'unknown-token' | 'user-not-allowed';

export interface AllowlistEntryInfo {
  fingerprint: string;
  users: '*' | readonly string[];
  line: number;
}

export interface Allowlist {
  /** Number of tokens. */
  readonly size: number;
  decide(token: string, user: string): Decision;
  /** decide() and the token's fingerprint from one hash of the token: what the request path needs. */
  check(token: string, user: string): { decision: Decision; fingerprint: string };
  /** check() for a token known only by its digest (tokenDigest): how a session stays tied to its token. */
  checkDigest(digestHex: string, user: string): { decision: Decision; fingerprint: string };
  /** File order; tokens appear only as fingerprints. */
  entries(): ReadonlyArray<AllowlistEntryInfo>;
}

/** Printable ASCII is shown quoted, anything else as U+XXXX, so reasons are log-safe. */
function describeChar(ch: string): string {
  const cp = ch.codePointAt(0)!;
  if (cp > 0x20 && cp < 0x7f) return `"${ch}"`;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

export function checkUserName(name: string): UserNameCheck {
  if (VALID_USER.test(name)) return OK;
  if (name.length === 0) return { ok: false, reason: 'user name is empty' };
  if (name.length > MAX_USER_NAME) {
    return { ok: false, reason: `user name is too long (${name.length} chars, max ${MAX_USER_NAME})` };
  }
  const chars = Array.from(name); // code points, so a surrogate pair is named whole
  let pos = 0;
  for (const ch of chars) {
    if (!SAFE_CHAR.test(ch)) {
      return { ok: false, reason: `user name has a bad character ${describeChar(ch)} at position ${pos + 1}` };
    }
    pos += ch.length;
  }
  if (!SAFE_FIRST.test(chars[0]!)) {
    return { ok: false, reason: `user name must start with a letter, digit or _, not ${describeChar(chars[0]!)}` };
  }
  return OK;
}

// crypto.hash (Node >= 20.12) skips the Hash object; at 100,000 tokens per reload
// the allocations of createHash dominate. Strings are hashed as UTF-8 either way.
const sha256Hex: (s: string) => string =
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

function fingerprintOf(digestHex: string): string {
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
function tokenProblem(token: string): string | null {
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

const weakWarning = (reason: string): string => `weak token: ${reason}; replace it (e.g. openssl rand -hex 24)`;
const weakProblem = (reason: string): string => `weak token: ${reason}; refused by gateway.token.policy=strict`;

export interface BuildOptions {
  /** Default `warn`. */
  tokenPolicy?: TokenPolicy;
}

export interface BuildResult {
  allowlist: Allowlist;
  /** Any of these makes the file invalid (all or nothing). */
  problems: PropertyProblem[];
  /** Weak tokens under `warn`: reported, and the tokens work. Empty under `strict` (they are problems there). */
  warnings: PropertyProblem[];
}

/** Users of one entry, or the problems with them. Items are named by position, not
 *  by content, in case a token was pasted into the user list by mistake. */
function parseUsers(value: string): { users: '*' | Set<string>; problems: string[] } {
  const trimmed = value.trim();
  if (trimmed === '') return { users: new Set(), problems: ['empty user list'] };
  if (trimmed === '*') return { users: '*', problems: [] };
  const users = new Set<string>();
  const problems: string[] = [];
  trimmed.split(',').forEach((raw, idx) => {
    const name = raw.trim();
    const item = `user #${idx + 1}`;
    if (name === '') problems.push(`${item} in the list is empty`);
    else if (name === '*') problems.push(`${item} is "*", which must stand alone, not mixed with user names`);
    else {
      const check = checkUserName(name);
      if (check.ok) users.add(name);
      else problems.push(`${item} is an invalid user name: ${check.reason}`);
    }
  });
  return { users, problems };
}

interface Rule {
  digestHex: string;
  users: '*' | ReadonlySet<string>;
  line: number;
}

/**
 * Entries with problems are left out; a token that appears more than once is left
 * out altogether (which line was meant is unknowable, so fail closed).
 */
export function buildAllowlist(entries: PropertyEntry[], opts: BuildOptions = {}): BuildResult {
  const builder = createBuilder(opts.tokenPolicy ?? DEFAULT_TOKEN_POLICY);
  for (const entry of entries) builder.add(entry);
  return builder.finish();
}

/**
 * The same result as buildAllowlist, built in slices of a few milliseconds with the event loop free in
 * between: a 100,000-token file takes ~200 ms to build, and traffic must not stall for that long.
 */
export async function buildAllowlistInSlices(entries: PropertyEntry[], opts: (BuildOptions & { sliceMs?: number }) | number = {}): Promise<BuildResult> {
  // A number is the former `sliceMs` argument.
  const { tokenPolicy = DEFAULT_TOKEN_POLICY, sliceMs = 4 } = typeof opts === 'number' ? { sliceMs: opts } : opts;
  const builder = createBuilder(tokenPolicy);
  let sliceStart = performance.now();
  for (let i = 0; i < entries.length; i++) {
    builder.add(entries[i]);
    if ((i & 127) === 127 && performance.now() - sliceStart > sliceMs) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  return builder.finish();
}

function createBuilder(policy: TokenPolicy) {
  const problems: PropertyProblem[] = [];
  const warnings: PropertyProblem[] = [];
  const rules = new Map<string, Rule>(); // insertion order = file order
  const duplicates = new Map<string, number[]>(); // digest -> every line using it
  return {
    add(entry: PropertyEntry): void {
      let tokenIssue = tokenProblem(entry.key);
      const weak = tokenIssue ? null : weakTokenReason(entry.key);
      if (weak && policy === 'strict') tokenIssue = weakProblem(weak);
      else if (weak) warnings.push({ line: entry.line, message: weakWarning(weak) });
      if (tokenIssue) problems.push({ line: entry.line, message: tokenIssue });
      const { users, problems: userIssues } = parseUsers(entry.value);
      for (const message of userIssues) problems.push({ line: entry.line, message });
      if (tokenIssue || userIssues.length > 0) return;

      const digestHex = sha256Hex(entry.key);
      const first = rules.get(digestHex);
      if (!first) {
        rules.set(digestHex, { digestHex, users, line: entry.line });
        return;
      }
      const lines = duplicates.get(digestHex);
      if (lines) lines.push(entry.line);
      else duplicates.set(digestHex, [first.line, entry.line]);
    },
    finish(): BuildResult {
      for (const [digestHex, lines] of duplicates) {
        rules.delete(digestHex);
        for (const line of lines) {
          const others = lines.filter((l) => l !== line);
          const where = `${others.length === 1 ? 'line' : 'lines'} ${others.join(', ')}`;
          problems.push({ line, message: `duplicate token (also on ${where})` });
        }
      }
      problems.sort((a, b) => a.line - b.line);
      return { allowlist: makeAllowlist(rules), problems, warnings };
    },
  };
}

function makeAllowlist(rules: ReadonlyMap<string, Rule>): Allowlist {
  // Built on first use: reloads should not pay for a listing nobody asked for.
  let infos: ReadonlyArray<AllowlistEntryInfo> | null = null;
  const decideDigest = (digestHex: string, user: string): Decision => {
    // The Map is keyed by the token's digest, so lookup timing depends only on
    // sha256(presented token), which tells an attacker nothing about stored
    // tokens. The timingSafeEqual is defence in depth should the indexing change.
    const rule = rules.get(digestHex);
    if (!rule) return 'unknown-token';
    if (!crypto.timingSafeEqual(Buffer.from(digestHex, 'hex'), Buffer.from(rule.digestHex, 'hex'))) {
      return 'unknown-token';
    }
    if (rule.users === '*') {
      // '*' means any user, not any string: a malformed name never gets through.
      return checkUserName(user).ok ? 'allowed' : 'user-not-allowed';
    }
    return rule.users.has(user) ? 'allowed' : 'user-not-allowed';
  };
  return Object.freeze({
    size: rules.size,
    decide(token: string, user: string): Decision {
      return decideDigest(sha256Hex(token), user);
    },
    check(token: string, user: string) {
      const digestHex = sha256Hex(token);
      return { decision: decideDigest(digestHex, user), fingerprint: fingerprintOf(digestHex) };
    },
    checkDigest(digestHex: string, user: string) {
      return { decision: decideDigest(digestHex, user), fingerprint: fingerprintOf(digestHex) };
    },
    entries(): ReadonlyArray<AllowlistEntryInfo> {
      infos ??= Object.freeze(
        [...rules.values()].map((r) =>
          Object.freeze({
            fingerprint: fingerprintOf(r.digestHex),
            users: r.users === '*' ? ('*' as const) : Object.freeze([...r.users]),
            line: r.line,
          }),
        ),
      );
      return infos;
    },
  });
}
