/**
 * parsePropertiesBytes: invalid UTF-8 is named by its line, counted as parseProperties counts lines (LF,
 * CRLF, lone CR), and only the entry holding it is skipped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProperties, parsePropertiesBytes } from '../../src/linkis/properties';

const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
const INVALID = 'not valid UTF-8 (save the file as UTF-8)';

test('valid UTF-8 (BOM included) parses exactly as the text does', () => {
  const text = '\ufeff# café\na=b\r\nc : d \\\n  e\n';
  assert.deepEqual(parsePropertiesBytes(Buffer.from(text, 'utf8')), parseProperties(text));
});

test('each line with invalid bytes is a problem; the other entries survive', () => {
  const r = parsePropertiesBytes(bytes('a=1\r\nb=caf', [0xe9], '\r\nc=3\rd=', [0xc3, 0x28], '\n# comment ', [0xff], '\ne=5'));
  assert.deepEqual(r.problems, [
    { line: 2, message: INVALID },
    { line: 4, message: INVALID },
    { line: 5, message: INVALID },
  ]);
  assert.deepEqual(r.entries.map((e) => [e.key, e.value, e.line]), [['a', '1', 1], ['c', '3', 3], ['e', '5', 6]]);
});

test('a continued entry with invalid bytes on its second line is skipped whole', () => {
  const r = parsePropertiesBytes(bytes('k=one \\\n  tw', [0xf0, 0x28], '\nok=yes\n'));
  assert.deepEqual(r.problems, [{ line: 2, message: INVALID }]);
  assert.deepEqual(r.entries.map((e) => e.key), ['ok']);
});

test('a truncated multi-byte sequence at the end of the file names the last line', () => {
  const r = parsePropertiesBytes(bytes('a=1\nb=', [0xe2, 0x82]));
  assert.deepEqual(r.problems, [{ line: 2, message: INVALID }]);
  assert.deepEqual(r.entries.map((e) => e.key), ['a']);
});
