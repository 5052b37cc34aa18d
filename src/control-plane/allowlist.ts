// Proxy-user policy: which Validation-Code token may act as which end user.
// Pure: builds an immutable Allowlist from parsed entries and answers decisions.
// Tokens are secrets: nothing here ever puts a token (or a value that might be a
// mistyped token) into a message; tokenFingerprint() is the only loggable form.
import * as crypto from 'node:crypto';
import type { PropertyEntry, PropertyProblem } from '../linkis/properties';
import { DEFAULT_TOKEN_POLICY, fingerprintOf, sha256Hex, tokenProblem, weakProblem, weakTokenReason, weakWarning, type TokenPolicy } from './token-policy';
import { checkUserName } from './user-names';

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
