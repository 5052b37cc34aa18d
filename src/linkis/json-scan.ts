/**
 * A linear JSON scanner over raw bytes, for submissions. It validates the grammar (RFC 8259) and bounds
 * nesting depth and the number of keys and array items BEFORE anything builds objects: JSON.parse of a
 * wide or deep body costs seconds of synchronous work and memory, and re-serialising would change the
 * client's bytes (big integers, `1e400`). One pass, no recursion, no allocation per value; it reports only
 * where the members of the outermost object are, so the caller can splice those and keep every other byte.
 *
 * UTF-8 validity is not checked here (bytes >= 0x80 only occur inside strings): `isUtf8` does it natively.
 * Anything this scanner accepts, JSON.parse accepts (a property test holds it to that).
 */

export interface ScanLimits {
  /** Deepest nesting of objects and arrays; the outermost value is depth 1. */
  maxDepth: number;
  /** Object members plus array items, over the whole document. */
  maxEntries: number;
}

export type JsonKind = 'object' | 'array' | 'string' | 'number' | 'literal';

/** A member of the outermost object: byte offsets into the scanned buffer (end offsets exclusive). */
export interface JsonMember {
  /** The decoded key; null for a key too long to be one the gateway looks for. */
  key: string | null;
  valueStart: number;
  valueEnd: number;
  kind: JsonKind;
}

export type JsonScan =
  | { ok: true; kind: JsonKind; start: number; end: number; members: JsonMember[] }
  | { ok: false; problem: 'malformed' | 'too-deep' | 'too-many'; reason: string };

// Keys longer than this (in bytes, escapes included) are not decoded: the gateway's keys are short.
const MAX_DECODED_KEY = 96;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** From the opening quote at `i`: the index after the closing quote, or -1. */
function scanString(b: Uint8Array, i: number, to: number): number {
  for (i++; i < to; ) {
    const c = b[i]!;
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) {
      const n = b[i + 1];
      if (n === 0x22 || n === 0x5c || n === 0x2f || n === 0x62 || n === 0x66 || n === 0x6e || n === 0x72 || n === 0x74) i += 2;
      else if (n === 0x75 && i + 5 < to && isHex(b[i + 2]!) && isHex(b[i + 3]!) && isHex(b[i + 4]!) && isHex(b[i + 5]!)) i += 6;
      else return -1;
    } else if (c < 0x20) return -1;
    else i++;
  }
  return -1;
}

/** From the first byte of a number at `i`: the index after it, or -1. */
function scanNumber(b: Uint8Array, i: number, to: number): number {
  if (b[i] === 0x2d) i++;
  if (!(i < to && isDigit(b[i]!))) return -1;
  // No leading zeros: "0" alone, or a non-zero digit and any digits.
  if (b[i] === 0x30) i++;
  else while (++i < to && isDigit(b[i]!));
  if (i < to && b[i] === 0x2e) {
    if (!(++i < to && isDigit(b[i]!))) return -1;
    while (++i < to && isDigit(b[i]!));
  }
  if (i < to && (b[i] === 0x65 || b[i] === 0x45)) {
    if (++i < to && (b[i] === 0x2b || b[i] === 0x2d)) i++;
    if (!(i < to && isDigit(b[i]!))) return -1;
    while (++i < to && isDigit(b[i]!));
  }
  return i;
}

const LITERALS = [Buffer.from('true'), Buffer.from('false'), Buffer.from('null')];

function scanLiteral(b: Uint8Array, i: number, to: number): number {
  for (const lit of LITERALS) {
    if (b[i] !== lit[0] || i + lit.length > to) continue;
    let k = 1;
    while (k < lit.length && b[i + k] === lit[k]) k++;
    return k === lit.length ? i + k : -1;
  }
  return -1;
}

function kindOf(c: number): JsonKind {
  return c === 0x7b ? 'object' : c === 0x5b ? 'array' : c === QUOTE ? 'string' : c === 0x2d || isDigit(c) ? 'number' : 'literal';
}

/** The decoded text of the string token [start, end) (quotes included) of a scanned buffer. */
export function decodeString(b: Buffer, start: number, end: number): string {
  return JSON.parse(b.toString('utf8', start, end)) as string;
}

function decodeKey(b: Buffer, start: number, end: number): string | null {
  if (end - start > MAX_DECODED_KEY) return null;
  for (let k = start + 1; k < end - 1; k++) if (b[k] === BACKSLASH) return decodeString(b, start, end);
  return b.toString('utf8', start + 1, end - 1);
}

/** Scans the JSON text in b[from, to) (surrounding whitespace allowed, nothing else). */
export function scanJson(b: Buffer, limits: ScanLimits, from = 0, to = b.length): JsonScan {
  const fail = (problem: 'malformed' | 'too-deep' | 'too-many', reason: string): JsonScan => ({ ok: false, problem, reason });
  const malformed = (at: number) => fail('malformed', at >= to ? 'unexpected end of the body' : `unexpected ${JSON.stringify(String.fromCharCode(b[at]!))} at byte ${at - from}`);
  // Open containers, innermost last: true for an object.
  const stack: boolean[] = [];
  const members: JsonMember[] = [];
  let pending: JsonMember | null = null;
  let entries = 0;
  let i = from;
  while (i < to && isWs(b[i]!)) i++;
  const start = i;
  const rootKind = i < to ? kindOf(b[i]!) : 'literal';
  let wantKey = false;
  for (;;) {
    if (wantKey) {
      // Inside an object, after "{" or ",": a key, a colon, then a value.
      if (b[i] !== QUOTE) return malformed(i);
      const keyEnd = scanString(b, i, to);
      if (keyEnd === -1) return malformed(i);
      if (stack.length === 1) pending = { key: decodeKey(b, i, keyEnd), valueStart: 0, valueEnd: 0, kind: 'literal' };
      i = keyEnd;
      while (i < to && isWs(b[i]!)) i++;
      if (b[i] !== 0x3a) return malformed(i);
      i++;
      while (i < to && isWs(b[i]!)) i++;
      wantKey = false;
    }
    // A value starts at i.
    if (i >= to) return malformed(i);
    const c = b[i]!;
    if (pending && stack.length === 1) {
      pending.valueStart = i;
      pending.kind = kindOf(c);
    }
    if (c === 0x7b || c === 0x5b) {
      if (stack.length + 1 > limits.maxDepth) return fail('too-deep', `nesting deeper than ${limits.maxDepth} levels`);
      stack.push(c === 0x7b);
      i++;
      while (i < to && isWs(b[i]!)) i++;
      const close = c === 0x7b ? 0x7d : 0x5d;
      if (b[i] !== close) {
        if (++entries > limits.maxEntries) return fail('too-many', `more than ${limits.maxEntries} keys and array items`);
        wantKey = c === 0x7b;
        continue;
      }
      stack.pop();
      i++;
    } else {
      const tokenStart = i;
      i = c === QUOTE ? scanString(b, i, to) : c === 0x2d || isDigit(c) ? scanNumber(b, i, to) : scanLiteral(b, i, to);
      if (i === -1) return malformed(tokenStart);
    }
    // After a complete value: close containers, or go on to the next member or item.
    for (;;) {
      if (pending && stack.length === 1) {
        pending.valueEnd = i;
        members.push(pending);
        pending = null;
      }
      while (i < to && isWs(b[i]!)) i++;
      if (stack.length === 0) {
        if (i !== to) return malformed(i);
        return { ok: true, kind: rootKind, start, end: i, members };
      }
      const inObject = stack[stack.length - 1]!;
      if (b[i] === 0x2c) {
        if (++entries > limits.maxEntries) return fail('too-many', `more than ${limits.maxEntries} keys and array items`);
        i++;
        while (i < to && isWs(b[i]!)) i++;
        wantKey = inObject;
        break;
      }
      if (b[i] !== (inObject ? 0x7d : 0x5d)) return malformed(i);
      stack.pop();
      i++;
    }
  }
}
