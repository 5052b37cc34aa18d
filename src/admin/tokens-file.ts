/**
 * Pure edits of proxy.properties text that touch only the entry they are about: comments, blank lines,
 * order, unrelated lines, the BOM and the line terminators stay byte-for-byte. Every result is checked
 * with the gateway's own parser and allowlist rules before anyone writes it, so the API can never produce
 * a file the running gateway would refuse, nor one that means something other than what was asked.
 */
import { buildAllowlist, type BuildOptions } from '../control-plane/allowlist';
import { maskToken, tokenFingerprint, weakTokenReason } from '../control-plane/token-policy';
import { checkUserName } from '../control-plane/user-names';
import { parseProperties, type PropertyProblem } from '../linkis/properties';
import { AdminError } from './admin-error';
import { dominantEol, escapeKey, escapeValue, joinPhysicalLines, splitPhysicalLines, valueOffset } from './properties-text';
import { checkLabel, deleteWithLabel, labelsOf, newLabelLines, setLabel, type LabelInfo, type Stamp } from './token-labels';

export type Users = '*' | string[];

/** One token as admins see it: never the token itself. `label`, `created`, `createdBy`: see token-labels.ts. */
export interface TokenView extends LabelInfo {
  fingerprint: string;
  masked: string;
  users: Users;
  line: number;
  /** Only on a weak token: why (never the token). Under `gateway.token.policy=warn` it still works. */
  weak?: string;
  /** ISO time of the last request the data plane let through with it (token-usage.ts); absent: none seen. */
  lastUsed?: string;
}

/** The gateway's token policy (config.tokenPolicy), so the admin refuses exactly what the gateway refuses. */
export type TokenRules = BuildOptions;

export type TokenEdit =
  | { op: 'create'; token: string; users: Users; label?: string; created?: Stamp }
  | { op: 'add-users' | 'remove-users'; fingerprint: string; users: string[] }
  | { op: 'set-users'; fingerprint: string; users: Users }
  | { op: 'set-label'; fingerprint: string; label: string }
  | { op: 'delete'; fingerprint: string };

export interface EditResult {
  text: string;
  fingerprint: string;
  usersBefore: Users | null;
  usersAfter: Users | null;
  /** The token's label before and after ('' for none; null when it did not or does not exist). */
  labelBefore: string | null;
  labelAfter: string | null;
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
  const labels = labelsOf(splitPhysicalLines(text), parsed.entries);
  const tokens = parsed.entries.map((e, i): TokenView => {
    const weak = weakTokenReason(e.key);
    const view: TokenView = { fingerprint: tokenFingerprint(e.key), masked: maskToken(e.key), users: usersOf(e.value), line: e.line };
    const l = labels[i]!; // assigned, not spread: this runs for each of up to 60,000 tokens
    if (l.label !== undefined) view.label = l.label;
    if (l.created !== undefined) view.created = l.created;
    if (l.createdBy !== undefined) view.createdBy = l.createdBy;
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
  const keys = new Set(before.entries.map((e) => e.key));
  if (edit.op === 'create') {
    // The admin creates only strong tokens (generateToken), whatever the policy: weak ones exist only by hand.
    const weak = weakTokenReason(edit.token);
    if (weak) throw new AdminError('ADMIN_VALIDATION', `refusing to create a weak token (${weak})`);
    if (matches.length > 0) throw new AdminError('ADMIN_VALIDATION', `this token is already in the file (line ${matches[0]!.line})`);
    const label = checkLabel(edit.label ?? '', keys.add(edit.token));
    const created = appendEntry(text, edit.token, edit.users, label, edit.created);
    // Without a label line of its own a new entry may sit under someone's comment: no label promised then.
    return finish(existing.tokens, created, fingerprint, null, edit.users, null, label || edit.created ? label : null, rules);
  }
  if (matches.length === 0) throw new AdminError('TOKEN_NOT_FOUND', fingerprint);
  const entry = matches[0]!;
  const current = usersOf(entry.value);
  let after: Users | null;
  switch (edit.op) {
    case 'delete':
      after = null;
      break;
    case 'set-label':
      after = current;
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
  const labelBefore = existing.tokens.find((t) => t.fingerprint === fingerprint)?.label ?? '';
  const labelAfter = after === null ? null : edit.op === 'set-label' ? checkLabel(edit.label, keys) : labelBefore;
  if (sameUsers(current, after) && labelAfter === labelBefore) return { text, fingerprint, usersBefore: current, usersAfter: after, labelBefore, labelAfter, changed: false };
  const split = splitPhysicalLines(text);
  const first = entry.line - 1;
  const count = entry.endLine - entry.line + 1;
  if (after === null) {
    deleteWithLabel(split, before.entries, entry);
  } else if (edit.op === 'set-label') {
    setLabel(split, before.entries, entry, labelAfter!, dominantEol(split.lines));
  } else {
    const value = escapeValue(after === '*' ? '*' : after.join(','));
    const last = split.lines[entry.endLine - 1]!;
    // A one-line entry keeps its key as written (separator, indentation, escapes); a continued one is rewritten.
    const text1 = count === 1 ? split.lines[first]!.text.slice(0, valueOffset(split.lines[first]!.text)) + value : `${escapeKey(entry.key)}=${value}`;
    split.lines.splice(first, count, { text: text1, eol: last.eol });
  }
  return finish(existing.tokens, joinPhysicalLines(split), fingerprint, current, after, labelBefore, labelAfter, rules);
}

function appendEntry(text: string, token: string, users: Users, label: string, created: Stamp | undefined): string {
  const split = splitPhysicalLines(text);
  const eol = dominantEol(split.lines);
  const last = split.lines[split.lines.length - 1];
  if (last && last.eol === '') last.eol = eol;
  split.lines.push(...newLabelLines(label, created, eol), { text: `${escapeKey(token)}=${escapeValue(users === '*' ? '*' : users.join(','))}`, eol });
  return joinPhysicalLines(split);
}

/**
 * The post-condition: the new text parses cleanly and says exactly what was asked, nothing else: every other
 * token keeps its users and its label; this one has the users (and, when one is promised, the label) asked.
 */
function finish(beforeTokens: TokenView[], text: string, fingerprint: string, usersBefore: Users | null, usersAfter: Users | null, labelBefore: string | null, labelAfter: string | null, rules: TokenRules): EditResult {
  const after = readTokens(text, rules);
  if (after.problems.length > 0) throw new AdminError('ADMIN_VALIDATION', describe(after.problems), { problems: after.problems });
  const mine = after.tokens.filter((t) => t.fingerprint === fingerprint);
  const others = (ts: TokenView[]) => JSON.stringify(ts.filter((t) => t.fingerprint !== fingerprint).map((t) => [t.fingerprint, t.users, t.label ?? '', t.created]));
  const labelOk = usersAfter === null || labelAfter === null || (mine[0]?.label ?? '') === labelAfter;
  const ok = (usersAfter === null ? mine.length === 0 : mine.length === 1 && sameUsers(mine[0]!.users, usersAfter)) && labelOk && others(after.tokens) === others(beforeTokens);
  if (!ok) throw new AdminError('ADMIN_VALIDATION', 'the edited file would not mean what was asked (is the last line continued with a backslash?); edit it by hand');
  return { text, fingerprint, usersBefore, usersAfter, labelBefore, labelAfter, changed: true };
}
