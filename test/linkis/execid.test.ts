import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeExecId0x, encodeExecId1x, isInstanceName, parseJobId, parseJobIdSegment, type ParsedJobId } from '../../src/linkis/execid';

// LINKIS.md §1, 1.x table.
const REAL_1X: Array<{ id: string; app: string; instance: string; shortId: string }> = [
  {
    id: 'exec_id018016linkis-cg-entrance10.244.0.13:9104LINKISCLI_hadoop_shell_0',
    app: 'linkis-cg-entrance',
    instance: '10.244.0.13:9104',
    shortId: 'LINKISCLI_hadoop_shell_0',
  },
  {
    id: 'exec_id018026linkis-cg-entrancebda01node03.oracle.cn:9104LINKISCLI_hadoop_shell_0',
    app: 'linkis-cg-entrance',
    instance: 'bda01node03.oracle.cn:9104',
    shortId: 'LINKISCLI_hadoop_shell_0',
  },
  {
    id: 'exec_id018014linkis-cg-entrancelocalhost:9104IDE_root_spark_7',
    app: 'linkis-cg-entrance',
    instance: 'localhost:9104',
    shortId: 'IDE_root_spark_7',
  },
];

// LINKIS.md §1, 0.x table.
const REAL_0X: Array<{ id: string; creator: string; app: string; instance: string; shortId: string }> = [
  { id: '030418IDEhivebdpdwc010004:10087IDE_johnnwang_21', creator: 'IDE', app: 'hive', instance: 'bdpdwc010004:10087', shortId: 'IDE_johnnwang_21' },
  { id: '030415IDEhivelocalhost:11002IDE_jiaorenyu_0', creator: 'IDE', app: 'hive', instance: 'localhost:11002', shortId: 'IDE_jiaorenyu_0' },
];

function expectOk(r: ParsedJobId, label: string): Extract<ParsedJobId, { ok: true; kind: 'execId' }> {
  assert.equal(r.ok, true, `${label}: expected ok, got ${JSON.stringify(r)}`);
  assert.ok(r.ok && r.kind === 'execId', `${label}: expected kind execId, got ${JSON.stringify(r)}`);
  return r as Extract<ParsedJobId, { ok: true; kind: 'execId' }>;
}

function expectFail(r: ParsedJobId, label: string): string {
  assert.equal(r.ok, false, `${label}: expected a failure, got ${JSON.stringify(r)}`);
  const reason = (r as { ok: false; reason: string }).reason;
  assert.equal(typeof reason, 'string', label);
  assert.ok(reason.length > 0, `${label}: the reason is empty`);
  return reason;
}

test('every real 1.x execID of LINKIS.md §1 parses to its app, instance and short id', () => {
  for (const c of REAL_1X) {
    for (const [how, r] of [
      ['parseJobId', parseJobId(c.id)],
      ['parseJobIdSegment', parseJobIdSegment(c.id)],
    ] as const) {
      const p = expectOk(r, `${how} ${c.id}`);
      assert.equal(p.format, '1.x', c.id);
      assert.equal(p.app, c.app, c.id);
      assert.equal(p.instance, c.instance, c.id);
      assert.deepEqual(p.instances, [c.instance], c.id);
      assert.equal(p.shortId, c.shortId, c.id);
      assert.equal(p.execId, c.id, c.id);
    }
  }
});

test('every real 0.x execID of LINKIS.md §1 parses to its creator, app, instance and short id', () => {
  for (const c of REAL_0X) {
    for (const [how, r] of [
      ['parseJobId', parseJobId(c.id)],
      ['parseJobIdSegment', parseJobIdSegment(c.id)],
    ] as const) {
      const p = expectOk(r, `${how} ${c.id}`);
      assert.equal(p.format, '0.x', c.id);
      assert.ok(p.format === '0.x' && p.creator === c.creator, `${c.id}: creator`);
      assert.equal(p.app, c.app, c.id);
      assert.equal(p.instance, c.instance, c.id);
      assert.deepEqual(p.instances, [c.instance], c.id);
      assert.equal(p.shortId, c.shortId, c.id);
      assert.equal(p.execId, c.id, c.id);
    }
  }
});

test('percent-encoded ids (%3A for ":") parse through parseJobIdSegment, and execId is the decoded id', () => {
  for (const c of [...REAL_1X, ...REAL_0X]) {
    for (const segment of [c.id.replace(/:/g, '%3A'), c.id.replace(/:/g, '%3a'), encodeURIComponent(c.id)]) {
      const p = expectOk(parseJobIdSegment(segment), segment);
      assert.equal(p.instance, c.instance, segment);
      assert.equal(p.shortId, c.shortId, segment);
      assert.equal(p.execId, c.id, segment);
    }
    // parseJobId takes a decoded id: the encoded form is refused there.
    expectFail(parseJobId(c.id.replace(/:/g, '%3A')), `parseJobId of encoded ${c.id}`);
  }
  // Other characters encoded too.
  const p = expectOk(parseJobIdSegment('exec%5Fid018014linkis-cg-entrancelocalhost%3A9104IDE_root_spark_7'), '%5F');
  assert.equal(p.instance, 'localhost:9104');
});

test('1.x with several instances joined by "_": the first one is the owner', () => {
  const cases: Array<{ instances: string[] }> = [
    { instances: ['10.0.0.1:9104', '10.0.0.2:9104'] },
    { instances: ['a.example.com:9104', 'b.example.com:9105', 'c.example.com:1'] },
    { instances: ['host_one:9104', 'host_two:9105'] },
    { instances: ['[::1]:9104', '10.0.0.2:9104'] },
  ];
  for (const c of cases) {
    const joined = c.instances.join('_');
    const id = `exec_id018${String(joined.length).padStart(3, '0')}linkis-cg-entrance${joined}IDE_root_spark_7`;
    const p = expectOk(parseJobId(id), id);
    assert.equal(p.instance, c.instances[0], id);
    assert.deepEqual(p.instances, c.instances, id);
    assert.equal(p.shortId, 'IDE_root_spark_7', id);
    assert.equal(p.app, 'linkis-cg-entrance', id);
  }
});

test('1.x host names containing "_" are kept whole', () => {
  const cases: Array<[string, string[]]> = [
    ['my_host:9104', ['my_host:9104']],
    ['bda01_node03.oracle.cn:9104', ['bda01_node03.oracle.cn:9104']],
    ['a_b_c:1', ['a_b_c:1']],
    ['a_1:2', ['a_1:2']],
    ['x:1_under_score:65535', ['x:1', 'under_score:65535']],
    ['node_1:9104_node_2:9104', ['node_1:9104', 'node_2:9104']],
  ];
  for (const [joined, instances] of cases) {
    const id = encodeExecId1x('linkis-cg-entrance', [joined], 'IDE_root_spark_7');
    assert.ok(id, joined);
    const p = expectOk(parseJobId(id), id);
    assert.deepEqual(p.instances, instances, id);
    assert.equal(p.instance, instances[0], id);
  }
});

test('numeric taskIDs give kind "taskId"', () => {
  for (const id of ['1', '0', '42', '1234567890', '9'.repeat(19)]) {
    assert.deepEqual(parseJobId(id), { ok: true, kind: 'taskId', taskId: id }, id);
    assert.deepEqual(parseJobIdSegment(id), { ok: true, kind: 'taskId', taskId: id }, id);
  }
  // Too many digits for a taskID (a Java long has 19): not a taskID, and not a 0.x id either.
  expectFail(parseJobId('9'.repeat(20)), '20 digits');
  // Digits with a sign, space or fraction are not a taskID.
  for (const id of ['-1', '+1', '1.5', '1e5', '0x10']) expectFail(parseJobId(id), id);
});

test('malformed ids fail with a reason', () => {
  const good1x = REAL_1X[2].id; // exec_id018014linkis-cg-entrancelocalhost:9104IDE_root_spark_7
  const good0x = REAL_0X[1].id; // 030415IDEhivelocalhost:11002IDE_jiaorenyu_0
  const cases: Array<{ name: string; id: string; segment?: boolean; reason?: RegExp }> = [
    // LINKIS.md §1: a client library's test data whose lengths do not match the strings.
    { name: 'mismatched-length client-library id', id: '030418IDEhivelocalhost010004:10087IDE_test_user_21', reason: /length|creator/i },
    { name: 'empty', id: '', reason: /empty/ },
    { name: 'empty segment', id: '', segment: true, reason: /empty/ },
    { name: 'just the 1.x prefix', id: 'exec_id' },
    { name: '1.x without lengths', id: 'exec_idlinkis-cg-entrancelocalhost:9104IDE_root_spark_7' },
    { name: '1.x truncated in the lengths', id: 'exec_id0180' },
    { name: '1.x truncated in the app', id: 'exec_id018014linkis-cg' },
    { name: '1.x truncated in the instance', id: 'exec_id018014linkis-cg-entrancelocalhost:91' },
    { name: '1.x truncated right after the instance (no short id)', id: 'exec_id018014linkis-cg-entrancelocalhost:9104', reason: /past its end/ },
    { name: '1.x instance length past the end', id: 'exec_id018999linkis-cg-entrancelocalhost:9104IDE_root_spark_7', reason: /past its end/ },
    { name: '1.x app length past the end', id: 'exec_id999014linkis-cg-entrancelocalhost:9104IDE_root_spark_7', reason: /past its end/ },
    { name: '1.x zero app length', id: 'exec_id000014localhost:9104IDE_root_spark_7', reason: /non-empty/ },
    { name: '1.x zero instance length', id: 'exec_id018000linkis-cg-entranceIDE_root_spark_7', reason: /non-empty/ },
    { name: '1.x instance length one long', id: 'exec_id018015linkis-cg-entrancelocalhost:9104IDE_root_spark_7' },
    { name: '1.x port 0', id: 'exec_id018011linkis-cg-entrancelocalhost:0IDE_root_spark_7', reason: /instance/ },
    { name: '1.x port 70000', id: 'exec_id018015linkis-cg-entrancelocalhost:70000IDE_root_spark_7', reason: /instance/ },
    { name: '1.x port 6 digits', id: 'exec_id018016linkis-cg-entrancelocalhost:123456IDE_root_spark_7', reason: /instance/ },
    { name: '1.x instance without port', id: 'exec_id018009linkis-cg-entrancelocalhostIDE_root_spark_7', reason: /instance/ },
    { name: '1.x second instance has port 0', id: `exec_id018016linkis-cg-entrancea:9104_b:0IDE_root_spark_7`, reason: /instance/ },
    { name: '1.x empty instance between "_"', id: `exec_id018014linkis-cg-entrancea:9104__b:1IDE_root_spark_7`, reason: /instance/ },
    { name: '1.x short id without _index', id: 'exec_id018014linkis-cg-entrancelocalhost:9104IDE_root_spark', reason: /short id/ },
    { name: '0.x truncated in the lengths', id: '0304IDE' },
    { name: '0.x truncated in the instance', id: '030415IDEhivelocalhost:11' },
    { name: '0.x truncated after the instance (no short id)', id: '030415IDEhivelocalhost:11002', reason: /past its end/ },
    { name: '0.x lengths past the end', id: '039915IDEhivelocalhost:11002IDE_jiaorenyu_0', reason: /past its end/ },
    { name: '0.x zero creator length', id: '000415hivelocalhost:11002IDE_jiaorenyu_0', reason: /non-empty/ },
    { name: '0.x zero app length', id: '030015IDElocalhost:11002IDE_jiaorenyu_0', reason: /non-empty/ },
    { name: '0.x zero instance length', id: '030400IDEhiveIDE_jiaorenyu_0', reason: /non-empty/ },
    { name: '0.x port 0', id: '030411IDEhivelocalhost:0IDE_jiaorenyu_0', reason: /instance/ },
    { name: '0.x port 70000', id: '030415IDEhivelocalhost:70000IDE_jiaorenyu_0', reason: /instance/ },
    { name: '0.x short id of another creator', id: '030415IDEhivelocalhost:11002BML_jiaorenyu_0', reason: /creator/ },
    // Encoding attacks and characters an execID never has.
    { name: 'double-encoded %253A', id: good1x.replace(':', '%253A'), segment: true, reason: /characters/ },
    { name: 'double-encoded %253A (0.x)', id: good0x.replace(':', '%253A'), segment: true, reason: /characters/ },
    { name: 'invalid percent-encoding %E0%A4%A', id: `${good1x}%E0%A4%A`, segment: true, reason: /percent/ },
    { name: 'lone %', id: 'exec_id%', segment: true, reason: /percent/ },
    { name: 'dot-dot', id: '..' },
    { name: 'dot-dot segment', id: '..', segment: true },
    { name: 'encoded dot-dot', id: '%2e%2e', segment: true },
    { name: 'dot', id: '.' },
    { name: 'slash inside', id: good1x.replace('IDE_', 'IDE/'), reason: /characters/ },
    { name: 'encoded slash', id: good1x.replace('IDE_', 'IDE%2F'), segment: true, reason: /characters/ },
    { name: 'backslash inside', id: good1x.replace('IDE_', 'IDE\\'), reason: /characters/ },
    { name: 'NUL', id: `${good1x}\u0000`, reason: /characters/ },
    { name: 'encoded NUL', id: `${good1x}%00`, segment: true, reason: /characters/ },
    { name: 'encoded NUL in a taskID', id: '123%00', segment: true, reason: /characters/ },
    { name: 'control char \\x01', id: good0x.replace('hive', 'hi\u0001e'), reason: /characters/ },
    { name: 'DEL', id: good0x.replace('hive', 'hi\u007fe'), reason: /characters/ },
    { name: 'newline', id: `${good1x}\n`, reason: /characters/ },
    { name: 'encoded CRLF', id: `${good1x}%0D%0A`, segment: true, reason: /characters/ },
    { name: 'leading space', id: ` ${good1x}`, reason: /characters/ },
    { name: 'space inside', id: good0x.replace('IDE_', 'IDE _'), reason: /characters/ },
    { name: 'tab', id: `${good1x}\t`, reason: /characters/ },
    { name: 'question mark', id: `${good1x}?x=1`, reason: /characters/ },
    { name: 'hash', id: `${good1x}#x`, reason: /characters/ },
    { name: 'whitespace-padded taskID', id: ' 123', reason: /characters/ },
    { name: 'overlong 1.x (> 512)', id: `${good1x}${'1'.repeat(600)}`, reason: /longer/ },
    { name: 'overlong taskID-like (513 chars)', id: '1'.repeat(513), reason: /longer/ },
    { name: 'overlong segment', id: 'x'.repeat(512 * 3 + 1), segment: true, reason: /too long/ },
    { name: 'overlong after decoding', id: `${'%41'.repeat(500)}${'A'.repeat(13)}`, segment: true, reason: /longer/ },
    { name: 'neither format', id: 'hello', reason: /neither/ },
    { name: 'upper-case prefix', id: good1x.replace('exec_id', 'EXEC_ID'), reason: /neither/ },
  ];
  for (const c of cases) {
    const r = c.segment ? parseJobIdSegment(c.id) : parseJobId(c.id);
    const reason = expectFail(r, c.name);
    if (c.reason) assert.match(reason, c.reason, `${c.name}: reason "${reason}"`);
    // Every non-segment malformed id is also refused when it arrives as a path segment.
    if (!c.segment && c.id) expectFail(parseJobIdSegment(encodeURIComponent(c.id)), `${c.name} (as an encoded segment)`);
  }
});

test('1.x follows its lengths like Linkis does: a length one short names another port, which routing must then refuse', () => {
  // 1.x has no redundancy (0.x repeats the creator), so a wrong instance length that still yields
  // host:port is read as written; the gateway then refuses the unknown instance instead of guessing.
  const p = expectOk(parseJobId('exec_id018013linkis-cg-entrancelocalhost:9104IDE_root_spark_7'), 'one short');
  assert.equal(p.instance, 'localhost:910');
  assert.equal(p.shortId, '4IDE_root_spark_7');
});

test('an id of exactly 512 characters is still accepted', () => {
  const id = encodeExecId1x('a'.repeat(512 - 'exec_id000000localhost:9104IDE_root_spark_7'.length), ['localhost:9104'], 'IDE_root_spark_7');
  assert.ok(id);
  assert.equal(id.length, 512);
  expectOk(parseJobId(id), '512 chars');
  expectFail(parseJobId(`${id.slice(0, -1)}77`), '513 chars');
});

test('isInstanceName', () => {
  const yes = ['localhost:9104', '10.244.0.13:9104', 'a:1', 'a:65535', 'my_host:80', '[::1]:9104', 'a.b-c.d:00080'];
  const no = ['', 'localhost', 'localhost:', ':9104', 'localhost:0', 'localhost:65536', 'localhost:70000', 'localhost:123456', 'a b:1', 'a/b:1', 'a:1:2', 'a:-1', 'a:1x', '::1:9104'];
  for (const s of yes) assert.equal(isInstanceName(s), true, s);
  for (const s of no) assert.equal(isInstanceName(s), false, s);
});

test('encoders refuse parts too long for their length fields', () => {
  assert.equal(encodeExecId0x('x'.repeat(100), 'hive', 'localhost:1', 'x_u_1'), null);
  assert.equal(encodeExecId0x('IDE', 'hive', `${'h'.repeat(98)}:1`, 'IDE_u_1'), null);
  assert.equal(encodeExecId1x('a'.repeat(1000), ['localhost:1'], 'IDE_u_s_1'), null);
  assert.equal(encodeExecId1x('app', [`${'h'.repeat(998)}:1`], 'IDE_u_s_1'), null);
  // The seed's examples are exactly what the encoders build.
  assert.equal(encodeExecId0x('IDE', 'hive', 'bdpdwc010004:10087', 'IDE_johnnwang_21'), REAL_0X[0].id);
  assert.equal(encodeExecId1x('linkis-cg-entrance', ['10.244.0.13:9104'], 'LINKISCLI_hadoop_shell_0'), REAL_1X[0].id);
});

// ---- properties ----

const HOST_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789.-';
const hostArb = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(...HOST_CHARS.split('')), minLength: 1, maxLength: 20 }),
    fc.option(fc.string({ unit: fc.constantFrom(...HOST_CHARS.split('')), minLength: 1, maxLength: 10 }), { nil: undefined }),
  )
  .map(([a, b]) => (b === undefined ? a : `${a}_${b}`));
const portArb = fc.integer({ min: 1, max: 65535 });
const instanceArb = fc.tuple(hostArb, portArb).map(([h, p]) => `${h}:${p}`);
const wordArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,9}$/);
const userArb = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,11}$/);
const indexArb = fc.nat({ max: 1_000_000 });

test('property: encodeExecId1x then parse round-trips app, instances and short id', () => {
  fc.assert(
    fc.property(
      fc.stringMatching(/^[a-z][a-z0-9-]{0,29}$/),
      fc.array(instanceArb, { minLength: 1, maxLength: 4 }),
      wordArb,
      userArb,
      wordArb,
      indexArb,
      fc.boolean(),
      (app, instances, creator, user, engine, index, encodeColon) => {
        const shortId = `${creator}_${user}_${engine}_${index}`;
        const id = encodeExecId1x(app, instances, shortId);
        assert.ok(id);
        for (const r of [parseJobId(id), parseJobIdSegment(encodeColon ? id.replace(/:/g, '%3A') : id)]) {
          const p = expectOk(r, id);
          assert.equal(p.format, '1.x');
          assert.equal(p.app, app);
          assert.equal(p.instance, instances[0]);
          assert.deepEqual(p.instances, instances);
          assert.equal(p.shortId, shortId);
          assert.equal(p.execId, id);
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('property: encodeExecId0x then parse round-trips creator, app, instance and short id', () => {
  fc.assert(
    fc.property(wordArb, fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/), instanceArb, userArb, indexArb, fc.boolean(), (creator, app, instance, user, index, encodeColon) => {
      const shortId = `${creator}_${user}_${index}`;
      const id = encodeExecId0x(creator, app, instance, shortId);
      if (id === null) {
        // Only when the instance is longer than a 2-digit length allows.
        assert.ok(instance.length > 99);
        return;
      }
      for (const r of [parseJobId(id), parseJobIdSegment(encodeColon ? encodeURIComponent(id) : id)]) {
        const p = expectOk(r, id);
        assert.ok(p.format === '0.x' && p.creator === creator, id);
        assert.equal(p.app, app);
        assert.equal(p.instance, instance);
        assert.deepEqual(p.instances, [instance]);
        assert.equal(p.shortId, shortId);
        assert.equal(p.execId, id);
      }
    }),
    { numRuns: 500 },
  );
});

test('property: parseJobIdSegment and parseJobId never throw and always return ok:boolean', () => {
  const check = (s: string) => {
    for (const r of [parseJobIdSegment(s), parseJobId(s)]) {
      assert.equal(typeof r.ok, 'boolean');
      if (r.ok) {
        assert.ok(r.kind === 'taskId' || r.kind === 'execId');
        if (r.kind === 'execId') assert.ok(isInstanceName(r.instance));
      } else {
        assert.equal(typeof r.reason, 'string');
        assert.ok(r.reason.length > 0);
      }
    }
  };
  fc.assert(fc.property(fc.string(), check), { numRuns: 1000 });
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 600 }), check), { numRuns: 1000 });
  fc.assert(fc.property(fc.string({ unit: 'grapheme' }), check), { numRuns: 500 });
  // Strings that look like ids: prefixes, digits, colons, percent signs.
  const idish = fc.string({ unit: fc.constantFrom('exec_id', '0', '1', '3', '9', ':', '_', '%', '%3A', '%25', 'a', 'IDE', '.', '/'), maxLength: 40 });
  fc.assert(fc.property(idish, check), { numRuns: 2000 });
});
