/**
 * Makes an execute/submit body name the authenticated user only, changing nothing else: the identity
 * fields are spliced into the client's own bytes, so big integers, `1e400`, key order, whitespace and the
 * code itself reach the Entrance exactly as sent (re-serialising a parsed body changes all of those). The
 * body is checked first by a linear scan with bounds (json-scan.ts); what cannot be forwarded exactly
 * (bytes that are not UTF-8) or would be read two ways (a duplicated identity key) is refused.
 */
import { isUtf8 } from 'node:buffer';
import type { ErrorCode } from './errors';
import { decodeString, scanJson, type JsonMember, type ScanLimits } from './json-scan';

/**
 * Linkis submissions are kilobytes with a few levels of nesting (executionContent, params.configuration.
 * startup, labels) and at most hundreds of variables; these bounds leave wide margins and keep the scan of
 * even the worst accepted body to milliseconds.
 */
export const SUBMISSION_LIMITS: ScanLimits = { maxDepth: 64, maxEntries: 10_000 };

/**
 * A creator as Linkis's own label checks accept one (letters, digits, `_`; ECResourceInfoUtils.NAME_REGEX
 * also allows `.`, which the gateway does not: Linkis builds log and result paths from the creator, and
 * `..` must never reach one). No `-`: UserCreatorLabel splits `user-creator` at `-` into exactly two parts.
 */
const CREATOR = /^[A-Za-z0-9_]{1,64}$/;

export type SubmissionRewrite = { ok: true; body: Buffer } | { ok: false; code: ErrorCode; reason: string };

interface Edit {
  start: number;
  end: number;
  text: string;
}

const refuse = (code: ErrorCode, reason: string): SubmissionRewrite => ({ ok: false, code, reason });

/** Client text in a message: printable ASCII, bounded. */
function shown(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}

/**
 * Members with the given keys; a key that appears twice is an error: JSON parsers disagree on which one
 * counts (Jackson takes the last, others the first), so the gateway cannot know what the Entrance will read.
 */
function pick(members: JsonMember[], keys: readonly string[], where: string): Map<string, JsonMember> | string {
  const found = new Map<string, JsonMember>();
  for (const m of members) {
    if (m.key === null || !keys.includes(m.key)) continue;
    if (found.has(m.key)) return `"${where}${m.key}" appears more than once`;
    found.set(m.key, m);
  }
  return found;
}

/**
 * `user` has passed checkUserName (control-plane/allowlist.ts), which allows `-` because proxy.properties
 * files and job history reads have such users. Linkis cannot run their jobs: every submission gets a
 * UserCreatorLabel `user-creator` (from labels.userCreator, or built by CommonEntranceParser from executeUser
 * and requestApplicationName or the default creator), and the label splits at `-` into exactly two parts.
 * So such a user may do everything else through the gateway, and a submission gets a clear refusal here
 * rather than a LabelErrorException (or a job labelled with the wrong user) from Linkis.
 */
export function rewriteSubmissionBody(raw: Buffer, user: string, limits: ScanLimits = SUBMISSION_LIMITS): SubmissionRewrite {
  if (user.includes('-')) {
    return refuse('USER_NAME_UNSUPPORTED', `"${shown(user)}" contains "-", which Linkis's UserCreatorLabel ("user-creator") cannot hold; submit as a user without "-"`);
  }
  if (!isUtf8(raw)) return refuse('BODY_ENCODING_UNSUPPORTED', 'the body is not valid UTF-8 (send the submission as UTF-8 JSON)');
  const scan = scanJson(raw, limits);
  if (!scan.ok) return refuse(scan.problem === 'malformed' ? 'BODY_MALFORMED' : 'BODY_TOO_COMPLEX', scan.reason);
  if (scan.kind !== 'object') return refuse('BODY_INVALID', 'the body must be a JSON object');
  const top = pick(scan.members, ['executeUser', 'submitUser', 'umUser', 'labels', 'requestApplicationName'], '');
  if (typeof top === 'string') return refuse('BODY_INVALID', top);
  const asJson = JSON.stringify(user);
  const edits: Edit[] = [];

  // executeUser naming another user is refused, never rewritten: it is how linkis-cli's -proxyUser asks to
  // run as someone else, and a job must never run silently as a user other than the one asked for.
  const exec = top.get('executeUser');
  if (!exec) {
    const last = scan.members.at(-1);
    const at = last ? last.valueEnd : scan.start + 1;
    edits.push({ start: at, end: at, text: `${last ? ',' : ''}"executeUser":${asJson}` });
  } else if (exec.kind === 'string') {
    const asked = decodeString(raw, exec.valueStart, exec.valueEnd);
    if (asked !== '' && asked !== user) {
      return refuse('EXECUTE_USER_MISMATCH', `executeUser "${shown(asked)}" is not "${user}"; authenticate as that user instead (Token-User / Proxy-User / login)`);
    }
    edits.push({ start: exec.valueStart, end: exec.valueEnd, text: asJson });
  } else if (raw.toString('latin1', exec.valueStart, exec.valueEnd) === 'null') {
    edits.push({ start: exec.valueStart, end: exec.valueEnd, text: asJson });
  } else return refuse('BODY_INVALID', '"executeUser" must be a string');

  for (const field of ['submitUser', 'umUser']) {
    const m = top.get(field);
    if (m) edits.push({ start: m.valueStart, end: m.valueEnd, text: asJson });
  }

  // The 0.x execute body: Linkis builds the label from `executeUser-requestApplicationName`.
  const app = top.get('requestApplicationName');
  if (app && app.kind === 'string') {
    const creator = decodeString(raw, app.valueStart, app.valueEnd);
    if (creator !== '' && !CREATOR.test(creator)) return refuse('CREATOR_INVALID', `requestApplicationName "${shown(creator)}"`);
  } else if (app && raw.toString('latin1', app.valueStart, app.valueEnd) !== 'null') {
    return refuse('BODY_INVALID', '"requestApplicationName" must be a string');
  }

  const labels = top.get('labels');
  if (labels && labels.kind !== 'object' && raw.toString('latin1', labels.valueStart, labels.valueEnd) !== 'null') {
    return refuse('BODY_INVALID', '"labels" must be an object');
  }
  if (labels && labels.kind === 'object') {
    // Already scanned whole, so this second pass over the labels cannot fail on grammar or bounds.
    const inner = scanJson(raw, limits, labels.valueStart, labels.valueEnd);
    const found = inner.ok ? pick(inner.members, ['userCreator'], 'labels.') : 'labels could not be read';
    if (typeof found === 'string') return refuse('BODY_INVALID', found);
    const uc = found.get('userCreator');
    if (uc) {
      if (uc.kind !== 'string') return refuse('BODY_INVALID', '"labels.userCreator" must be a string "user-creator"');
      const value = decodeString(raw, uc.valueStart, uc.valueEnd);
      // The client's user part is replaced whatever it is (it may hold a '-'), so split at the last '-'.
      const dash = value.lastIndexOf('-');
      if (dash === -1 || dash === value.length - 1) return refuse('BODY_INVALID', '"labels.userCreator" must look like "user-creator"');
      const creator = value.slice(dash + 1);
      if (!CREATOR.test(creator)) return refuse('CREATOR_INVALID', `labels.userCreator "${shown(value)}"`);
      edits.push({ start: uc.valueStart, end: uc.valueEnd, text: JSON.stringify(`${user}-${creator}`) });
    }
  }
  return { ok: true, body: splice(raw, edits) };
}

/** The client's bytes with each edit's range replaced by its text; everything between is copied as is. */
function splice(raw: Buffer, edits: Edit[]): Buffer {
  edits.sort((a, b) => a.start - b.start);
  const parts: Buffer[] = [];
  let at = 0;
  for (const e of edits) {
    parts.push(raw.subarray(at, e.start), Buffer.from(e.text, 'utf8'));
    at = e.end;
  }
  parts.push(raw.subarray(at));
  return Buffer.concat(parts);
}
