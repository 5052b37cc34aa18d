/**
 * The submission pre-scan agrees with JSON.parse on what is JSON (both ways, generated), reports the
 * outermost members at the right byte offsets, and enforces its depth and entry bounds exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { scanJson } from '../../src/linkis/json-scan';

const LOOSE = { maxDepth: 10_000, maxEntries: 1e9 };

function parses(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

test('property: the scanner accepts exactly what JSON.parse accepts', () => {
  // Near-JSON text: the pieces of the grammar shuffled, so most cases are almost valid.
  const piece = fc.constantFrom(...'{}[]":,0123456789-+.eE \\u/\n\t\r'.split(''), 'true', 'false', 'null', 'nul', '"a"', '"\\u12"', '"\\x"', '\u0001', 'é', '\u2028', '00', '1.', '.5', '-', '1e', '\ufeff');
  const nearJson = fc.string({ unit: piece, maxLength: 30 });
  const mutated = fc.tuple(fc.json(), fc.nat(), fc.constantFrom('', ',', '}', ']', '"', ' ', '0', '\\')).map(([j, at, ins]) => j.slice(0, at % (j.length + 1)) + ins + j.slice(at % (j.length + 1)));
  for (const gen of [nearJson, fc.json(), fc.jsonValue().map((v) => JSON.stringify(v, null, 2)), mutated, fc.string({ unit: 'binary', maxLength: 20 })]) {
    fc.assert(
      fc.property(gen, (s) => {
        const r = scanJson(Buffer.from(s), LOOSE);
        assert.equal(r.ok, parses(s), `${JSON.stringify(s)}: ${r.ok ? 'accepted' : r.reason}`);
      }),
      { numRuns: 3000 },
    );
  }
});

test('property: the members of the outermost object are where the scanner says, with their keys', () => {
  const doc = fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 });
  fc.assert(
    fc.property(doc, fc.constantFrom(0, 1, 2), (obj, indent) => {
      const s = JSON.stringify(obj, null, indent);
      const b = Buffer.from(s);
      const r = scanJson(b, LOOSE);
      assert.ok(r.ok && r.kind === 'object');
      // JSON.stringify writes the keys in Object.keys order.
      assert.deepEqual(r.members.map((m) => m.key), Object.keys(obj));
      const parsed = JSON.parse(s) as Record<string, unknown>;
      for (const m of r.members) assert.deepEqual(JSON.parse(b.toString('utf8', m.valueStart, m.valueEnd)), parsed[m.key!], m.key!);
      assert.equal(r.start, 0);
      assert.equal(r.end, b.length);
    }),
    { numRuns: 1000 },
  );
});

test('depth and entries are bounded exactly, in objects and arrays', () => {
  const limits = { maxDepth: 5, maxEntries: 6 };
  const scan = (s: string) => scanJson(Buffer.from(s), limits);
  assert.ok(scan('[[[[[]]]]]').ok);
  assert.deepEqual(scan('[[[[[[]]]]]]'), { ok: false, problem: 'too-deep', reason: 'nesting deeper than 5 levels' });
  assert.ok(scan('{"a":{"b":{"c":{"d":{}}}}}').ok);
  assert.equal((scan('{"a":{"b":{"c":{"d":{"e":{}}}}}}') as { problem: string }).problem, 'too-deep');
  assert.ok(scan('[1,2,3,{"a":1,"b":2}]').ok);
  assert.deepEqual(scan('[1,2,3,{"a":1,"b":2,"c":3}]'), { ok: false, problem: 'too-many', reason: 'more than 6 keys and array items' });
  assert.equal((scan('{"a":[1,2,3,4,5,6]}') as { problem: string }).problem, 'too-many');
  // Empty containers hold no entries; scalars are depth 0.
  assert.ok(scan('[[],{},[],{},[],{}]').ok);
  assert.ok(scan('"x"').ok);
});

test('the deepest or widest body is refused after a bounded prefix, not after reading it all', () => {
  const limits = { maxDepth: 64, maxEntries: 10_000 };
  const deep = Buffer.from('['.repeat(5_000_000));
  const wide = Buffer.from(`[${'0,'.repeat(3_000_000)}0]`);
  const t0 = performance.now();
  assert.equal((scanJson(deep, limits) as { problem: string }).problem, 'too-deep');
  assert.equal((scanJson(wide, limits) as { problem: string }).problem, 'too-many');
  assert.ok(performance.now() - t0 < 50, `${performance.now() - t0} ms`);
});

test('a sub-range is scanned alone', () => {
  const b = Buffer.from('xx{"a": 1 ,"b":[2]}yy');
  const r = scanJson(b, LOOSE, 2, b.length - 2);
  assert.ok(r.ok);
  assert.deepEqual(r.members.map((m) => [m.key, b.toString('utf8', m.valueStart, m.valueEnd), m.kind]), [['a', '1', 'number'], ['b', '[2]', 'array']]);
  assert.equal(scanJson(b, LOOSE).ok, false);
});
