// Parser for the java.util.Properties text format, following Properties.load()
// (LineReader + loadConvert, JDK 9+; Java 8 differs only for a line holding a
// lone backslash), so a proxy.properties file written for Linkis means the same here. Differences from Java, all deliberate:
//  - a malformed \uXXXX escape is reported as a problem (Java throws and the whole
//    load fails); the offending entry is skipped, the rest is still parsed;
//  - a leading BOM is ignored (Java would make it part of the first key);
//  - entries keep file order and duplicates, with line numbers, so the caller can
//    reject ambiguity instead of silently letting the last line win.
// Problem messages never quote file content: these files hold secrets.

export interface PropertyEntry {
  key: string;
  value: string;
  /** 1-based physical line where the logical line starts. */
  line: number;
  /** 1-based physical line where the logical line ends (continuations). */
  endLine: number;
}

export interface PropertyProblem {
  line: number;
  message: string;
}

export interface ParseResult {
  entries: PropertyEntry[];
  problems: PropertyProblem[];
}

// Java's LineReader treats only these three as whitespace (not \v, not NBSP).
function isWs(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\f';
}

function skipLeadingWs(s: string): string {
  let i = 0;
  while (i < s.length && isWs(s[i]!)) i++;
  return s.slice(i);
}

function hasOddTrailingBackslashes(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

/** Splits on CRLF, CR or LF; a terminator at end of text does not open a new line. */
function physicalLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const HEX4 = /^[0-9A-Fa-f]{4}$/;

/** Java's loadConvert: resolves escapes; returns null on a malformed \u escape. */
function unescape(s: string): string | null {
  if (!s.includes('\\')) return s; // the common case; avoids rebuilding the string
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    i++;
    // A lone trailing backslash cannot survive LineReader; drop it defensively.
    if (i >= s.length) break;
    const e = s[i]!;
    if (e === 'u') {
      const hex = s.slice(i + 1, i + 5);
      if (!HEX4.test(hex)) return null;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else if (e === 't') out += '\t';
    else if (e === 'n') out += '\n';
    else if (e === 'r') out += '\r';
    else if (e === 'f') out += '\f';
    else out += e; // \= \: \  \# \! \\ and any other \x -> x
  }
  return out;
}

/** Java's load0 key/value split on one logical line (escapes still raw). */
function splitKeyValue(logical: string): { rawKey: string; rawValue: string } {
  const limit = logical.length;
  let keyLen = 0;
  let valueStart = limit;
  let hasSep = false;
  let precedingBackslash = false;
  while (keyLen < limit) {
    const c = logical[keyLen]!;
    if ((c === '=' || c === ':') && !precedingBackslash) {
      valueStart = keyLen + 1;
      hasSep = true;
      break;
    }
    if (isWs(c) && !precedingBackslash) {
      valueStart = keyLen + 1;
      break;
    }
    precedingBackslash = c === '\\' ? !precedingBackslash : false;
    keyLen++;
  }
  // Whitespace, then at most one '=' or ':' (if none was seen yet), then whitespace.
  while (valueStart < limit) {
    const c = logical[valueStart]!;
    if (!isWs(c)) {
      if (!hasSep && (c === '=' || c === ':')) hasSep = true;
      else break;
    }
    valueStart++;
  }
  return { rawKey: logical.slice(0, keyLen), rawValue: logical.slice(valueStart) };
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const LENIENT_UTF8 = new TextDecoder('utf-8');

/**
 * parseProperties for a file's bytes. A line that is not valid UTF-8 is a problem naming that line (never its
 * content), and the entry it belongs to is skipped, so a stray Latin-1 byte cannot become U+FFFD inside a
 * token or a user name; the rest of the file is still parsed, so one pass reports every problem.
 */
export function parsePropertiesBytes(bytes: Uint8Array): ParseResult {
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    const bad = invalidUtf8Lines(bytes);
    const parsed = parseProperties(LENIENT_UTF8.decode(bytes));
    const touches = (from: number, to: number) => bad.some((l) => l >= from && l <= to);
    const problems = [
      ...bad.map((line) => ({ line, message: 'not valid UTF-8 (save the file as UTF-8)' })),
      ...parsed.problems.filter((p) => !bad.includes(p.line)),
    ].sort((a, b) => a.line - b.line);
    return { entries: parsed.entries.filter((e) => !touches(e.line, e.endLine)), problems };
  }
  return parseProperties(text);
}

/** 1-based numbers of the physical lines (split as physicalLines does) holding bytes that are not UTF-8. */
function invalidUtf8Lines(bytes: Uint8Array): number[] {
  const bad: number[] = [];
  let line = 1;
  let start = 0;
  // CR and LF never occur inside a multi-byte UTF-8 sequence, so splitting the bytes first is safe.
  for (let i = 0; i <= bytes.length; i++) {
    const b = bytes[i];
    if (i < bytes.length && b !== 0x0a && b !== 0x0d) continue;
    try {
      STRICT_UTF8.decode(bytes.subarray(start, i));
    } catch {
      bad.push(line);
    }
    if (b === 0x0d && bytes[i + 1] === 0x0a) i++;
    start = i + 1;
    line++;
  }
  return bad;
}

export function parseProperties(text: string): ParseResult {
  const entries: PropertyEntry[] = [];
  const problems: PropertyProblem[] = [];
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = physicalLines(src);

  let i = 0;
  while (i < lines.length) {
    const start = i;
    let segment = skipLeadingWs(lines[i]!);
    // Comment lines are never continued, even if they end in a backslash.
    if (segment === '' || segment[0] === '#' || segment[0] === '!') {
      i++;
      continue;
    }
    let logical = '';
    let droppedAtEof = false;
    // Parity is counted per physical segment, as Java resets its backslash state
    // at each continuation; an empty continued line therefore ends the entry.
    while (hasOddTrailingBackslashes(segment)) {
      logical += segment.slice(0, -1);
      if (i + 1 >= lines.length) {
        segment = ''; // backslash at EOF: Java drops it
        droppedAtEof = true;
        break;
      }
      i++;
      segment = skipLeadingWs(lines[i]!);
      // JDK 9+ (unlike 8): if nothing precedes it, a continued '#'/'!' line is a comment.
      if (logical === '' && (segment[0] === '#' || segment[0] === '!')) {
        segment = '';
        break;
      }
    }
    logical += segment;
    const end = i;
    i++;
    // Only lone-backslash lines can leave nothing. Java treats that as a blank
    // line, except at EOF (and not after a final CRLF) where it yields ""="".
    if (logical === '' && !(droppedAtEof && !src.endsWith('\r\n'))) continue;

    const { rawKey, rawValue } = splitKeyValue(logical);
    const key = unescape(rawKey);
    const value = unescape(rawValue);
    if (key === null || value === null) {
      problems.push({
        line: start + 1,
        message: `malformed \\uXXXX escape in ${key === null ? 'key' : 'value'} (entry skipped)`,
      });
      continue;
    }
    entries.push({ key, value, line: start + 1, endLine: end + 1 });
  }
  return { entries, problems };
}
