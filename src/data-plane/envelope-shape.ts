/**
 * Is a small success an envelope? Checked on its bytes, without JSON.parse (see envelopeShaped).
 */

const QUOTE = 0x22;
const METHOD = 1;
const MESSAGE = 2;
const INTEGER_STATUS = 4;

/**
 * The cheap check of a small success (JSON.parse costs over a microsecond for a 250-byte status answer
 * and about 200 µs for an 80 KB log page, and builds it all as objects; this looks at the bytes between
 * strings only, skipping strings with a native search): the body is one object (first and last non-space
 * bytes "{" and "}", braces and brackets outside strings balanced and closed exactly at the end), whose
 * top-level keys include "method", "message", and "status" with an integer value. What this catches: bytes
 * that only start like an envelope (cut, or garbage after it), HTML and text pages, Spring's error JSON,
 * echoes of the request. What it does not check: the grammar of values (a JSON.parse would).
 */
export function envelopeShaped(b: Buffer): boolean {
  let start = 0;
  let end = b.length - 1;
  while (start <= end && isJsonSpace(b[start]!)) start++;
  while (end > start && isJsonSpace(b[end]!)) end--;
  if (end <= start || b[start] !== 0x7b || b[end] !== 0x7d) return false;
  let depth = 0;
  let found = 0;
  for (let i = start; i <= end; i++) {
    const c = b[i]!;
    if (c === QUOTE) {
      let close = i;
      do close = b.indexOf(QUOTE, close + 1);
      while (close !== -1 && escaped(b, close));
      if (close === -1 || close >= end) return false;
      if (depth === 1) found |= topLevelKey(b, i, close, end);
      i = close;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if ((c === 0x7d || c === 0x5d) && --depth === 0) return i === end && found === (METHOD | MESSAGE | INTEGER_STATUS);
  }
  return false;
}

/** The quote at `at` follows an odd number of backslashes. */
function escaped(b: Buffer, at: number): boolean {
  let n = 0;
  while (b[at - 1 - n] === 0x5c) n++;
  return (n & 1) === 1;
}

/** For a string b[open..close] (quotes included) inside the outermost object: which envelope key it is, if it is one. */
function topLevelKey(b: Buffer, open: number, close: number, end: number): number {
  const length = close - open - 1;
  if (length !== 6 && length !== 7) return 0;
  let i = close + 1;
  while (i < end && isJsonSpace(b[i]!)) i++;
  if (b[i] !== 0x3a) return 0; // a value, not a key
  if (length === 7) return bytesAre(b, open + 1, 'message') ? MESSAGE : 0;
  if (bytesAre(b, open + 1, 'method')) return METHOD;
  if (!bytesAre(b, open + 1, 'status')) return 0;
  // An integer (as Linkis writes the envelope status) and then the end of the member.
  i++;
  while (i < end && isJsonSpace(b[i]!)) i++;
  if (b[i] === 0x2d) i++;
  const digits = i;
  while (i < end && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
  if (i === digits) return 0;
  while (i < end && isJsonSpace(b[i]!)) i++;
  return b[i] === 0x2c || i === end ? INTEGER_STATUS : 0;
}

function bytesAre(b: Buffer, at: number, ascii: string): boolean {
  for (let k = 0; k < ascii.length; k++) if (b[at + k] !== ascii.charCodeAt(k)) return false;
  return true;
}

export function isJsonSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}
