/**
 * Pure edits of proxy.properties text that touch only the entry they are about: comments, blank lines,
 * order, unrelated lines, the BOM and the line terminators stay byte-for-byte. Every result is checked
 * with the gateway's own parser and allowlist rules before anyone writes it, so the API can never produce
 * a file the running gateway would refuse, nor one that means something other than what was asked.
 */
import { buildAllowlist, checkUserName, maskToken, tokenFingerprint, weakTokenReason, type BuildOptions } from '../control-plane/allowlist';
import { parseProperties, type PropertyProblem } from '../linkis/properties';
import { AdminError } from './admin-error';
import { dominantEol, escapeKey, escapeValue, joinPhysicalLines, splitPhysicalLines, valueOffset } from './properties-text';

export type Users = '*' | string[];

/** One token as admins see it: never the token itself. */
export interface TokenView {
  fingerprint: string;
  masked: string;
  users: Users;
  line: number;
  /** Only on a weak token: why (never the token). Under `gateway.token.policy=warn` it still works. */
  weak?: string;
}

/** The gateway's token policy (config.tokenPolicy), so the admin refuses exactly what the gateway refuses. */
export type TokenRules = BuildOptions;

export type TokenEdit =
  | { op: 'create'; token: string; users: Users }
  | { op: 'add-users' | 'remove-users'; fingerprint: string; users: string[] }
  | { op: 'set-users'; fingerprint: string; users: Users }
  | { op: 'delete'; fingerprint: string };

export interface EditResult {
  text: string;
  fingerprint: string;
  usersBefore: Users | null;
  usersAfter: Users | null;
  /** False when the edit asked for what the file already says (nothing to write). */
  changed: boolean;
}

function usersOf(value: string): Users {
  const v = value.trim();
  return v === '*' ? '*' : v.split(',').map((u) => u.trim());
}

/**
 * Tokens in file order, plus every problem the gateway would refuse the file for under `rules` (default:
 * policy `warn`, where weak tokens are no problem but are marked `weak`).
 */
export function readTokens(text: string, rules: TokenRules = {}): { tokens: TokenView[]; problems: PropertyProblem[] } {
  const parsed = parseProperties(text);
  const built = buildAllowlist(parsed.entries, rules);
  const problems = [...parsed.problems, ...built.problems].sort((a, b) => a.line - b.line);
  const tokens = parsed.entries.map((e): TokenView => {
    const weak = weakTokenReason(e.key);
    const view: TokenView = { fingerprint: tokenFingerprint(e.key), masked: maskToken(e.key), users: usersOf(e.value), line: e.line };
    return weak ? { ...view, weak } : view;
  });
  return { tokens, problems };
}

/** `sha256:0123456789ab` or just the 12 hex characters. */
export function normalizeFingerprint(input: string): string {
  const fp = input.trim().toLowerCase();
  const full = fp.startsWith('sha256:') ? fp : `sha256:${fp}`;
  if (!/^sha256:[0-9a-f]{12}$/.test(full)) throw new AdminError('TOKEN_NOT_FOUND', 'a fingerprint is "sha256:" and 12 hex characters, as listed');
  return full;
}

/**
 * Checks a list of user names from an admin; returns it without duplicates, in the given order. Names
 * are reported by position, like the file checks, in case a token was pasted into the list by mistake.
 */
export function checkUsers(users: readonly string[], allowStar: boolean): Users {
  if (allowStar && users.length === 1 && users[0]!.trim() === '*') return '*';
  if (users.length === 0) throw new AdminError('ADMIN_VALIDATION', 'the user list is empty');
  const out: string[] = [];
  users.forEach((raw, i) => {
    const name = raw.trim();
    if (name === '*') throw new AdminError('ADMIN_VALIDATION', allowStar ? '"*" (any user) must stand alone, not mixed with user names' : '"*" is not a user name here');
    const check = checkUserName(name);
    if (!check.ok) throw new AdminError('ADMIN_VALIDATION', `user #${i + 1} is not a valid user name: ${check.reason}`);
    if (!out.includes(name)) out.push(name);
  });
  return out;
}

const describe = (problems: PropertyProblem[]): string =>
  problems
    .slice(0, 5)
    .map((p) => `line ${p.line}: ${p.message}`)
    .join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');

const sameUsers = (a: Users | null, b: Users | null): boolean => JSON.stringify(a) === JSON.stringify(b);

export function applyEdit(text: string, edit: TokenEdit, rules: TokenRules = {}): EditResult {
  const before = parseProperties(text);
  const existing = readTokens(text, rules);
  if (existing.problems.length > 0) {
    // Never build on a file the gateway refuses: the person who broke it must see and fix it.
    throw new AdminError('ADMIN_VALIDATION', `proxy.properties has problems; fix them by hand first (${describe(existing.problems)})`, { problems: existing.problems });
  }
  const fingerprint = edit.op === 'create' ? tokenFingerprint(edit.token) : normalizeFingerprint(edit.fingerprint);
  const matches = before.entries.filter((e) => tokenFingerprint(e.key) === fingerprint);
  if (edit.op === 'create') {
    // The admin creates only strong tokens (generateToken), whatever the policy: weak ones exist only by hand.
    const weak = weakTokenReason(edit.token);
    if (weak) throw new AdminError('ADMIN_VALIDATION', `refusing to create a weak token (${weak})`);
    if (matches.length > 0) throw new AdminError('ADMIN_VALIDATION', `this token is already in the file (line ${matches[0]!.line})`);
    return finish(existing.tokens, appendEntry(text, edit.token, edit.users), fingerprint, null, edit.users, rules);
  }
  if (matches.length === 0) throw new AdminError('TOKEN_NOT_FOUND', fingerprint);
  const entry = matches[0]!;
  const current = usersOf(entry.value);
  let after: Users | null;
  switch (edit.op) {
    case 'delete':
      after = null;
      break;
    case 'set-users':
      after = edit.users;
      break;
    case 'add-users':
      if (current === '*') throw new AdminError('ADMIN_VALIDATION', 'this token may act as any user (*); replace its list (set-users) to restrict it');
      after = [...current, ...edit.users.filter((u) => !current.includes(u))];
      break;
    case 'remove-users':
      if (current === '*') throw new AdminError('ADMIN_VALIDATION', 'this token may act as any user (*); replace its list (set-users) instead');
      after = current.filter((u) => !edit.users.includes(u));
      if (after.length === 0) throw new AdminError('ADMIN_VALIDATION', 'that would leave the token with no user; delete the token instead');
      break;
  }
  if (sameUsers(current, after)) return { text, fingerprint, usersBefore: current, usersAfter: after, changed: false };
  const split = splitPhysicalLines(text);
  const first = entry.line - 1;
  const count = entry.endLine - entry.line + 1;
  if (after === null) {
    split.lines.splice(first, count);
  } else {
    const value = escapeValue(after === '*' ? '*' : after.join(','));
    const last = split.lines[entry.endLine - 1]!;
    // A one-line entry keeps its key as written (separator, indentation, escapes); a continued one is rewritten.
    const text1 = count === 1 ? split.lines[first]!.text.slice(0, valueOffset(split.lines[first]!.text)) + value : `${escapeKey(entry.key)}=${value}`;
    split.lines.splice(first, count, { text: text1, eol: last.eol });
  }
  return finish(existing.tokens, joinPhysicalLines(split), fingerprint, current, after, rules);
}

function appendEntry(text: string, token: string, users: Users): string {
  const split = splitPhysicalLines(text);
  const eol = dominantEol(split.lines);
  const last = split.lines[split.lines.length - 1];
  if (last && last.eol === '') last.eol = eol;
  split.lines.push({ text: `${escapeKey(token)}=${escapeValue(users === '*' ? '*' : users.join(','))}`, eol });
  return joinPhysicalLines(split);
}

/** The post-condition: the new text parses cleanly and says exactly what was asked, nothing else. */
function finish(beforeTokens: TokenView[], text: string, fingerprint: string, usersBefore: Users | null, usersAfter: Users | null, rules: TokenRules): EditResult {
  const after = readTokens(text, rules);
  if (after.problems.length > 0) throw new AdminError('ADMIN_VALIDATION', describe(after.problems), { problems: after.problems });
  const mine = after.tokens.filter((t) => t.fingerprint === fingerprint);
  const others = (ts: TokenView[]) => JSON.stringify(ts.filter((t) => t.fingerprint !== fingerprint).map((t) => [t.fingerprint, t.users]));
  const ok = (usersAfter === null ? mine.length === 0 : mine.length === 1 && sameUsers(mine[0]!.users, usersAfter)) && others(after.tokens) === others(beforeTokens);
  if (!ok) throw new AdminError('ADMIN_VALIDATION', 'the edited file would not mean what was asked (is the last line continued with a backslash?); edit it by hand');
  return { text, fingerprint, usersBefore, usersAfter, changed: true };
}
