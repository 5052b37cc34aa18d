/**
 * A token's label is the comment line directly above its entry in proxy.properties, so the file stays one
 * Linkis reads unchanged (comments mean nothing to it) and a person reading the file sees the same name the
 * page shows. A token the admin creates gets that line with a stamp, `# BI service (created <ISO> by anna)`:
 * when and by whom live with the token itself, so they survive a lost or rotated audit file and every
 * replica and the CLI read them from the one file they share. Pure.
 *
 * A comment that looks like a token or a commented-out entry (`# 9f2c…=alice`) is never a label: it may be
 * a secret, and labels are shown to admins, in answers and in the audit.
 */
import type { PropertyEntry } from '../linkis/properties';
import { AdminError } from './admin-error';
import type { PhysicalLine, SplitText } from './properties-text';

export interface LabelInfo {
  /** Absent: no label (no comment above, an empty one, or one that may be a secret). */
  label?: string;
  /** ISO time the admin created the token; absent for tokens written by hand. */
  created?: string;
  createdBy?: string;
}

export interface Stamp {
  at: string;
  by?: string;
}

export const MAX_LABEL = 100;
const COMMENT = /^[ \t\f]*[#!]/;
const MARKER = /^[ \t\f]*[#!]+[ \t\f]*/;
const STAMP = /^\(created (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)(?: by ([A-Za-z0-9_][A-Za-z0-9._@-]{0,63}))?\)$/;
/** Words a token of the file could be: split at separators (`old=<token>`), or at spaces only (base64 `…=`). */
const LONG_WORDS = [/[^\s=:,;]{8,}/g, /\S{8,}/g];

/** The `(created …)` at the end of a comment: where it starts and what it says, or null. */
function stampOf(body: string): { at: number; m: RegExpExecArray } | null {
  const at = body.lastIndexOf('(created ');
  if (at === -1 || !body.endsWith(')') || (at > 0 && !/[ \t\f]/.test(body[at - 1]!))) return null;
  const m = STAMP.exec(body.slice(at));
  return m ? { at, m } : null;
}

/** A commented-out entry with a token-sized key, or one long word with a digit in it: a token, maybe. */
function mayBeSecret(text: string, keys: ReadonlySet<string>): boolean {
  if (text.length < 8) return false;
  if (/^[^\s=:]{16,}\s*[=:]/.test(text) || /^(?=\S*\d)\S{16,}$/.test(text)) return true;
  for (const re of LONG_WORDS) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) if (keys.has(m[0])) return true;
  }
  return false;
}

const isComment = (line: PhysicalLine | undefined): boolean => line !== undefined && COMMENT.test(line.text);

/** What a comment line says: its label and stamp; `hidden` when it may be a secret (not a label then). */
export function parseLabelLine(text: string, keys: ReadonlySet<string> = new Set()): LabelInfo & { hidden?: true } {
  let body = text.replace(MARKER, '').trimEnd();
  const stamp = stampOf(body);
  const m = stamp?.m;
  if (stamp) body = body.slice(0, stamp.at).trimEnd();
  if (mayBeSecret(body, keys)) return { hidden: true };
  // Built field by field, not spread: a listing of 60,000 tokens does this for each label.
  const info: LabelInfo = {};
  if (body) info.label = body;
  if (m) info.created = m[1]!;
  if (m?.[2]) info.createdBy = m[2];
  return info;
}

/** Lines (0-based) that belong to an entry: a `#` there is part of a value, not a comment. */
function coveredLines(count: number, entries: readonly PropertyEntry[]): Uint8Array {
  const covered = new Uint8Array(count);
  for (const e of entries) covered.fill(1, e.line - 1, Math.min(e.endLine, count));
  return covered;
}

/** Index of the line holding `entry`'s label, or null (no comment directly above, or a hidden one). */
function labelIndex(split: SplitText, covered: Uint8Array, entry: PropertyEntry, keys: ReadonlySet<string>): number | null {
  const i = entry.line - 2;
  if (i < 0 || covered[i] || !isComment(split.lines[i])) return null;
  return parseLabelLine(split.lines[i]!.text, keys).hidden ? null : i;
}

/** Each entry's label, in entry order (each comment parsed once: a listing of 60,000 tokens does this). */
export function labelsOf(split: SplitText, entries: readonly PropertyEntry[]): LabelInfo[] {
  const covered = coveredLines(split.lines.length, entries);
  let keys: Set<string> | null = null; // only a comment with a long word needs them
  const keysNow = () => (keys ??= new Set(entries.map((e) => e.key)));
  return entries.map((e) => {
    const i = e.line - 2;
    if (i < 0 || covered[i] || !isComment(split.lines[i])) return {};
    const info = parseLabelLine(split.lines[i]!.text, { has: (w: string) => keysNow().has(w) } as ReadonlySet<string>);
    return info.hidden ? {} : info;
  });
}

/** An admin's label: printable, at most 100 characters, nothing a reader could take for a token or a stamp. */
export function checkLabel(raw: string, keys: ReadonlySet<string> = new Set()): string {
  const label = raw.trim();
  if (/[\p{Cc}\p{Cf}\u2028\u2029]/u.test(label)) throw new AdminError('ADMIN_VALIDATION', 'a label is one line of printable text');
  if (Array.from(label).length > MAX_LABEL) throw new AdminError('ADMIN_VALIDATION', `a label has at most ${MAX_LABEL} characters`);
  if (label && mayBeSecret(label, keys)) throw new AdminError('ADMIN_VALIDATION', 'a label must not look like a token (a long word with digits, or "key=value")');
  if (stampOf(label) || /^[#!]/.test(label)) throw new AdminError('ADMIN_VALIDATION', 'a label must not start with # or ! nor end with "(created …)"');
  return label;
}

export function formatLabelLine(label: string, stamp: Stamp | undefined, marker = '# '): string {
  const s = stamp ? `(created ${stamp.at}${stamp.by ? ` by ${stamp.by}` : ''})` : '';
  return `${marker}${label}${label && s ? ' ' : ''}${s}`.trimEnd();
}

/** The new label line goes above the entry (create): nothing when there is neither a label nor a stamp. */
export function newLabelLines(label: string, stamp: Stamp | undefined, eol: string): PhysicalLine[] {
  return label || stamp ? [{ text: formatLabelLine(label, stamp), eol }] : [];
}

/**
 * Sets `entry`'s label in `split` (in place), keeping its stamp and comment marker; '' removes it. A removed
 * line next to another comment becomes a blank line, so that comment does not become this token's label.
 */
export function setLabel(split: SplitText, entries: readonly PropertyEntry[], entry: PropertyEntry, label: string, eol: string): void {
  const covered = coveredLines(split.lines.length, entries);
  const keys = new Set(entries.map((e) => e.key));
  const i = labelIndex(split, covered, entry, keys);
  if (i === null) {
    if (label) split.lines.splice(entry.line - 1, 0, { text: formatLabelLine(label, undefined), eol });
    return;
  }
  const line = split.lines[i]!;
  const info = parseLabelLine(line.text, keys);
  const stamp = info.created ? { at: info.created, by: info.createdBy } : undefined;
  const marker = MARKER.exec(line.text)![0];
  if (label || stamp) line.text = formatLabelLine(label, stamp, /[ \t\f]$/.test(marker) ? marker : `${marker} `);
  else if (i > 0 && !covered[i - 1] && isComment(split.lines[i - 1])) line.text = '';
  else split.lines.splice(i, 1);
}

/**
 * Deletes `entry` and its label line from `split` (in place): the label names a token that is gone. If
 * that would put another comment right above the next entry, a blank line keeps the two apart.
 */
export function deleteWithLabel(split: SplitText, entries: readonly PropertyEntry[], entry: PropertyEntry): void {
  const covered = coveredLines(split.lines.length, entries);
  const i = labelIndex(split, covered, entry, new Set(entries.map((e) => e.key)));
  const first = i ?? entry.line - 1;
  const count = entry.endLine - first;
  const nextIsEntry = entry.endLine < split.lines.length && covered[entry.endLine] === 1;
  const aboveIsComment = first > 0 && !covered[first - 1] && isComment(split.lines[first - 1]);
  const keep = i !== null && nextIsEntry && aboveIsComment ? [{ text: '', eol: split.lines[i]!.eol }] : [];
  split.lines.splice(first, count, ...keep);
}
