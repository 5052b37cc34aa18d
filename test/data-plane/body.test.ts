/** Which Content-Type a submission may carry: one the Entrance reads as UTF-8 however it parses it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { charsetProblem } from '../../src/data-plane/body';

const cases: Array<[contentType: string, want: RegExp | null]> = [
  ['', null],
  ['application/json', null],
  ['application/json;charset=UTF-8', null],
  ['application/json; charset=utf8', null],
  ['application/json; charset="UTF-8"', null],
  ['text/plain', null],
  ['application/json;charset=GBK', /charset "gbk" is not supported/],
  ['application/json; charset="gb2312"', /charset "gb2312"/],
  // Spring keeps the last of two; the content-type package the first: refuse either way.
  ['application/json; charset=utf-8; charset=shift_jis', /more than once/],
  ['application/json; charset=utf-8; charset=utf-8', /more than once/],
  // A charset inside a quoted value is no parameter to a strict parser, and one to a lenient one.
  ['application/json; x="a;charset=utf-8"; charset=Shift_JIS', /more than once/],
  ['application/json; x="a;charset=shift_jis"', /unclear place/],
  ['application/json; xcharset=utf-8', /unclear place/],
  ['application/json; charset', /unclear place/],
];

for (const [contentType, want] of cases) {
  test(`charsetProblem(${JSON.stringify(contentType)}) -> ${want ?? 'none'}`, () => {
    const problem = charsetProblem(contentType);
    if (want === null) assert.equal(problem, undefined);
    else assert.match(problem ?? '', want);
  });
}

test('property: a Content-Type is passed only when every reading of it says UTF-8 (or says nothing)', () => {
  const param = fc.oneof(
    fc.constantFrom('charset=utf-8', 'charset=UTF8', 'charset=gbk', 'charset="shift_jis"', 'x="a;charset=gbk"', 'q=1', 'charset', 'CHARSET=latin1'),
    fc.string({ maxLength: 12 }),
  );
  fc.assert(
    fc.property(fc.array(param, { maxLength: 4 }), (params) => {
      const header = ['application/json', ...params].join('; ');
      if (charsetProblem(header) !== undefined) return;
      // Passed: the first and the last charset=... anywhere (the most lenient readings) are both UTF-8, or there is none.
      const all = [...header.matchAll(/charset\s*=\s*"?([^";\s]*)/gi)].map((m) => m[1]!.toLowerCase());
      assert.ok(all.every((c) => c === 'utf-8' || c === 'utf8'), header);
    }),
    { numRuns: 500 },
  );
});
