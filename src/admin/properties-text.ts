/**
 * Byte-faithful handling of properties text for editors: physical lines with their own terminators (so a
 * CRLF file stays CRLF, and a missing final newline stays missing), and Java's escaping for writing a key
 * or a value back (Properties.store's saveConvert). Pure.
 */

export interface PhysicalLine {
  text: string;
  /** '\r\n', '\n', '\r', or '' for a last line without terminator. */
  eol: string;
}

export interface SplitText {
  bom: string;
  /** Same numbering as parseProperties: lines[0] is line 1 (after the BOM). */
  lines: PhysicalLine[];
}

/** The same split as parseProperties (CRLF, CR or LF; a final terminator opens no new line). */
export function splitPhysicalLines(text: string): SplitText {
  const bom = text.charCodeAt(0) === 0xfeff ? '\ufeff' : '';
  const body = text.slice(bom.length);
  const lines: PhysicalLine[] = [];
  const re = /([^\r\n]*)(\r\n|\r|\n)/g;
  let last = 0;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    lines.push({ text: m[1]!, eol: m[2]! });
    last = re.lastIndex;
  }
  if (last < body.length) lines.push({ text: body.slice(last), eol: '' });
  return { bom, lines };
}

export function joinPhysicalLines({ bom, lines }: SplitText): string {
  return bom + lines.map((l) => l.text + l.eol).join('');
}

/** The file's own line terminator (its first one), so appended lines match; LF for a new file. */
export function dominantEol(lines: PhysicalLine[]): string {
  return lines.find((l) => l.eol !== '')?.eol ?? '\n';
}

function isWs(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\f';
}

/**
 * Where the value starts on a one-line entry (Java's key/value split), so an editor can replace the value
 * and keep the key exactly as the person wrote it, separator and indentation included.
 */
export function valueOffset(line: string): number {
  let i = 0;
  while (i < line.length && isWs(line[i]!)) i++;
  let backslash = false;
  let hasSep = false;
  for (; i < line.length; i++) {
    const c = line[i]!;
    if (!backslash && (c === '=' || c === ':')) {
      hasSep = true;
      i++;
      break;
    }
    if (!backslash && isWs(c)) {
      i++;
      break;
    }
    backslash = c === '\\' ? !backslash : false;
  }
  while (i < line.length) {
    const c = line[i]!;
    if (!isWs(c)) {
      if (!hasSep && (c === '=' || c === ':')) hasSep = true;
      else break;
    }
    i++;
  }
  return i;
}

/** Java's saveConvert: what Properties.store writes, so Linkis and this gateway read the same string. */
function escape(s: string, isKey: boolean): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const code = s.charCodeAt(i);
    if (c === ' ') out += i === 0 || isKey ? '\\ ' : ' ';
    else if (c === '\t') out += '\\t';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\f') out += '\\f';
    else if (c === '=' || c === ':' || c === '#' || c === '!' || c === '\\') out += '\\' + c;
    // Non-ASCII as \uXXXX: the file then means the same whether read as UTF-8 or ISO-8859-1.
    else if (code < 0x20 || code > 0x7e) out += '\\u' + code.toString(16).toUpperCase().padStart(4, '0');
    else out += c;
  }
  return out;
}

export const escapeKey = (key: string): string => escape(key, true);
export const escapeValue = (value: string): string => escape(value, false);
