/**
 * Upstream text the gateway quotes in its own messages (a page title, Spring's error/message, the start of
 * a body that is not a Linkis answer) passes through here first. An upstream may echo the request it got
 * (a servlet container answers TRACE that way; error pages print headers), and that request carried the
 * ticket the gateway minted: a ticket never expires to a 1.8 Entrance, so one quoted ticket is a standing
 * identity. Pure and bounded: the input is cut before any work, and every pattern is linear.
 *
 * Guarantee (test/linkis/redact.test.ts): no ticket minted by ./ticket.ts survives, whatever surrounds it,
 * raw or percent-, entity- or JSON-escaped once or twice. A ticket is 32+ base64 characters (its plain text
 * has 13 digits of millis) and none of them starts an escape, so decoding can only eat into its start: one
 * pass at most 4 characters (`\u` + 4 hex digits), the second pass at most 5 more (when the first produced
 * a `\` and the ticket goes on with `u` + 4 hex digits). 23+ contiguous ticket characters always remain,
 * and every run of 23+ such characters is removed whole.
 */

export const REDACTED = '[redacted]';

/** Characters read from an upstream body at most; a cut in the middle of a run drops that partial run. */
const MAX_SCAN = 8192;
/** Base64, base64url and what percent-, entity- or JSON-escaping leaves: a ticket is one run of these. */
const RUN = /[A-Za-z0-9+/=_%&#;\\-]{16,}/g;
const RUN_CHAR = /^[A-Za-z0-9+/=_%&#;\\-]$/;
/** Runs this long are secret-shaped whatever they look like (see the guarantee above). */
const ALWAYS = 23;
/** Fewer distinct characters than this is filler ("xxxx", "----"), never a random secret. */
const FILLER_VARIETY = 8;
/** A shorter run is kept when it reads as words: `NullPointerException`, `linkis-cg-entrance`, `UPSTREAM_BAD`. */
const WORDS = /^(?:[A-Z]?[a-z]+(?:[A-Z][a-z]+)*|[A-Z]+)(?:[-_](?:[A-Z]?[a-z]+(?:[A-Z][a-z]+)*|[A-Z]+))*$/;
const SECRET_WORD = '(?:ticket|token|session|cookie|code|passw|secret|auth)';
// Bounded repeats throughout: a hostile body must not make a pattern backtrack quadratically.
const REQUEST_LINE = /(?:^|[\s>"'])(?:GET|POST|PUT|DELETE|HEAD|OPTIONS|TRACE|CONNECT|PATCH|PROPFIND)[ \t]{1,8}\S{1,256}[ \t]{1,8}HTTP\/\d/;
/** Header lines an echo or an error page may print: the whole value goes (Cookie has spaces in it). */
const HEADER_NAMES = new Set([
  'host', 'cookie', 'cookie2', 'set-cookie', 'set-cookie2', 'authorization', 'proxy-authorization', 'user-agent', 'accept', 'connection',
  'keep-alive', 'forwarded', 'via', 'referer', 'origin', 'te', 'upgrade', 'transfer-encoding', 'expect', 'cache-control', 'pragma',
  'traceparent', 'tracestate', 'proxy-user', 'jobinstancekey', 'location', 'www-authenticate', 'date', 'server',
]);
const HEADER_LINE = /^([ \t]*)([A-Za-z][A-Za-z0-9_-]{0,63})[ \t]*:[^\r\n]*/gm;
/** Cookie and credential headers wherever they appear, e.g. inside one line of HTML. */
const INLINE_HEADER = /\b(set-cookie2?|cookie2?|(?:proxy-)?authorization)\s*:[^\r\n<]*/gi;
/** `Token-Code: abc`, `sessionId: 42` inside a line: the one value after a name that mentions a secret. */
const NAME_COLON_VALUE = new RegExp(`\\b([A-Za-z][A-Za-z0-9_.-]{0,40}${SECRET_WORD}[A-Za-z0-9_.-]{0,40}|${SECRET_WORD}[A-Za-z0-9_.-]{0,40})[ \\t]*:[ \\t]*("[^"\\r\\n]*"|[^\\s;,<>"']+)`, 'gi');
const NAME_VALUE = new RegExp(`([A-Za-z0-9_.-]{0,40}${SECRET_WORD}[A-Za-z0-9_.-]{0,40})\\s*=\\s*("[^"]*"|'[^']*'|[^\\s;,&"'<>]*)`, 'gi');
const JSON_NAME_VALUE = new RegExp(`"([^"\\\\\\r\\n]{0,40}${SECRET_WORD}[^"\\\\\\r\\n]{0,40})"\\s*:\\s*("(?:[^"\\\\]|\\\\.)*"|[^\\s,}\\]]*)`, 'gi');

/**
 * The quotable form of upstream text: escapes decoded, every secret-shaped thing replaced by `[redacted]`,
 * whitespace collapsed, at most `maxChars` characters (then `…`). An echoed HTTP request is dropped whole.
 */
export function redactUpstreamText(text: string, maxChars: number): string {
  let s = text.length > MAX_SCAN ? cut(text) : text;
  s = decodeEscapes(decodeEscapes(s));
  if (REQUEST_LINE.test(s)) return '[an echo of the HTTP request, removed]';
  // Runs first: later rules keep a name in front of `=`, and that name must not be the tail of a ticket.
  s = s.replace(RUN, (run) => (secretShaped(run) ? REDACTED : run));
  s = s.replace(HEADER_LINE, (line, indent: string, name: string) => (isHeaderName(name) ? `${indent}${name}: ${REDACTED}` : line));
  s = s.replace(INLINE_HEADER, (_m, name: string) => `${name}: ${REDACTED}`);
  s = s.replace(JSON_NAME_VALUE, (_m, name: string) => `"${name}": "${REDACTED}"`);
  s = s.replace(NAME_VALUE, (_m, name: string) => `${name}=${REDACTED}`);
  s = s.replace(NAME_COLON_VALUE, (m, name: string, value: string) => (value === REDACTED ? m : `${name}: ${REDACTED}`));
  s = s.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
  return s.length > maxChars ? `${s.slice(0, maxChars)}…` : s;
}

/** The first MAX_SCAN characters; a run the cut goes through is dropped (it may be a ticket's head), unless it is filler. */
function cut(text: string): string {
  const head = text.slice(0, MAX_SCAN);
  if (!RUN_CHAR.test(text[MAX_SCAN]!)) return head;
  const partial = /[A-Za-z0-9+/=_%&#;\\-]+$/.exec(head)?.[0] ?? '';
  if (partial.length >= 16 && new Set(partial).size < FILLER_VARIETY) return head;
  return `${head.slice(0, head.length - partial.length)}${REDACTED}`;
}

/** A run that may be a secret: long, or not made of words, and not filler. */
export function secretShaped(run: string): boolean {
  if (new Set(run).size < FILLER_VARIETY) return false;
  return run.length >= ALWAYS || !WORDS.test(run);
}

function isHeaderName(name: string): boolean {
  const n = name.toLowerCase();
  return HEADER_NAMES.has(n) || n.startsWith('x-') || n.startsWith('accept-') || n.startsWith('content-') || n.startsWith('if-');
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", sol: '/', plus: '+', equals: '=', semi: ';', colon: ':', comma: ',', nbsp: ' ' };

// One pass decodes each escape once; what it produces is not decoded again in the same pass.
const ESCAPE = /\\u([0-9a-fA-F]{4})|\\([/"\\nrt])|&#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}));|&([a-zA-Z]{2,6});|((?:%[0-9a-fA-F]{2})+)/g;
const JSON_ESCAPED: Record<string, string> = { n: '\n', r: '\r', t: '\t' };

/** One layer of JSON, HTML and percent escaping, so an escaped ticket or cookie is seen for what it is. */
function decodeEscapes(s: string): string {
  if (!/[\\&%]/.test(s)) return s;
  return s.replace(ESCAPE, (m, u?: string, c?: string, hex?: string, dec?: string, name?: string, pct?: string) => {
    if (u) return String.fromCharCode(parseInt(u, 16));
    if (c) return JSON_ESCAPED[c] ?? c;
    if (name) return ENTITIES[name.toLowerCase()] ?? m;
    if (pct) return decodePercent(pct);
    const cp = hex ? parseInt(hex, 16) : Number(dec);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

function decodePercent(run: string): string {
  try {
    return decodeURIComponent(run);
  } catch {
    return run.replace(/%([0-9a-fA-F]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}
