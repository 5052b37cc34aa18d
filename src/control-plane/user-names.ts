// User names as the gateway accepts them (what Linkis can read as a user and a path part), and how a bad
// one is described without echoing it (it may be a mistyped token).

export const USER_NAME_RULE =
  'a user name is 1 to 64 characters from A-Z a-z 0-9 . _ @ -, starting with a letter, digit or _';

const MAX_USER_NAME = 64;
const SAFE_CHAR = /^[A-Za-z0-9._@-]$/;
const SAFE_FIRST = /^[A-Za-z0-9_]$/;
// One-regex fast path: reloads check 100,000s of names and most are fine.
const VALID_USER = /^[A-Za-z0-9_][A-Za-z0-9._@-]{0,63}$/;
const OK: UserNameCheck = Object.freeze({ ok: true });

export type UserNameCheck = { ok: true } | { ok: false; reason: string };

/** Printable ASCII is shown quoted, anything else as U+XXXX, so reasons are log-safe. */
export function describeChar(ch: string): string {
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
