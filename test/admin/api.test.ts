/**
 * The admin API against a live gateway: every change lands in proxy.properties (and nowhere else in it)
 * and in the gateway's decisions on real proxied requests; conflicts are caught; secrets stay secret.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { tokenFingerprint } from '../../src/control-plane/token-policy';
import { createAllowlistStore } from '../../src/control-plane/allowlist-store';
import { watchFile } from '../../src/control-plane/file-watch';
import { createAdmin } from '../../src/admin/admin';
import { hashAdminToken, parseAdminCredentials } from '../../src/admin/credentials';
import { ConfigError, validateConfig } from '../../src/control-plane/config';
import type { EntranceSimulator } from '../../src/simulator/entrance';
import { ADMIN_NAME, ADMIN_TOKEN, OTHER_ADMIN_TOKEN, decision, expectDecision, startAdmin, startAdminStack, within2s, type AdminStack, type TestAdmin } from '../support/admin-harness';
import { OTHER_TOKEN, TOKEN, isEnvelope, startGateway, startSimulators, type TestGateway } from '../support/harness';

// Comments, blank lines, a `!` comment, a `:` separator and an unrelated line the admin never touches.
const ORIGINAL = `# Test allowlist: system accounts\n\n! the BI service\n${TOKEN}=alice,bob\n# the scheduler\n${OTHER_TOKEN} : *\n   \n# end\n`;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('admin API', () => {
  let sims: EntranceSimulator[];
  let gw: TestGateway;
  let adm: TestAdmin;
  /** Every API answer's text, except the one-time create answers, for the no-secrets check. */
  const answers: string[] = [];
  const created: string[] = [];
  const api = async (...args: Parameters<TestAdmin['api']>) => {
    const r = await adm.api(...args);
    answers.push(JSON.stringify([...r.headers]) + r.text);
    return r;
  };
  const etag = async () => (await api('GET', 'tokens')).body.data.etag as string;

  let stack: AdminStack;
  before(async () => {
    stack = await startAdminStack(1, { gateway: { proxyProperties: ORIGINAL } });
    ({ sims, gw, adm } = stack);
  });
  after(() => stack.close());

  it('lists tokens by fingerprint with their users; the ETag is the file hash', async () => {
    const r = await api('GET', 'tokens');
    assert.equal(r.status, 200);
    assert.ok(isEnvelope(r.body));
    assert.equal(r.body.status, 0);
    assert.equal(r.body.method, '/admin/api/tokens');
    assert.equal(r.body.data.etag, sha(ORIGINAL));
    assert.equal(r.headers.get('etag'), `"${sha(ORIGINAL)}"`);
    // The comment right above each token is its label.
    assert.deepEqual(r.body.data.tokens, [
      { fingerprint: tokenFingerprint(TOKEN), masked: 'test…', users: ['alice', 'bob'], line: 4, label: 'the BI service' },
      { fingerprint: tokenFingerprint(OTHER_TOKEN), masked: 'othe…', users: '*', line: 6, label: 'the scheduler' },
    ]);
    assert.equal(r.body.data.total, 2);
    assert.deepEqual(r.body.data.problems, []);
    const me = await api('GET', 'me');
    assert.equal(me.body.data.admin, ADMIN_NAME);
  });

  it('a wrong or missing admin credential gets 401 and changes nothing', async () => {
    const before = adm.file();
    const tag = sha(before);
    const attempts: Array<[string, string, unknown, string | null]> = [
      ['GET', 'tokens', undefined, null],
      ['GET', 'tokens', undefined, 'Bearer wrong-token-0123456789'],
      ['POST', 'tokens', { users: ['mallory'] }, null],
      ['POST', 'tokens', { users: ['mallory'] }, `Bearer ${ADMIN_TOKEN}x`],
      ['POST', 'tokens', { users: ['mallory'] }, `Basic ${Buffer.from(`${ADMIN_NAME}:${ADMIN_TOKEN}`).toString('base64')}`],
      ['PUT', `tokens/${tokenFingerprint(TOKEN)}/users`, { users: '*' }, 'Bearer '],
      ['DELETE', `tokens/${tokenFingerprint(TOKEN)}`, undefined, `bearer ${ADMIN_TOKEN.slice(0, -1)}`],
      ['GET', 'entrances', undefined, null],
    ];
    for (const [method, path, body, auth] of attempts) {
      const r = await api(method, path, { body, auth, ifMatch: `"${tag}"` });
      assert.equal(r.status, 401, `${method} ${path} ${auth}`);
      assert.ok(isEnvelope(r.body));
      assert.equal(r.body.status, -1);
      assert.equal(r.body.data.errorCode, 'ADMIN_UNAUTHORIZED');
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
    assert.equal(adm.file(), before);
    assert.equal(adm.audit().length, 0);
    assert.ok(gw.logs.some((l) => l.event === 'admin.auth.refused' && l.reason === 'wrong-credential'));
    // The second admin's token works, and is that admin.
    assert.equal((await api('GET', 'me', { auth: `Bearer ${OTHER_ADMIN_TOKEN}` })).body.data.admin, 'second');
  });

  it('each operation changes the file and the live gateway within 2 s, touching nothing else', async () => {
    // create: the token is in the answer once, appended to the file under its label line, and works at once
    const c = await adm.api('POST', 'tokens', { body: { users: ['carol'], label: 'nightly ETL' }, ifMatch: `"${await etag()}"` });
    assert.equal(c.status, 200, c.text);
    const token = c.body.data.token as string;
    created.push(token);
    assert.match(token, /^[0-9a-f]{48}$/);
    assert.equal(c.body.data.fingerprint, tokenFingerprint(token));
    assert.equal(c.body.data.label, 'nightly ETL');
    assert.equal(c.headers.get('etag'), `"${c.body.data.etag}"`);
    assert.match(c.body.message, /shown only this once/);
    let labelLine = /^# nightly ETL \(created (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) by ops-anna\)$/m.exec(adm.file())![0];
    assert.equal(adm.file(), `${ORIGINAL}${labelLine}\n${token}=carol\n`);
    const listed = (await api('GET', 'tokens')).body.data.tokens.at(-1);
    assert.deepEqual([listed.label, listed.createdBy, Math.abs(Date.parse(listed.created) - Date.now()) < 60_000], ['nightly ETL', ADMIN_NAME, true]);
    await expectDecision(gw, token, 'carol', 200);
    assert.equal(await decision(gw, token, 'dave'), 403);

    const fp = c.body.data.fingerprint as string;
    const step = async (method: string, path: string, body: unknown, fileLine: string | null) => {
      const r = await api(method, path, { body, ifMatch: `"${await etag()}"` });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.status, 0);
      assert.equal(adm.file(), fileLine === null ? ORIGINAL : `${ORIGINAL}${labelLine}\n${token}=${fileLine}\n`);
      return r;
    };
    // The label, later: the comment line changes, the stamp stays.
    const relabel = await api('PUT', `tokens/${fp}/label`, { body: { label: 'ETL (billing)' }, ifMatch: `"${await etag()}"` });
    assert.equal(relabel.status, 200, relabel.text);
    assert.deepEqual([relabel.body.data.labelBefore, relabel.body.data.labelAfter], ['nightly ETL', 'ETL (billing)']);
    labelLine = labelLine.replace('nightly ETL', 'ETL (billing)');
    assert.equal(adm.file(), `${ORIGINAL}${labelLine}\n${token}=carol\n`);
    // Searchable, by label as by user or fingerprint.
    for (const q of ['billing', 'CAROL', fp.slice(7, 13)]) assert.deepEqual((await api('GET', `tokens?search=${encodeURIComponent(q)}`)).body.data.tokens.map((t: any) => t.fingerprint), [fp], q);
    assert.deepEqual((await api('GET', 'tokens?search=nobody-has-this')).body.data.tokens, []);
    const add = await step('POST', `tokens/${fp}/users`, { add: ['dave', 'erin'] }, 'carol,dave,erin');
    assert.deepEqual([add.body.data.usersBefore, add.body.data.usersAfter], [['carol'], ['carol', 'dave', 'erin']]);
    await expectDecision(gw, token, 'dave', 200);
    await step('POST', `tokens/${encodeURIComponent(fp)}/users/remove`, { remove: ['carol'] }, 'dave,erin');
    await expectDecision(gw, token, 'carol', 403);
    await step('PUT', `tokens/${fp.slice('sha256:'.length)}/users`, { users: '*' }, '*');
    await expectDecision(gw, token, 'zoe', 200);
    await step('PUT', `tokens/${fp}/users`, { users: ['frank'] }, 'frank');
    await expectDecision(gw, token, 'zoe', 403);
    const del = await step('DELETE', `tokens/${fp}`, undefined, null);
    assert.deepEqual(del.body.data.usersBefore, ['frank']);
    await expectDecision(gw, token, 'frank', 401);
    // After create + delete the file is byte-for-byte the original.
    assert.equal(adm.file(), ORIGINAL);

    // An entry in the middle: only its own line changes.
    await api('POST', `tokens/${tokenFingerprint(TOKEN)}/users`, { body: { add: ['carol'] }, ifMatch: `"${await etag()}"` });
    assert.equal(adm.file(), ORIGINAL.replace(`${TOKEN}=alice,bob\n`, `${TOKEN}=alice,bob,carol\n`));
    await expectDecision(gw, TOKEN, 'carol', 200);

    // Every change is audited: who, what, fingerprint, users before and after, versions.
    const audit = adm.audit();
    assert.deepEqual(
      audit.map((a) => [a.admin, a.via, a.operation, a.token]),
      [
        [ADMIN_NAME, 'api', 'create', fp],
        [ADMIN_NAME, 'api', 'set-label', fp],
        [ADMIN_NAME, 'api', 'add-users', fp],
        [ADMIN_NAME, 'api', 'remove-users', fp],
        [ADMIN_NAME, 'api', 'set-users', fp],
        [ADMIN_NAME, 'api', 'set-users', fp],
        [ADMIN_NAME, 'api', 'delete', fp],
        [ADMIN_NAME, 'api', 'add-users', tokenFingerprint(TOKEN)],
      ],
    );
    assert.deepEqual([audit[4].usersBefore, audit[4].usersAfter], [['dave', 'erin'], '*']);
    // Every record says which tokens appeared, disappeared or changed users, as hand edits do.
    assert.deepEqual([audit[0].label, audit[0].appeared, audit[0].disappeared, audit[0].usersChanged], ['nightly ETL', [{ token: fp, users: ['carol'] }], [], []]);
    assert.deepEqual([audit[1].labelBefore, audit[1].labelAfter, audit[1].usersChanged], ['nightly ETL', 'ETL (billing)', []]);
    assert.deepEqual(audit[4].usersChanged, [{ token: fp, added: ['*'], removed: ['dave', 'erin'] }]);
    assert.deepEqual(audit[6].disappeared, [{ token: fp, users: ['frank'] }]);
    // The API shows the recent audit, newest first.
    const recent = await api('GET', 'audit?limit=3');
    assert.deepEqual(recent.body.data.records.map((a: any) => a.operation), ['add-users', 'delete', 'set-users']);
    for (let i = 1; i < audit.length; i++) assert.equal(audit[i].etagBefore, audit[i - 1].etagAfter);
    assert.equal(audit[audit.length - 1].etagAfter, sha(adm.file()));
    assert.ok(gw.logs.some((l) => l.event === 'admin.audit' && l.operation === 'delete' && l.admin === ADMIN_NAME));
    // The admin's own writes are reloaded once, as admin writes, never reported as hand edits.
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(!gw.logs.some((l) => l.reason === 'hand-edit'));
    assert.ok(gw.logs.some((l) => l.event === 'allowlist.reload' && l.reason === 'admin-write'));
  });

  it('a change needs If-Match: missing or unusable → 428; stale → 409 with the current ETag', async () => {
    const before = adm.file();
    const path = `tokens/${tokenFingerprint(TOKEN)}/users`;
    // Each 428 says what is wrong with this If-Match: missing, "*" or weak, or not an ETag at all.
    for (const [ifMatch, message] of [
      [undefined, /needs the If-Match header/],
      ['*', /"\*" or a weak ETag cannot protect/],
      ['W/"abc"', /"\*" or a weak ETag cannot protect/],
      ['"abc"', /your last read: If-Match is not an ETag: send data\.etag of your last read \(64 hex characters, in quotes\)$/],
      [`"${TOKEN}"`, /is not an ETag/],
    ] as const) {
      const r = await api('PUT', path, { body: { users: ['x'] }, ifMatch });
      assert.equal(r.status, 428, `${ifMatch}: ${r.text}`);
      assert.equal(r.body.data.errorCode, 'ADMIN_PRECONDITION_REQUIRED');
      assert.match(r.body.message, message, `${ifMatch}`);
      if (ifMatch?.startsWith('"')) assert.ok(!/weak|"\*"/.test(r.body.message) && !r.body.message.includes(TOKEN), r.body.message);
    }
    const stale = await api('PUT', path, { body: { users: ['x'] }, ifMatch: `"${sha('something else')}"` });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.status, 1);
    assert.equal(stale.body.data.errorCode, 'ADMIN_CONFLICT');
    assert.equal(stale.body.data.etag, sha(before));
    assert.equal(stale.headers.get('etag'), `"${sha(before)}"`);
    // body.etag works where a header cannot be set
    const viaBody = await api('PUT', path, { body: { users: ['alice', 'bob', 'carol'], etag: sha(before) } });
    assert.equal(viaBody.status, 200, viaBody.text);
    assert.equal(viaBody.body.data.changed, false);
    assert.equal(adm.file(), before);
  });

  it('two concurrent writes with the same If-Match: exactly one wins, the other gets 409; the file has only the winner', async () => {
    const tag = `"${await etag()}"`;
    const path = `tokens/${tokenFingerprint(TOKEN)}/users`;
    const [a, b] = await Promise.all([api('PUT', path, { body: { users: ['winner-a'] }, ifMatch: tag }), api('PUT', path, { body: { users: ['winner-b'] }, ifMatch: tag })]);
    assert.deepEqual([a.status, b.status].sort(), [200, 409]);
    const won = a.status === 200 ? 'winner-a' : 'winner-b';
    const lost = won === 'winner-a' ? 'winner-b' : 'winner-a';
    assert.ok(adm.file().includes(`${TOKEN}=${won}\n`));
    assert.ok(!adm.file().includes(lost));
    await expectDecision(gw, TOKEN, won, 200);
    assert.equal(await decision(gw, TOKEN, lost), 403);
    assert.equal((a.status === 409 ? a : b).body.data.etag, sha(adm.file()));
  });

  it('an edit made with a plain file write between a read and a write is detected, reloaded and audited as a hand edit', async () => {
    const tag = `"${await etag()}"`;
    const handEdited = adm.file().replace('# end\n', `# end\n# added by hand\n`).replace(/=winner-\w\n/, '=alice,hand\n');
    writeFileSync(gw.config.proxyUserFile, handEdited); // what `vi` does: write the file in place
    const r = await api('PUT', `tokens/${tokenFingerprint(TOKEN)}/users`, { body: { users: ['overwriter'] }, ifMatch: tag });
    assert.equal(r.status, 409, r.text);
    assert.equal(r.body.data.etag, sha(handEdited));
    assert.equal(adm.file(), handEdited, 'the hand edit is not overwritten');
    await expectDecision(gw, TOKEN, 'hand', 200);
    await within2s(() => adm.audit().some((a) => a.operation === 'hand-edit' && a.etagAfter === sha(handEdited)), 'hand edit audited');
    const rec = adm.audit().find((a) => a.operation === 'hand-edit')!;
    assert.deepEqual([rec.admin, rec.via, rec.applied], [null, 'file', true]);
    assert.ok(gw.logs.some((l) => l.event === 'allowlist.reload' && l.reason === 'hand-edit'));
  });

  it('with several worker processes on one file, a hand edit is audited once and an admin write never as a hand edit', async () => {
    // A second worker: its own store, admin and watcher on the same file (as node:cluster workers have).
    const store2 = createAllowlistStore({ file: gw.config.proxyUserFile, logger: gw.logger });
    assert.ok(store2.reload('start').ok);
    const admin2 = createAdmin({ config: gw.config, proxyUserFile: gw.config.proxyUserFile, logger: gw.logger, store: store2, registry: gw.registry });
    const watcher2 = watchFile(gw.config.proxyUserFile, admin2.onFileChange);
    try {
      const handEdited = adm.file().replace('# added by hand\n', '# added by hand, twice\n');
      writeFileSync(gw.config.proxyUserFile, handEdited);
      const handEdits = () => adm.audit().filter((a) => a.operation === 'hand-edit' && a.etagAfter === sha(handEdited));
      await within2s(() => handEdits().length > 0, 'hand edit audited');
      await new Promise((r) => setTimeout(r, 1500)); // both watchers have seen it (1 s poll)
      assert.equal(handEdits().length, 1);
      const w = await api('POST', `tokens/${tokenFingerprint(TOKEN)}/users`, { body: { add: ['worker2'] }, ifMatch: `"${sha(handEdited)}"` });
      assert.equal(w.status, 200, w.text);
      await within2s(() => store2.current().decide(TOKEN, 'worker2') === 'allowed', 'the other worker applies the admin write');
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(!adm.audit().some((a) => a.operation === 'hand-edit' && a.etagAfter === w.body.data.etag));
    } finally {
      watcher2.close();
      await admin2.close();
      store2.close();
    }
  });

  it('invalid input is refused with an envelope saying why; the file is unchanged', async () => {
    const before = adm.file();
    const tag = `"${sha(before)}"`;
    const fp = tokenFingerprint(TOKEN);
    const table: Array<[string, string, unknown, number, string, RegExp?]> = [
      ['POST', 'tokens', { users: ['ok', 'bad name'] }, 412, 'ADMIN_VALIDATION', /user #2 is not a valid user name/],
      ['POST', 'tokens', { users: ['alice', '*'] }, 412, 'ADMIN_VALIDATION', /must stand alone/],
      ['POST', 'tokens', { users: [] }, 412, 'ADMIN_VALIDATION', /empty/],
      ['POST', 'tokens', { users: [1] }, 400, 'BODY_INVALID'],
      ['POST', 'tokens', '{not json', 400, 'BODY_MALFORMED'],
      ['POST', `tokens/${fp}/users`, { add: ['*'] }, 412, 'ADMIN_VALIDATION', /not a user name here/],
      ['POST', `tokens/${fp}/users/remove`, { remove: ['alice', 'hand', 'worker2'] }, 412, 'ADMIN_VALIDATION', /delete the token instead/],
      ['POST', `tokens/${fp}/users`, { users: ['x'] }, 400, 'BODY_INVALID', /"add"/],
      ['PUT', `tokens/sha256:000000000000/users`, { users: ['x'] }, 404, 'TOKEN_NOT_FOUND'],
      ['DELETE', `tokens/${TOKEN}`, undefined, 404, 'TOKEN_NOT_FOUND', /12 hex/],
      ['GET', 'nothing-here', undefined, 404, 'NOT_FOUND'],
    ];
    for (const [method, path, body, http, code, message] of table) {
      const r = await api(method, path, { body, ifMatch: tag });
      assert.equal(r.status, http, `${method} ${path}: ${r.text}`);
      assert.ok(isEnvelope(r.body), r.text);
      assert.equal(r.body.data.errorCode, code, r.text);
      if (http === 412) assert.equal(r.body.status, 2);
      if (message) assert.match(r.body.message, message);
    }
    assert.equal(adm.file(), before);
  });

  it('lists the Entrances read-only', async () => {
    const r = await api('GET', 'entrances');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data.entrances, [{ name: sims[0]!.instance, address: sims[0]!.url, healthy: true, draining: false, inFlight: 0 }]);
  });

  it('serves the page with a CSP that allows only its own script and style', async () => {
    const root = await fetch(`${adm.url}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/admin/');
    const page = await fetch(`${adm.url}/admin/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.ok(!csp.includes('upgrade-insecure-requests'), csp);
    const html = await page.text();
    assert.match(html, /<script src="\/admin\/app.js"/);
    assert.ok(!/<script>/.test(html), 'no inline script');
    const js = await fetch(`${adm.url}/admin/app.js`);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.match(await js.text(), /sessionStorage/);
  });

  it('no whole token in the logs, the audit file or any API answer but the create answer', () => {
    const secrets = [TOKEN, OTHER_TOKEN, ADMIN_TOKEN, OTHER_ADMIN_TOKEN, ...created];
    const audit = readFileSync(gw.config.admin.auditFile, 'utf8');
    for (const s of secrets) {
      assert.ok(!gw.rawLogs().includes(s), 'a token in the logs');
      assert.ok(!audit.includes(s), 'a token in the audit file');
      assert.ok(!answers.some((a) => a.includes(s)), 'a token in an API answer');
    }
  });
});

describe('admin configuration', () => {
  it('the admin listener refuses a public address unless gateway.admin.allow.public=true', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'gateway.example.com']) {
      assert.throws(
        () => validateConfig({ 'gateway.admin.host': host }, '/c', '/c/gateway.properties'),
        (err: Error) => err instanceof ConfigError && /gateway\.admin\.host: .*not a loopback address.*gateway\.admin\.allow\.public=true/.test(err.message),
        host,
      );
      assert.equal(validateConfig({ 'gateway.admin.host': host, 'gateway.admin.allow.public': 'true' }, '/c', '/c/gateway.properties').admin.host, host);
    }
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.equal(validateConfig({ 'gateway.admin.host': host }, '/c', '/c/g').admin.allowPublic, false);
    assert.throws(() => validateConfig({ 'gateway.admin.allow.public': 'yes' }, '/c', '/c/g'), /gateway\.admin\.allow\.public: "yes" is not true or false/);
    assert.throws(() => validateConfig({ 'gateway.admin.port': '9001' }, '/c', '/c/g'), /gateway\.admin\.port: 9001 is also gateway\.server\.port/);
    assert.equal(validateConfig({ 'gateway.admin.audit.file': '/var/log/lgw-audit.log' }, '/c', '/c/g').admin.auditFile, '/var/log/lgw-audit.log');
  });

  it('admin.properties: plain or sha256: tokens, constant-time lookup, malformed files refused', () => {
    const creds = parseAdminCredentials(`# admins\nanna=${ADMIN_TOKEN}\nbob=${hashAdminToken(OTHER_ADMIN_TOKEN)}\n`, 'admin.properties');
    assert.equal(creds.size, 2);
    assert.equal(creds.authenticate(ADMIN_TOKEN), 'anna');
    assert.equal(creds.authenticate(OTHER_ADMIN_TOKEN), 'bob');
    assert.equal(creds.authenticate(hashAdminToken(OTHER_ADMIN_TOKEN)), null, 'the hash is not a credential');
    assert.equal(creds.authenticate(undefined), null);
    assert.equal(creds.authenticate('x'), null);
    for (const [text, message] of [
      ['anna=short', /admin\.properties:1: the token must be at least 16/],
      ['-anna=0123456789abcdef', /admin\.properties:1: admin name/],
      ['anna=sha256:abc', /64 hex/],
      [`anna=${ADMIN_TOKEN}\nanna=${OTHER_ADMIN_TOKEN}`, /admin\.properties:2: admin "anna" is listed twice/],
    ] as const) {
      assert.throws(() => parseAdminCredentials(text, 'admin.properties'), (err: Error) => err instanceof ConfigError && message.test(err.message) && !err.message.includes(ADMIN_TOKEN));
    }
  });

  it('without admin.properties, or with no admin in it, the admin listener stays off and says why', async () => {
    const sims = await startSimulators(1);
    const gw = await startGateway(sims);
    try {
      const deps = { config: gw.config, proxyUserFile: gw.config.proxyUserFile, logger: gw.logger, store: gw.store, registry: gw.registry };
      const off = createAdmin(deps);
      assert.equal(off.handler, null);
      assert.match(off.offReason!, /admin\.properties does not exist/);
      await off.close();
      writeFileSync(gw.config.admin.credentialsFile, '# nobody yet\n');
      const empty = createAdmin(deps);
      assert.equal(empty.handler, null);
      assert.match(empty.offReason!, /names no admin/);
      await empty.close();
    } finally {
      await gw.close();
      await Promise.all(sims.map((s) => s.close()));
    }
  });
});

describe('admin API and weak tokens', () => {
  // What Linkis's own gateway loads: a short token, a Linkis default, and a strong one.
  const WEAK = `# from a Linkis install\nabc=alice\n${TOKEN}=bob\nLINKIS-UNAVAILABLE-TOKEN=*\n`;

  it('under warn (the default) the listing marks each weak token with why; they work; the file can be edited', async () => {
    const sims = await startSimulators(1);
    const gw = await startGateway(sims, { proxyProperties: WEAK });
    const adm = await startAdmin(gw);
    try {
      assert.equal(gw.config.tokenPolicy, 'warn');
      const r = await adm.api('GET', 'tokens');
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.data.tokens, [
        { fingerprint: tokenFingerprint('abc'), masked: '…', users: ['alice'], line: 2, label: 'from a Linkis install', weak: 'shorter than 16 characters (3)' },
        { fingerprint: tokenFingerprint(TOKEN), masked: 'test…', users: ['bob'], line: 3 },
        { fingerprint: tokenFingerprint('LINKIS-UNAVAILABLE-TOKEN'), masked: 'LINK…', users: '*', line: 4, weak: 'a well-known Linkis default or example value' },
      ]);
      assert.deepEqual(r.body.data.problems, []);
      assert.ok(!r.text.includes('abc=') && !r.text.includes('UNAVAILABLE'), 'no weak token quoted');
      // They work on the data plane.
      assert.equal(await decision(gw, 'abc', 'alice'), 200);
      assert.equal(await decision(gw, 'LINKIS-UNAVAILABLE-TOKEN', 'hadoop'), 200);
      // The file can still be edited, and a created token is strong.
      const c = await adm.api('POST', 'tokens', { body: { users: ['carol'] }, ifMatch: `"${r.body.data.etag}"` });
      assert.equal(c.status, 200, c.text);
      const after = await adm.api('GET', 'tokens');
      const mine = after.body.data.tokens.find((t: { fingerprint: string }) => t.fingerprint === c.body.data.fingerprint);
      assert.ok(mine, 'listed');
      assert.equal(mine.weak, undefined);
      assert.ok(!('weak' in mine));
    } finally {
      await adm.close();
      await gw.close();
      await Promise.all(sims.map((s) => s.close()));
    }
  });

  it('under gateway.token.policy=strict the listing gives the weak lines as problems and changes are refused', async () => {
    const sims = await startSimulators(1);
    const strong = `# ok\n${TOKEN}=bob\n`;
    const gw = await startGateway(sims, { proxyProperties: strong, settings: { 'gateway.token.policy': 'strict' } });
    const adm = await startAdmin(gw);
    try {
      writeFileSync(gw.config.proxyUserFile, WEAK);
      const r = await adm.api('GET', 'tokens');
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.data.problems.map((p: { line: number }) => p.line), [2, 4]);
      assert.match(r.body.data.problems[0].message, /weak token: .*gateway\.token\.policy=strict/);
      assert.equal(r.body.data.tokens[0].weak, 'shorter than 16 characters (3)');
      const w = await adm.api('POST', `tokens/${tokenFingerprint(TOKEN)}/users`, { body: { add: ['carol'] }, ifMatch: `"${r.body.data.etag}"` });
      assert.equal(w.status, 412, w.text);
      assert.equal(w.body.data.errorCode, 'ADMIN_VALIDATION');
      assert.match(w.body.message, /fix them by hand first/);
      assert.equal(adm.file(), WEAK);
    } finally {
      await adm.close();
      await gw.close();
      await Promise.all(sims.map((s) => s.close()));
    }
  });
});
