/**
 * Submissions through a real gateway to the Entrance simulator (issue 11, items 2, 6, 8, 10): the Entrance
 * receives the client's bytes with only the identity fields changed; what cannot be kept exactly, what
 * Linkis would misread and what is too big or too complex is refused with an envelope and reaches no one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ENTRANCE, OTHER_TOKEN, asUser, call, isEnvelope, startAll } from '../support/harness';

const post = (url: string, body: string | Buffer, headers: Record<string, string> = {}, user = 'alice', token?: string) =>
  call(`${url}${ENTRANCE}/submit`, { method: 'POST', headers: { ...asUser(user, token), 'content-type': 'application/json', ...headers }, body });

// Numbers JSON.parse cannot keep, escapes, key order and whitespace: all must arrive as sent.
const CLIENT = `{ "executionContent": {"code": "select 12345678901234567890123, '\\u00e9\u4e2d' -- \\"x\\"", "runType":"sql"},
  "params": {"variable": {"big": 9007199254740993, "huge": 1e400, "neg": -0, "exp": 1E+2}, "configuration": {"runtime": {}, "startup": {}}},
  "labels": { "engineType": "spark-3.2.1", "userCreator" : "root-IDE" },
  "executeUser": null, "submitUser": "root",
  "source": {"scriptPath": "/tmp/a.sql"}
}
`;
const FORWARDED = CLIENT.replace('"root-IDE"', '"alice-IDE"').replace('"executeUser": null', '"executeUser": "alice"').replace('"submitUser": "root"', '"submitUser": "alice"');

test('the Entrance receives the submission byte for byte, except the identity fields', async (t) => {
  const { sims, gw } = await startAll(t, 1);
  const [sim] = sims;
  const r = await post(gw.url, CLIENT, { 'content-type': 'application/json;charset=UTF-8' });
  assert.equal(r.status, 200, r.text);
  assert.equal(sim.received.length, 1);
  assert.equal(sim.received[0].body, FORWARDED);
  assert.equal(sim.received[0].headers['content-length'], String(Buffer.byteLength(FORWARDED)));
  assert.equal([...sim.jobs.values()][0].user, 'alice');

  // Missing executeUser: appended after the last member, nothing else touched.
  const bare = '{"executionContent":{"code":"1","runType":"sql"},"labels":{"engineType":"spark-3.2.1","userCreator":"x-IDE"},"n":123456789012345678901}';
  assert.equal((await post(gw.url, bare)).status, 200);
  assert.equal(sim.received[1].body, bare.replace('"x-IDE"', '"alice-IDE"').replace(/}$/, ',"executeUser":"alice"}'));
});

test('property: generated submissions arrive with only the identity fields changed', async (t) => {
  const { sims, gw } = await startAll(t, 1);
  const [sim] = sims;
  const odd = fc.oneof(fc.constantFrom('12345678901234567890123', '1e400', '-0', '0.30000000000000000000001', '"\\ud83d\\ude00\\u00e9"', '"\u4e2d\\n"'), fc.json({ maxDepth: 2 }));
  const creator = fc.stringMatching(/^[A-Za-z0-9_]{1,10}$/);
  await fc.assert(
    fc.asyncProperty(fc.array(odd, { maxLength: 5 }), creator, fc.constantFrom('', ' ', '\n  '), async (values, cr, w) => {
      const extra = values.map((v, i) => `,${w}"v${i}":${w}${v}`).join('');
      const body = `{"executionContent":{"code":"x","runType":"sql"},${w}"labels":{"engineType":"spark-3.2.1","userCreator":"mallory-${cr}"}${extra}${w}}`;
      const r = await post(gw.url, body);
      assert.equal(r.status, 200, r.text);
      const want = body.replace(`"mallory-${cr}"`, `"alice-${cr}"`).replace(new RegExp(`${w}}$`), `,"executeUser":"alice"${w}}`);
      assert.equal(sim.received.at(-1)!.body, want);
    }),
    { numRuns: 60 },
  );
});

test('what cannot be forwarded exactly is refused: not UTF-8, another charset, a Content-Encoding', async (t) => {
  const { sims, gw } = await startAll(t, 1);
  const gbk = Buffer.concat([Buffer.from('{"executionContent":{"code":"select \''), Buffer.from([0xd6, 0xd0, 0xce, 0xc4]), Buffer.from('\'","runType":"sql"},"labels":{"engineType":"spark-3.2.1","userCreator":"alice-IDE"}}')]);
  const good = '{"executionContent":{"code":"1","runType":"sql"},"labels":{"engineType":"spark-3.2.1","userCreator":"alice-IDE"}}';
  const refusals: Array<[string, string | Buffer, Record<string, string>, RegExp]> = [
    ['GBK bytes without a charset', gbk, {}, /not valid UTF-8/],
    ['GBK bytes declared', gbk, { 'content-type': 'application/json;charset=GBK' }, /charset "gbk"/],
    ['UTF-8 declared as GBK', good, { 'content-type': 'application/json; charset="gb2312"' }, /charset "gb2312"/],
    ['latin1 declared', good, { 'content-type': 'text/plain;charset=ISO-8859-1' }, /charset "iso-8859-1"/],
    ['UTF-8 first, Shift_JIS last (Spring reads the last)', good, { 'content-type': 'application/json; charset=utf-8; charset=shift_jis' }, /more than once/],
    ['charset=utf-8 hidden in a quoted value', good, { 'content-type': 'application/json; x="a;charset=utf-8"; charset=Shift_JIS' }, /more than once/],
    ['gzip', good, { 'content-encoding': 'gzip' }, /Content-Encoding "gzip"/],
    ['deflate, identity', good, { 'content-encoding': 'deflate, identity' }, /Content-Encoding/],
  ];
  for (const [name, body, headers, reason] of refusals) {
    const r = await post(gw.url, body, headers);
    assert.equal(r.status, 415, `${name}: ${r.text}`);
    assert.ok(isEnvelope(r.body), name);
    assert.equal(r.body.data.errorCode, 'BODY_ENCODING_UNSUPPORTED', name);
    assert.match(r.body.message, reason, name);
  }
  assert.equal(sims[0].received.length, 0, 'nothing reached the Entrance');
  const fine: Array<Record<string, string>> = [{ 'content-type': 'application/json;charset=utf-8' }, { 'content-type': 'application/json; charset=UTF8' }, { 'content-encoding': 'identity' }, { 'content-type': 'text/plain' }];
  for (const headers of fine) {
    const r = await post(gw.url, good, headers);
    assert.equal(r.status, 200, `${JSON.stringify(headers)}: ${r.text}`);
    assert.equal(sims[0].received.at(-1)!.body, good.replace(/}$/, ',"executeUser":"alice"}'));
  }
});

test('size, depth and key count are bounded before any parse (gateway.submission.max.bytes, 64 levels, 10,000 entries)', async (t) => {
  const { sims, gw } = await startAll(t, 1);
  const cases: Array<[string, string, number, string]> = [
    ['over 2mb', JSON.stringify({ executionContent: { code: 'x'.repeat(2 * 1024 * 1024) } }), 413, 'BODY_TOO_LARGE'],
    ['150,000 keys', `{${Array.from({ length: 150_000 }, (_, i) => `"k${i}":0`).join(',')}}`, 413, 'BODY_TOO_COMPLEX'],
    ['65 levels', `{"a":${'['.repeat(64)}${']'.repeat(64)}}`, 413, 'BODY_TOO_COMPLEX'],
    ['100,000 levels', '['.repeat(100_000), 413, 'BODY_TOO_COMPLEX'],
    ['broken', '{"executionContent":', 400, 'BODY_MALFORMED'],
    ['duplicated executeUser', '{"executeUser":"alice","executeUser":"root"}', 400, 'BODY_INVALID'],
  ];
  for (const [name, body, http, code] of cases) {
    const r = await post(gw.url, body);
    assert.equal(r.status, http, `${name}: ${r.text.slice(0, 300)}`);
    assert.equal(r.body.data.errorCode, code, name);
  }
  assert.equal(sims[0].received.length, 0);
});

test('gateway.submission.max.bytes bounds submissions below gateway.request.body.limit', async (t) => {
  const { sims, gw } = await startAll(t, 1, { 'gateway.submission.max.bytes': '4kb' });
  const big = JSON.stringify({ executionContent: { code: 'x'.repeat(5000), runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' } });
  const r = await post(gw.url, big);
  assert.equal(r.status, 413, r.text);
  assert.match(r.body.message, /4096 bytes/);
  assert.equal(sims[0].received.length, 0);
});

test('users and creators Linkis would misread are refused with a clear envelope', async (t) => {
  const { sims, gw } = await startAll(t, 1);
  const body = (uc: string) => JSON.stringify({ executionContent: { code: '1', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: uc } });
  const dashed = await post(gw.url, body('svc-bob-IDE'), {}, 'svc-bob', OTHER_TOKEN);
  assert.equal(dashed.status, 412, dashed.text);
  assert.equal(dashed.body.status, 2);
  assert.equal(dashed.body.data.errorCode, 'USER_NAME_UNSUPPORTED');
  assert.match(dashed.body.message, /"svc-bob" contains "-"/);
  for (const uc of ['alice-../../etc', 'alice-IDE/x', 'alice-I.DE', 'alice-%2e%2e']) {
    const r = await post(gw.url, body(uc));
    assert.equal(r.status, 400, `${uc}: ${r.text}`);
    assert.equal(r.body.data.errorCode, 'CREATOR_INVALID', uc);
  }
  const execute = await call(`${gw.url}${ENTRANCE}/execute`, {
    method: 'POST',
    headers: { ...asUser(), 'content-type': 'application/json' },
    body: JSON.stringify({ executeApplicationName: 'hive', executionCode: '1', runType: 'sql', requestApplicationName: '../../etc' }),
  });
  assert.equal(execute.body.data.errorCode, 'CREATOR_INVALID', execute.text);
  assert.equal(sims[0].received.length, 0);
  // A user with "-" may still do everything else through the gateway.
  const other = await call(`${gw.url}${ENTRANCE}/operation/metrics/runningtask?instance=${encodeURIComponent(sims[0].instance)}`, { headers: asUser('svc-bob', OTHER_TOKEN) });
  assert.equal(other.status, 200, other.text);
  assert.equal(sims[0].received.at(-1)!.ticketUser, 'svc-bob');
});

test('paths with ";" parameters and unknown operation/ calls never reach an Entrance', async (t) => {
  const { sims, gw } = await startAll(t, 1);
  const inst = encodeURIComponent(sims[0].instance);
  const body = JSON.stringify({ executionContent: { code: '1', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'root-IDE' }, executeUser: 'root' });
  for (const [path, http] of [
    [`operation/..;/submit?instance=${inst}`, 400],
    [`operation/.;/submit?instance=${inst}`, 400],
    [`operation/metrics/..;/..;/submit?instance=${inst}`, 400],
    [`submit;x=1`, 400],
    [`operation/label/markoffline?instance=${inst}`, 404],
    [`operation/consumer/kill?instance=${inst}`, 404],
  ] as const) {
    const method = path.includes('markoffline') || path.includes('kill') ? 'GET' : 'POST';
    const r = await call(`${gw.url}${ENTRANCE}/${path}`, { method, headers: { ...asUser(), 'content-type': 'application/json' }, body: method === 'POST' ? body : undefined });
    assert.equal(r.status, http, `${path}: ${r.text}`);
    assert.ok(isEnvelope(r.body), path);
  }
  assert.equal(sims[0].received.length, 0);
  const ok = await call(`${gw.url}${ENTRANCE}/operation/metrics/runningtask?instance=${inst}`, { headers: asUser() });
  assert.equal(ok.status, 200, ok.text);
});
