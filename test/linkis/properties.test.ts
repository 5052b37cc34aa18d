import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseProperties } from '../../src/linkis/properties';

type KV = [key: string, value: string, line?: number, endLine?: number];

// Each case: input text and the expected [key, value, line?, endLine?] entries.
const cases: Array<{ name: string; text: string; want: KV[] }> = [
  { name: 'empty text', text: '', want: [] },
  { name: 'simple =', text: 'a=b\n', want: [['a', 'b', 1, 1]] },
  { name: 'colon separator', text: 'a:b', want: [['a', 'b']] },
  { name: 'whitespace separator', text: 'a b', want: [['a', 'b']] },
  { name: 'tab separator', text: 'a\tb', want: [['a', 'b']] },
  { name: 'form-feed separator', text: 'a\fb', want: [['a', 'b']] },
  { name: 'whitespace around =', text: 'a  =  b', want: [['a', 'b']] },
  { name: 'whitespace around :', text: 'a\t:\tb', want: [['a', 'b']] },
  { name: 'only one separator char is eaten', text: 'a = = b', want: [['a', '= b']] },
  { name: 'second separator kept in value', text: 'a==b', want: [['a', '=b']] },
  { name: 'colon after = kept', text: 'a=:b', want: [['a', ':b']] },
  { name: 'whitespace then separator then more', text: 'a  :=b', want: [['a', '=b']] },
  { name: 'trailing whitespace of value kept', text: 'a=b  \n', want: [['a', 'b  ']] },
  { name: 'leading whitespace of line ignored', text: '   \t a=b', want: [['a', 'b']] },
  { name: 'key only', text: 'lonely', want: [['lonely', '']] },
  { name: 'key and separator only', text: 'k=', want: [['k', '']] },
  { name: 'key then whitespace only', text: 'k   ', want: [['k', '']] },
  { name: 'empty key', text: '=v', want: [['', 'v']] },
  { name: 'hash comment', text: '# c\na=b', want: [['a', 'b', 2, 2]] },
  { name: 'bang comment', text: '! c\na=b', want: [['a', 'b', 2, 2]] },
  { name: 'indented comment', text: '   # c=d\n\t! e=f', want: [] },
  { name: 'hash inside value is not a comment', text: 'a=b#c', want: [['a', 'b#c']] },
  { name: 'comment line is never continued', text: '# c \\\na=b', want: [['a', 'b', 2, 2]] },
  { name: 'blank and whitespace-only lines', text: '\n   \n\t\f\na=b\n\n', want: [['a', 'b', 4, 4]] },
  { name: 'escape \\t \\n \\r \\f', text: 'k=\\t\\n\\r\\f', want: [['k', '\t\n\r\f']] },
  { name: 'escape \\uXXXX', text: 'k=\\u0041\\u00e9\\u4E2D', want: [['k', 'Aé中']] },
  { name: 'surrogate pair via \\u', text: 'k=\\uD83D\\uDE00', want: [['k', '😀']] },
  { name: 'escaped = in key', text: 'a\\=b=c', want: [['a=b', 'c']] },
  { name: 'escaped : in key', text: 'a\\:b:c', want: [['a:b', 'c']] },
  { name: 'escaped space in key', text: 'a\\ b c', want: [['a b', 'c']] },
  { name: 'escaped # starts a key', text: '\\#notcomment=1', want: [['#notcomment', '1']] },
  { name: 'escaped ! starts a key', text: '\\!x=1', want: [['!x', '1']] },
  { name: 'escaped leading space in value', text: 'k=\\  v', want: [['k', '  v']] },
  { name: 'other escapes drop the backslash', text: 'k=\\a\\q\\"\\\\', want: [['k', 'aq"\\']] },
  { name: 'escaped backslash before =', text: 'a\\\\=b', want: [['a\\', 'b']] },
  { name: 'continuation', text: 'k=a\\\n   b', want: [['k', 'ab', 1, 2]] },
  { name: 'continuation keeps whitespace before the backslash', text: 'k=a \\\n  b', want: [['k', 'a b', 1, 2]] },
  { name: 'multiple continuations', text: 'k=1,\\\n 2,\\\n\t3\nx=y', want: [['k', '1,2,3', 1, 3], ['x', 'y', 4, 4]] },
  { name: 'even backslashes do not continue', text: 'k=a\\\\\nb=c', want: [['k', 'a\\', 1, 1], ['b', 'c', 2, 2]] },
  { name: 'odd (3) backslashes continue', text: 'k=a\\\\\\\nb', want: [['k', 'a\\b', 1, 2]] },
  { name: 'continued line starting with # is content', text: 'k=a\\\n  #b', want: [['k', 'a#b', 1, 2]] },
  { name: 'continuation into a blank line ends it', text: 'k=a\\\n\nb=c', want: [['k', 'a', 1, 2], ['b', 'c', 3, 3]] },
  { name: 'continuation of the key', text: 'lo\\\n  ng=v', want: [['long', 'v', 1, 2]] },
  { name: 'separator on continued line', text: 'k\\\n =v', want: [['k', 'v', 1, 2]] },
  { name: 'backslash at EOF is dropped', text: 'k=v\\', want: [['k', 'v', 1, 1]] },
  { name: 'backslash then newline at EOF', text: 'k=v\\\n', want: [['k', 'v', 1, 1]] },
  { name: 'lone backslash line then blank is nothing', text: '\\\n\na=b', want: [['a', 'b', 3, 3]] },
  { name: 'lone backslash at EOF is an empty entry (as Java)', text: 'a=b\n\\', want: [['a', 'b', 1, 1], ['', '', 2, 2]] },
  { name: 'lone backslash then #-line is a comment (JDK 9+)', text: '\\\n#x=y\na=b', want: [['a', 'b', 3, 3]] },
  { name: 'CRLF endings', text: 'a=1\r\nb=2\r\n', want: [['a', '1', 1, 1], ['b', '2', 2, 2]] },
  { name: 'CR endings', text: 'a=1\rb=2\r', want: [['a', '1', 1, 1], ['b', '2', 2, 2]] },
  { name: 'mixed endings', text: 'a=1\nb=2\r\nc=3\rd=4', want: [['a', '1', 1], ['b', '2', 2], ['c', '3', 3], ['d', '4', 4]] },
  { name: 'CRLF continuation', text: 'k=a\\\r\n  b\r\n', want: [['k', 'ab', 1, 2]] },
  { name: 'CR continuation', text: 'k=a\\\r  b', want: [['k', 'ab', 1, 2]] },
  { name: 'BOM is ignored', text: '\uFEFFa=b', want: [['a', 'b', 1, 1]] },
  { name: 'BOM then comment', text: '\uFEFF# c\na=b', want: [['a', 'b', 2, 2]] },
  { name: 'duplicates kept in order', text: 'a=1\nb=2\na=3', want: [['a', '1', 1], ['b', '2', 2], ['a', '3', 3]] },
  { name: 'vertical tab is not whitespace', text: 'a\u000bb=c', want: [['a\u000bb', 'c']] },
  { name: 'non-breaking space is not whitespace', text: 'a\u00a0b=c', want: [['a\u00a0b', 'c']] },
  { name: 'proxy.properties style', text: 'tok_abcdefgh=alice, bob\nanother123=*\n', want: [['tok_abcdefgh', 'alice, bob'], ['another123', '*']] },
];

for (const c of cases) {
  test(`parseProperties: ${c.name}`, () => {
    const { entries, problems } = parseProperties(c.text);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      entries.map((e) => [e.key, e.value]),
      c.want.map(([k, v]) => [k, v]),
    );
    c.want.forEach(([, , line, endLine], i) => {
      if (line !== undefined) assert.equal(entries[i]!.line, line, 'line');
      if (endLine !== undefined) assert.equal(entries[i]!.endLine, endLine, 'endLine');
    });
  });
}

const badEscapes: Array<{ name: string; text: string; line: number; kept: KV[] }> = [
  { name: 'too few hex digits', text: 'ok=1\nk=\\u12\nz=2', line: 2, kept: [['ok', '1'], ['z', '2']] },
  { name: 'non-hex digit', text: 'k=\\u00G1', line: 1, kept: [] },
  { name: '\\u at end of line', text: 'a=1\n\nk=x\\u', line: 3, kept: [['a', '1']] },
  { name: 'in key', text: 'k\\uZZZZ=v', line: 1, kept: [] },
  { name: 'across a continuation, reported at first line', text: '\nk=\\\n  \\u00', line: 2, kept: [] },
];

for (const c of badEscapes) {
  test(`parseProperties: malformed \\u (${c.name}) is a problem, not a throw`, () => {
    const { entries, problems } = parseProperties(c.text);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.line, c.line);
    assert.match(problems[0]!.message, /malformed \\uXXXX/);
    assert.deepEqual(entries.map((e) => [e.key, e.value]), c.kept);
  });
}

test('parseProperties: problem messages never quote file content', () => {
  const secret = 'SuperSecretToken123';
  const { problems } = parseProperties(`${secret}=\\uXYZW${secret}`);
  assert.equal(problems.length, 1);
  assert.ok(!problems[0]!.message.includes(secret));
});

test('parseProperties never throws and lines stay in range (fast-check)', () => {
  const alphabet = fc.constantFrom('a', '=', ':', ' ', '\t', '\f', '\\', 'u', '0', 'F', '#', '!', '\n', '\r', '\uFEFF', 'é');
  const arb = fc.oneof(fc.string({ unit: alphabet, maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }));
  fc.assert(
    fc.property(arb, (text) => {
      const { entries, problems } = parseProperties(text);
      const lines = text.split(/\r\n|\r|\n/).length;
      for (const e of entries) assert.ok(e.line >= 1 && e.line <= e.endLine && e.endLine <= lines);
      for (const p of problems) assert.ok(p.line >= 1 && p.line <= lines);
    }),
    { numRuns: 3000 },
  );
});

// Java's Properties.store escaping (saveConvert), to check that anything a Java
// program writes reads back identically.
function javaEscape(s: string, isKey: boolean): string {
  let out = '';
  [...s].forEach((ch, i) => {
    const code = ch.charCodeAt(0);
    if (ch === ' ') out += i === 0 || isKey ? '\\ ' : ' ';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\f') out += '\\f';
    else if ('=:#!\\'.includes(ch)) out += '\\' + ch;
    else if (code < 0x20 || code > 0x7e) {
      for (const unit of ch.split('')) out += '\\u' + unit.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    } else out += ch;
  });
  return out;
}

test('parseProperties reads back what Java Properties.store writes (fast-check)', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), (key, value) => {
      const text = `#comment\n${javaEscape(key, true)}=${javaEscape(value, false)}\n`;
      const { entries, problems } = parseProperties(text);
      assert.deepEqual(problems, []);
      assert.deepEqual(entries.map((e) => [e.key, e.value]), [[key, value]]);
    }),
    { numRuns: 2000 },
  );
});
