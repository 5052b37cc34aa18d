/**
 * rewriteSubmissionBody on bytes: the identity fields are spliced into the client's text and nothing else
 * changes (checked against an independent oracle that assembles the expected bytes), and what Linkis would
 * misread or the gateway cannot forward exactly is refused with its own catalogue code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { rewriteSubmissionBody } from '../../src/linkis/identity';

const EXECUTE_0X = { executeApplicationName: 'hive', executionCode: 'show tables', runType: 'sql', requestApplicationName: 'IDE', params: { variable: {}, configuration: {} }, source: {} };
const SUBMIT_1X = {
  executionContent: { code: 'show tables', runType: 'sql' },
  params: { variable: {}, configuration: { runtime: {}, startup: {} } },
  labels: { engineType: 'spark-3.2.1', userCreator: 'mallory-IDE' },
  source: { scriptPath: 'file:///tmp/hadoop/1.sql' },
};

const text = (b: unknown) => (typeof b === 'string' ? b : JSON.stringify(b));
type Case = { name: string; body: unknown; user?: string } & ({ want: string } | { code: string; reason: RegExp });

const cases: Case[] = [
  { name: '0.x execute body gets executeUser at the end', body: EXECUTE_0X, want: `${JSON.stringify(EXECUTE_0X).slice(0, -1)},"executeUser":"alice"}` },
  { name: '1.x submit: userCreator user replaced, creator kept', body: SUBMIT_1X, want: `${JSON.stringify(SUBMIT_1X).replace('mallory-IDE', 'alice-IDE').slice(0, -1)},"executeUser":"alice"}` },
  { name: 'executeUser naming another user is refused', body: { ...SUBMIT_1X, executeUser: 'root' }, code: 'EXECUTE_USER_MISMATCH', reason: /executeUser "root" is not "alice"/ },
  { name: 'an escaped executeUser naming another user is refused', body: '{"executeUser":"\\u0072oot"}', code: 'EXECUTE_USER_MISMATCH', reason: /"root"/ },
  { name: 'executeUser of another type is refused', body: { executeUser: 7 }, code: 'BODY_INVALID', reason: /executeUser/ },
  { name: 'executeUser false is refused', body: { executeUser: false }, code: 'BODY_INVALID', reason: /executeUser/ },
  { name: 'executeUser equal to the user is kept', body: '{ "executeUser" : "alice" }', want: '{ "executeUser" : "alice" }' },
  { name: 'executeUser escaped as the user is written plainly', body: '{"executeUser":"\\u0061lice"}', want: '{"executeUser":"alice"}' },
  { name: 'empty executeUser is set', body: '{"executeUser":""}', want: '{"executeUser":"alice"}' },
  { name: 'null executeUser is set', body: '{"executeUser" :null }', want: '{"executeUser" :"alice" }' },
  { name: 'submitUser and umUser overwritten whatever they are', body: '{"submitUser":"root","umUser":{"a":[1]},"executeUser":"alice"}', want: '{"submitUser":"alice","umUser":"alice","executeUser":"alice"}' },
  { name: 'an empty object gets executeUser', body: ' { } ', want: ' {"executeUser":"alice" } ' },
  { name: 'labels without userCreator, labels null: kept', body: '{"labels":{"engineType":"x"},"l2":null}', want: '{"labels":{"engineType":"x"},"l2":null,"executeUser":"alice"}' },
  { name: 'labels null kept', body: '{"labels":null}', want: '{"labels":null,"executeUser":"alice"}' },
  { name: 'client user with "-" in userCreator', body: '{"labels":{"userCreator":"mal-lory-IDE"}}', want: '{"labels":{"userCreator":"alice-IDE"},"executeUser":"alice"}' },
  { name: 'userCreator with an empty user part', body: '{"labels":{"userCreator":"-IDE"}}', want: '{"labels":{"userCreator":"alice-IDE"},"executeUser":"alice"}' },
  { name: 'nested userCreator elsewhere is not a label', body: '{"params":{"labels":{"userCreator":"root-IDE"}}}', want: '{"params":{"labels":{"userCreator":"root-IDE"}},"executeUser":"alice"}' },
  { name: 'big integers, 1e400, -0 and escapes survive', body: '{"a":12345678901234567890123,"b":1e400,"c":-0,"d":1E+2,"e":"\\u00e9\\n","executeUser":"alice"}', want: '{"a":12345678901234567890123,"b":1e400,"c":-0,"d":1E+2,"e":"\\u00e9\\n","executeUser":"alice"}' },
  // A user name with '-': every submission would get a UserCreatorLabel Linkis splits into three parts.
  { name: 'authenticated user with "-"', user: 'data-eng', body: SUBMIT_1X, code: 'USER_NAME_UNSUPPORTED', reason: /"data-eng" contains "-"/ },
  { name: 'authenticated user with "-", no labels', user: 'svc-bob', body: EXECUTE_0X, code: 'USER_NAME_UNSUPPORTED', reason: /UserCreatorLabel/ },
  // The creator: Linkis builds log and result paths from it.
  { name: 'creator with a path', body: { labels: { userCreator: 'alice-../../etc' } }, code: 'CREATOR_INVALID', reason: /alice-\.\.\/\.\.\/etc/ },
  { name: 'creator with a dot', body: { labels: { userCreator: 'alice-a.b' } }, code: 'CREATOR_INVALID', reason: /userCreator/ },
  { name: 'creator with a space', body: { labels: { userCreator: 'alice-I DE' } }, code: 'CREATOR_INVALID', reason: /userCreator/ },
  { name: 'creator too long', body: { labels: { userCreator: `alice-${'C'.repeat(65)}` } }, code: 'CREATOR_INVALID', reason: /userCreator/ },
  { name: 'creator of 64 is fine', body: { labels: { userCreator: `x-${'C'.repeat(64)}` } }, want: `{"labels":{"userCreator":"alice-${'C'.repeat(64)}"},"executeUser":"alice"}` },
  { name: 'requestApplicationName with a path', body: { ...EXECUTE_0X, requestApplicationName: '../x' }, code: 'CREATOR_INVALID', reason: /requestApplicationName/ },
  { name: 'requestApplicationName not a string', body: { requestApplicationName: 1 }, code: 'BODY_INVALID', reason: /requestApplicationName/ },
  { name: 'requestApplicationName empty is Linkis default', body: '{"requestApplicationName":""}', want: '{"requestApplicationName":"","executeUser":"alice"}' },
  // Duplicated identity keys: parsers disagree on which one counts.
  { name: 'executeUser twice', body: '{"executeUser":"alice","executeUser":"root"}', code: 'BODY_INVALID', reason: /"executeUser" appears more than once/ },
  { name: 'executeUser twice, once escaped', body: '{"executeUser":"alice","execute\\u0055ser":"root"}', code: 'BODY_INVALID', reason: /more than once/ },
  { name: 'labels twice', body: '{"labels":{},"labels":{"userCreator":"root-IDE"}}', code: 'BODY_INVALID', reason: /"labels" appears/ },
  { name: 'userCreator twice', body: '{"labels":{"userCreator":"a-IDE","userCreator":"root-IDE"}}', code: 'BODY_INVALID', reason: /"labels.userCreator" appears/ },
  // Shapes.
  { name: 'labels a string', body: { labels: 'userCreator=mallory-IDE' }, code: 'BODY_INVALID', reason: /labels/ },
  { name: 'labels an array', body: { labels: [{ userCreator: 'mallory-IDE' }] }, code: 'BODY_INVALID', reason: /labels/ },
  { name: 'userCreator a number', body: { labels: { userCreator: 7 } }, code: 'BODY_INVALID', reason: /userCreator/ },
  { name: 'userCreator null', body: { labels: { userCreator: null } }, code: 'BODY_INVALID', reason: /userCreator/ },
  { name: 'userCreator without "-"', body: { labels: { userCreator: 'malloryIDE' } }, code: 'BODY_INVALID', reason: /userCreator/ },
  { name: 'userCreator ending with "-"', body: { labels: { userCreator: 'mallory-' } }, code: 'BODY_INVALID', reason: /userCreator/ },
  { name: 'body an array', body: [SUBMIT_1X], code: 'BODY_INVALID', reason: /object/ },
  { name: 'body null, a string, a number', body: 'null', code: 'BODY_INVALID', reason: /object/ },
  { name: 'body empty', body: '', code: 'BODY_MALFORMED', reason: /end of the body/ },
  { name: 'a BOM', body: '\ufeff{}', code: 'BODY_MALFORMED', reason: /byte 0/ },
  { name: 'trailing garbage', body: '{"a":1}x', code: 'BODY_MALFORMED', reason: /byte 7/ },
  { name: 'too deep', body: `{"a":${'['.repeat(64)}${']'.repeat(64)}}`, code: 'BODY_TOO_COMPLEX', reason: /deeper than 64/ },
  { name: '64 deep is fine', body: `{"a":${'['.repeat(63)}${']'.repeat(63)}}`, want: `{"a":${'['.repeat(63)}${']'.repeat(63)},"executeUser":"alice"}` },
  { name: 'too many keys', body: `{${Array.from({ length: 10_001 }, (_, i) => `"k${i}":1`).join(',')}}`, code: 'BODY_TOO_COMPLEX', reason: /more than 10000/ },
];

test('rewriteSubmissionBody table: exact bytes out, or the catalogue code', () => {
  for (const c of cases) {
    const r = rewriteSubmissionBody(Buffer.from(text(c.body)), c.user ?? 'alice');
    if ('want' in c) {
      assert.ok(r.ok, `${c.name}: ${JSON.stringify(r)}`);
      assert.equal(r.body.toString('utf8'), c.want, c.name);
    } else {
      assert.ok(!r.ok, `${c.name}: accepted`);
      assert.equal(r.code, c.code, `${c.name}: ${r.reason}`);
      assert.match(r.reason, c.reason, c.name);
    }
  }
});

test('bytes that are not UTF-8 are refused, not turned into U+FFFD', () => {
  for (const bad of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xe4, 0xb8]]) {
    const body = Buffer.concat([Buffer.from('{"executionContent":{"code":"select \''), Buffer.from(bad), Buffer.from('\'"}}')]);
    const r = rewriteSubmissionBody(body, 'alice');
    assert.ok(!r.ok && r.code === 'BODY_ENCODING_UNSUPPORTED', JSON.stringify(r));
  }
});

// ---- generated: the oracle assembles the expected bytes independently of the scanner ----

const ws = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ');
const user = fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/);
const creator = fc.stringMatching(/^[A-Za-z0-9_]{1,10}$/);
const forged = fc.stringMatching(/^[a-z][a-z0-9_-]{0,15}$/);
const IDENTITY = ['executeUser', 'submitUser', 'umUser', 'labels', 'requestApplicationName'];
const oddNumber = fc.constantFrom('12345678901234567890123', '-9007199254740993', '1e400', '-1E-400', '-0', '0.10000000000000000000001', '1E+2', '2.50e3');
const oddString = fc.constantFrom('"\\u00e9\\ud83d\\ude00"', '"\\ud800"', '"tab\\tnl\\n\\/"', '"中文 é"', '"\\"quoted\\""');
const value = fc.oneof(fc.json({ maxDepth: 3 }), oddNumber, oddString);
const key = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('executionContent', 'params', 'source', 'code')).filter((k) => !IDENTITY.includes(k) && k !== 'userCreator');

type Member = { k: string; v: string; want: string; w: [string, string, string, string] };
const pad = fc.tuple(ws, ws, ws, ws);
const other = fc.tuple(key, value, pad).map(([k, v, w]): Member => ({ k: JSON.stringify(k), v, want: v, w }));

function assemble(members: Member[], outer: [string, string], field: 'v' | 'want', append = ''): string {
  const inner = members.map((m) => `${m.w[0]}${m.k}${m.w[1]}:${m.w[2]}${m[field]}`);
  const last = members.length ? `${members.at(-1)!.w[3]}` : '';
  const body = inner.map((s, i) => (i < inner.length - 1 ? `${s}${members[i].w[3]},` : s)).join('');
  return `${outer[0]}{${body}${append}${last}}${outer[1]}`;
}

test('property: the forwarded body is the client body with only the identity values replaced', () => {
  const identityNames = fc.shuffledSubarray(['executeUser', 'submitUser', 'umUser', 'labels']);
  const execForm = fc.constantFrom('""', 'null', 'user');
  const slots = fc.array(fc.nat(), { minLength: 4, maxLength: 4 });
  fc.assert(
    fc.property(user, forged, creator, fc.array(other, { maxLength: 6 }), identityNames, execForm, slots, fc.tuple(ws, ws), fc.array(other, { maxLength: 3 }), pad, (u, f, cr, others, present, form, at, outer, labelOthers, p) => {
      const asUser = JSON.stringify(u);
      const identity: Member[] = present.map((name): Member => {
        if (name === 'executeUser') return { k: '"executeUser"', v: form === 'user' ? asUser : form, want: asUser, w: p };
        if (name !== 'labels') return { k: JSON.stringify(name), v: JSON.stringify(f), want: asUser, w: p };
        const uc = (val: string): Member => ({ k: '"userCreator"', v: val, want: val, w: p });
        const client = assemble([...labelOthers, uc(JSON.stringify(`${f}-${cr}`))], ['', ''], 'v');
        return { k: '"labels"', v: client, want: assemble([...labelOthers, uc(JSON.stringify(`${u}-${cr}`))], ['', ''], 'v'), w: p };
      });
      // The identity members land anywhere among the others.
      const members = [...others];
      identity.forEach((m, i) => members.splice(at[i]! % (members.length + 1), 0, m));
      const client = assemble(members, outer, 'v');
      const append = present.includes('executeUser') ? '' : `${members.length ? ',' : ''}"executeUser":${asUser}`;
      const expected = assemble(members, outer, 'want', append);
      const r = rewriteSubmissionBody(Buffer.from(client), u);
      assert.ok(r.ok, `${client}: ${JSON.stringify(r)}`);
      assert.equal(r.body.toString('utf8'), expected);
      JSON.parse(r.body.toString('utf8'));
    }),
    { numRuns: 1000 },
  );
});

test('property: an executeUser naming anyone else is refused, whatever else the body holds', () => {
  fc.assert(
    fc.property(user, forged, fc.array(other, { maxLength: 4 }), (u, f, others) => {
      fc.pre(f !== u);
      const body = assemble([...others, { k: '"executeUser"', v: JSON.stringify(f), want: '', w: ['', '', '', ''] }], ['', ''], 'v');
      const r = rewriteSubmissionBody(Buffer.from(body), u);
      assert.ok(!r.ok && r.code === 'EXECUTE_USER_MISMATCH', body);
    }),
    { numRuns: 500 },
  );
});
