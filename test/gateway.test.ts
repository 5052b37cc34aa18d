/**
 * The gateway's core promises, end to end against real servers on 127.0.0.1 (port 0): a real gateway in
 * front of real Entrance simulators, spoken to with fetch. No mocks.
 *
 * - submissions act as the authenticated user, whatever identity the client claims;
 * - follow-ups reach only the Entrance that issued the execID, and its answers pass through untouched;
 * - every proxy-user auth decision, and nothing reaches an Entrance when refused;
 * - client-forged identity cookies never reach an Entrance;
 * - routing errors, body limits, the host:port=address mapping, and the access log.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import type { EntranceSimulator, ReceivedRequest } from '../src/simulator/entrance';
import { createTicketCodec } from '../src/linkis/ticket';
import { rawHead, rawRequest } from './support/raw-http';
import { ENTRANCE, OTHER_TOKEN, TOKEN, asUser, call, isEnvelope, startGateway, startSimulators, submit, type TestGateway } from './support/harness';

const codec = createTicketCodec('bdp-for-server');
const TICKET_COOKIE = 'linkis_user_session_ticket_id_v1';
const IDENTITY_HEADERS = ['validation-code', 'proxy-user', 'token-code', 'token-user'];

/** Cookies in header order, as Linkis's servlet container reads them. */
function cookiesOf(r: ReceivedRequest): Array<[string, string]> {
  const raw = r.headers.cookie ?? '';
  return raw
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const eq = p.indexOf('=');
      return [p.slice(0, eq), p.slice(eq + 1)] as [string, string];
    });
}

/** What every request that reached an Entrance through the gateway must look like for `user`. */
function assertActsAs(r: ReceivedRequest, user: string): void {
  assert.equal(r.ticketUser, user, `ticket user of ${r.method} ${r.path}`);
  const cookies = cookiesOf(r);
  const tickets = cookies.filter(([n]) => n === TICKET_COOKIE);
  assert.equal(tickets.length, 1, `exactly one ticket cookie: ${r.headers.cookie}`);
  assert.equal(codec.read(tickets[0][1])?.user, user, 'the ticket decrypts with the shared key to the user');
  assert.deepEqual(
    cookies.filter(([n]) => n === 'dataworkcloud_inner_request'),
    [['dataworkcloud_inner_request', 'true']],
  );
  for (const h of IDENTITY_HEADERS) assert.equal(r.headers[h], undefined, `header ${h} must not reach the Entrance`);
}

async function startAll(t: { after: (fn: () => Promise<void>) => void }, n: number, opts: Parameters<typeof startSimulators>[1] = {}, gwOpts: Parameters<typeof startGateway>[1] = {}) {
  const sims = await startSimulators(n, opts);
  t.after(async () => {
    for (const s of sims) await s.close();
  });
  const gw = await startGateway(sims, gwOpts);
  t.after(() => gw.close());
  return { sims, gw };
}

function totalReceived(sims: EntranceSimulator[]): number {
  return sims.reduce((n, s) => n + s.received.length, 0);
}

test('submissions reach the Entrance as the authenticated user, whatever the client claims', async (t) => {
  const { sims, gw } = await startAll(t, 1);
  const [sim] = sims;

  // executeUser naming another user is how linkis-cli's -proxyUser asks for one: refused, never rewritten.
  const mismatch = await call(`${gw.url}${ENTRANCE}/submit`, {
    method: 'POST',
    headers: { ...asUser('alice'), 'content-type': 'application/json' },
    body: JSON.stringify({ executionContent: { code: 'show tables', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'bob-IDE' }, executeUser: 'bob' }),
  });
  assert.equal(mismatch.status, 403, mismatch.text);
  assert.equal(mismatch.body.status, 3);
  assert.equal(mismatch.body.data.errorCode, 'EXECUTE_USER_MISMATCH');
  assert.match(mismatch.body.message, /executeUser "bob" is not "alice"/);
  assert.equal(sim.received.length, 0, 'a refused submission reaches no Entrance');

  // 1.x /submit, claiming to be root in the labels and in Linkis's token headers.
  const submitRes = await call(`${gw.url}${ENTRANCE}/submit`, {
    method: 'POST',
    headers: { ...asUser('alice'), 'content-type': 'application/json', 'token-code': 'root-token', 'token-user': 'root' },
    body: JSON.stringify({
      executionContent: { code: 'show tables', runType: 'sql' },
      params: { variable: {}, configuration: { runtime: {}, startup: {} } },
      labels: { engineType: 'spark-3.2.1', userCreator: 'root-IDE' },
      source: { scriptPath: '/tmp/a.sql' },
      executeUser: 'alice',
    }),
  });
  assert.equal(submitRes.status, 200, submitRes.text);
  assert.equal(submitRes.body.status, 0);
  const submitId: string = submitRes.body.data.execID;
  assert.match(submitId, /^exec_id/);

  // The seed's 0.x /execute body.
  const executeRes = await call(`${gw.url}${ENTRANCE}/execute`, {
    method: 'POST',
    headers: { ...asUser('alice'), 'content-type': 'application/json' },
    body: JSON.stringify({
      method: '/api/rest_j/v1/entrance/execute',
      params: { variable: { k1: 'v1' }, configuration: { special: { k2: 'v2' }, runtime: { k3: 'v3' }, startup: { k4: 'v4' } } },
      executeApplicationName: 'spark',
      executionCode: 'show tables',
      runType: 'sql',
      source: { scriptPath: '/home/Linkis/Linkis.sql' },
    }),
  });
  assert.equal(executeRes.status, 200, executeRes.text);
  assert.equal(executeRes.body.status, 0);

  assert.equal(sim.received.length, 2);
  const [sub, exe] = sim.received;
  assert.equal(sub.path, `${ENTRANCE}/submit`);
  assert.equal(exe.path, `${ENTRANCE}/execute`);
  for (const r of sim.received) assertActsAs(r, 'alice');

  const subBody = JSON.parse(sub.body);
  assert.equal(subBody.executeUser, 'alice');
  assert.equal(subBody.labels.userCreator, 'alice-IDE');
  assert.equal(subBody.labels.engineType, 'spark-3.2.1', 'other fields are kept');
  assert.equal(subBody.source.scriptPath, '/tmp/a.sql');
  const exeBody = JSON.parse(exe.body);
  assert.equal(exeBody.executeUser, 'alice');
  assert.equal(exeBody.executeApplicationName, 'spark');
  assert.deepEqual(exeBody.params.configuration.special, { k2: 'v2' });

  // The Entrance recorded both jobs as alice's.
  const owners = [...sim.jobs.values()].map((j) => [j.api, j.user, j.bodyExecuteUser]);
  assert.deepEqual(owners, [
    ['submit', 'alice', 'alice'],
    ['execute', 'alice', 'alice'],
  ]);
});

test('follow-ups reach only the Entrance that issued the execID; answers pass through byte for byte', async (t) => {
  const sims1x = await startSimulators(1, { execIdFormat: '1.x', taskIdStart: 1 });
  const sims0x = await startSimulators(1, { execIdFormat: '0.x', taskIdStart: 5001 });
  const sims = [...sims1x, ...sims0x];
  t.after(async () => {
    for (const s of sims) await s.close();
  });
  const gw = await startGateway(sims);
  t.after(() => gw.close());

  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await submit(gw, 'alice');
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 0);
    ids.push(r.body.data.execID);
  }
  // Round robin put jobs on both.
  const ownerOf = (id: string): EntranceSimulator => {
    const owner = sims.find((s) => s.jobs.has(id));
    assert.ok(owner, `some simulator issued ${id}`);
    return owner;
  };
  assert.equal(sims[0].jobs.size, 2);
  assert.equal(sims[1].jobs.size, 2);
  assert.ok(ids.some((id) => id.startsWith('exec_id')), '1.x ids present');
  assert.ok(ids.some((id) => /^[0-9]{6}/.test(id)), '0.x ids present');

  for (const id of ids) {
    const owner = ownerOf(id);
    const other = sims.find((s) => s !== owner)!;
    const enc = encodeURIComponent(id);
    const followUp = async (path: string) => {
      const ownerBefore = owner.received.length;
      const otherBefore = other.received.length;
      const r = await call(`${gw.url}${ENTRANCE}/${enc}/${path}`, { headers: asUser('alice') });
      assert.equal(owner.received.length, ownerBefore + 1, `${path} for ${id} reached its owner once`);
      assert.equal(other.received.length, otherBefore, `${path} for ${id} did not reach the other Entrance`);
      const rec = owner.received[owner.received.length - 1];
      assert.equal(rec.path, `${ENTRANCE}/${enc}/${path}`);
      assertActsAs(rec, 'alice');
      return { r, rec };
    };

    const states: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { r } = await followUp('status');
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(Object.keys(r.body), ['method', 'status', 'message', 'data'], 'Linkis key order');
      assert.equal(r.body.data.execID, id);
      states.push(r.body.data.status);
    }
    assert.deepEqual(states, ['Inited', 'Running', 'Succeed']);

    const { r: progress } = await followUp('progress');
    assert.equal(progress.status, 200);
    assert.equal(progress.body.data.progress, 1);

    const { r: log } = await followUp('log?fromLine=0&size=5');
    assert.equal(log.status, 200);
    assert.equal(log.body.data.log.length, 4);
    assert.equal(log.body.data.log[3].split('\n').length, 5);
    assert.equal(log.body.data.fromLine, 5);

    const { r: kill, rec: killRec } = await followUp('kill');
    assert.equal(kill.status, 200);
    assert.equal(kill.body.status, 0);
    assert.equal(kill.body.data.execID, id);

    // The same requests straight to the Entrance, with the cookie the gateway minted: identical bytes.
    const cookie = killRec.headers.cookie!;
    for (const [path, viaGateway] of [
      ['progress', progress],
      ['log?fromLine=0&size=5', log],
      ['kill', kill],
    ] as const) {
      const direct = await call(`${owner.url}${ENTRANCE}/${enc}/${path}`, { headers: { cookie } });
      assert.equal(viaGateway.status, direct.status);
      assert.equal(viaGateway.text, direct.text, `${path} passes through byte for byte`);
      assert.equal(viaGateway.headers.get('content-type'), direct.headers.get('content-type'));
    }
    // A fourth status poll (state no longer moves) compared the same way.
    const { r: status4 } = await followUp('status');
    const direct4 = await call(`${owner.url}${ENTRANCE}/${enc}/status`, { headers: { cookie } });
    assert.equal(status4.text, direct4.text);
  }
  // Every job ended Succeed (kill cannot cancel a finished job) on the instance that issued it.
  for (const id of ids) assert.equal(ownerOf(id).jobs.get(id)!.state, 'Succeed');
});

test('proxy-user auth: every decision row, and a refused request reaches no Entrance', async (t) => {
  const { sims, gw } = await startAll(t, 1);
  const [sim] = sims;
  const url = `${gw.url}${ENTRANCE}/submit`;
  const body = (user: string) =>
    JSON.stringify({ executionContent: { code: 'select 1', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: `${user}-IDE` } });

  const refused = async (name: string, headers: Record<string, string>, http: number, status: number, messageRe?: RegExp) => {
    const before = sim.received.length;
    const r = await call(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: body('alice') });
    assert.equal(r.status, http, `${name}: ${r.text}`);
    assert.ok(isEnvelope(r.body), `${name}: envelope`);
    assert.equal(r.body.status, status, `${name}: envelope status`);
    assert.equal(r.body.method, `${ENTRANCE}/submit`);
    if (messageRe) assert.match(r.body.message, messageRe, name);
    assert.equal(sim.received.length, before, `${name}: the Entrance received nothing`);
    return r;
  };

  await refused('no headers', {}, 401, -1);
  await refused('only Proxy-User', { 'proxy-user': 'alice' }, 401, -1, /Validation-Code/);
  await refused('only Validation-Code', { 'validation-code': TOKEN }, 401, -1, /Proxy-User/);
  await refused('unknown token', asUser('alice', 'no-such-token-0000'), 401, -1);
  await refused('known token, user not listed', asUser('carol'), 403, 3);
  // Whole names only: "alice,bob".contains("ali") was Linkis 1.0.x's bug.
  await refused('substring of a listed user', asUser('ali'), 403, 3);
  await refused('listed user as a prefix', asUser('alice2'), 403, 3);
  await refused('empty Proxy-User', asUser(''), 412, 2);
  await refused('65 characters', asUser('a'.repeat(65)), 412, 2);
  await refused('space', asUser('al ice'), 412, 2);
  await refused('semicolon', asUser('alice;rm'), 412, 2);
  await refused('path', asUser('../x'), 412, 2);
  // fetch sends a header string as latin1 bytes: 0xE5 'å'.
  await refused('non-ASCII (latin1 byte)', asUser('ålice'), 412, 2);
  assert.equal(sim.received.length, 0);

  // Allowed: a listed user, a 64-character name with '*', and any valid user with '*'.
  const ok1 = await call(url, { method: 'POST', headers: { ...asUser('bob'), 'content-type': 'application/json' }, body: body('bob') });
  assert.equal(ok1.status, 200, ok1.text);
  const long = `u${'x'.repeat(63)}`;
  for (const user of ['carol', 'ali', long]) {
    const r = await call(url, { method: 'POST', headers: { ...asUser(user, OTHER_TOKEN), 'content-type': 'application/json' }, body: body(user) });
    assert.equal(r.status, 200, `${user} with the * token: ${r.text}`);
    assert.equal(r.body.status, 0);
  }
  assert.deepEqual(
    sim.received.map((r) => r.ticketUser),
    ['bob', 'carol', 'ali', long],
  );
});

test('client-forged identity cookies never reach the Entrance', async (t) => {
  const { sims, gw } = await startAll(t, 1);
  const [sim] = sims;
  const forgedTicket = codec.mint('root');
  assert.equal(codec.read(forgedTicket)?.user, 'root', 'the forged ticket is valid for the shared key');
  const forged = `${TICKET_COOKIE}=${forgedTicket}; dataworkcloud_inner_request=true; bdp-user-ticket-id=x; linkis_user_session_proxy_ticket_id_v1=y; theme=dark`;

  const r = await call(`${gw.url}${ENTRANCE}/submit`, {
    method: 'POST',
    headers: { ...asUser('alice'), cookie: forged, 'content-type': 'application/json' },
    body: JSON.stringify({ executionContent: { code: 'x', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' } }),
  });
  assert.equal(r.status, 200, r.text);
  const id = r.body.data.execID;
  const s = await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(id)}/status`, { headers: { ...asUser('alice'), cookie: forged } });
  assert.equal(s.status, 200, s.text);

  assert.equal(sim.received.length, 2);
  for (const rec of sim.received) {
    assertActsAs(rec, 'alice');
    const cookies = cookiesOf(rec);
    const names = cookies.map(([n]) => n);
    assert.ok(!names.includes('bdp-user-ticket-id'), rec.headers.cookie);
    assert.ok(!names.includes('linkis_user_session_proxy_ticket_id_v1'), rec.headers.cookie);
    assert.ok(!(rec.headers.cookie ?? '').includes(forgedTicket), 'the forged ticket is gone');
    assert.deepEqual(
      cookies.filter(([n]) => n === 'theme'),
      [['theme', 'dark']],
      'unrelated cookies are kept',
    );
  }
  assert.equal([...sim.jobs.values()][0].user, 'alice');
});

test('routing: malformed and unknown execIDs, operation calls, unknown paths, /health', async (t) => {
  const { sims, gw } = await startAll(t, 2);

  for (const bad of ['exec_idXYZ', '030418IDEhivelocalhost010004:10087IDE_test_user_21', 'exec_id018099linkis-cg-entrance10.0.0.1:1_0', 'hello']) {
    const r = await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(bad)}/status`, { headers: asUser() });
    assert.equal(r.status, 400, `${bad}: ${r.text}`);
    assert.ok(isEnvelope(r.body));
    assert.equal(r.body.status, 1);
    assert.equal(r.body.data.errorCode, 'EXECID_MALFORMED');
  }
  assert.equal(totalReceived(sims), 0);

  // Well-formed, but the instance is not one of ours: never a fallback to another Entrance (Linkis #5132).
  for (const [id, instance] of [
    ['exec_id018016linkis-cg-entrance10.244.0.13:9104LINKISCLI_alice_shell_0', '10.244.0.13:9104'],
    ['030418IDEhivebdpdwc010004:10087IDE_alice_21', 'bdpdwc010004:10087'],
  ]) {
    const r = await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(id)}/log?fromLine=0&size=5`, { headers: asUser() });
    assert.equal(r.status, 404, r.text);
    assert.ok(isEnvelope(r.body));
    assert.equal(r.body.status, 1);
    assert.equal(r.body.data.errorCode, 'INSTANCE_UNKNOWN');
    assert.equal(r.body.data.instance, instance);
    assert.ok(r.body.message.includes(instance), r.body.message);
  }
  assert.equal(totalReceived(sims), 0);

  // operation/... names its instance in the query.
  for (const target of sims) {
    const other = sims.find((s) => s !== target)!;
    const before = other.received.length;
    const r = await call(`${gw.url}${ENTRANCE}/operation/metrics/runningtask?instance=${encodeURIComponent(target.instance)}`, { headers: asUser() });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.status, 0);
    assert.equal(r.body.data.runningTaskNumber, 0);
    assert.equal(target.received.at(-1)?.path, `${ENTRANCE}/operation/metrics/runningtask?instance=${encodeURIComponent(target.instance)}`);
    assertActsAs(target.received.at(-1)!, 'alice');
    assert.equal(other.received.length, before);
  }
  assert.equal(totalReceived(sims), 2);

  for (const path of ['/api/rest_j/v1/nothing-here', `${ENTRANCE}/a/b/c`, '/']) {
    const r = await call(`${gw.url}${path}`, { headers: asUser() });
    assert.equal(r.status, 404, `${path}: ${r.text}`);
    assert.ok(isEnvelope(r.body), path);
    assert.equal(r.body.status, 1);
    assert.equal(r.body.data.errorCode, 'NOT_FOUND');
  }
  assert.equal(totalReceived(sims), 2);
  // Targets Express reads no path from (protocol-relative, asterisk-form) get the envelope too, not its HTML page.
  const port = Number(new URL(gw.url).port);
  for (const [method, target] of [['PUT', '//&#Ot?=#e6wJ\\@^'], ['GET', '//health'], ['OPTIONS', '*'], ['GET', 'http://elsewhere/nothing']]) {
    const [r] = (await rawRequest(port, rawHead(method, target, Object.entries(asUser())), { responses: 1 })).responses;
    assert.equal(r!.status, 404, `${method} ${target}: ${r!.body}`);
    const body = JSON.parse(r!.body.toString());
    assert.ok(isEnvelope(body), `${method} ${target}`);
    assert.equal(body.data.errorCode, 'NOT_FOUND');
    assert.ok(r!.headers['x-request-id'], 'with the request id');
  }
  assert.equal(totalReceived(sims), 2);

  const health = await call(`${gw.url}/health`);
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 0);
});

test('host:port=http://address:port: the execID instance name differs from the address', async (t) => {
  const sims = await startSimulators(1, { instance: 'entrance-a.example:9104' });
  t.after(() => sims[0].close());
  const [sim] = sims;
  const gw = await startGateway(sims, { instances: [{ name: 'entrance-a.example:9104', url: sim.url }] });
  t.after(() => gw.close());
  assert.equal(gw.config.instances[0].name, 'entrance-a.example:9104');
  assert.notEqual(new URL(sim.url).host, 'entrance-a.example:9104');

  const r = await submit(gw);
  assert.equal(r.status, 200);
  const id: string = r.body.data.execID;
  assert.ok(id.includes('entrance-a.example:9104'), id);
  for (const op of ['status', 'progress', 'log?fromLine=0&size=5']) {
    const f = await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(id)}/${op}`, { headers: asUser() });
    assert.equal(f.status, 200, `${op}: ${f.text}`);
    assert.equal(f.body.status, 0);
    assert.equal(f.body.data.execID, id);
  }
  assert.equal(sim.received.length, 4);
  const m = await call(`${gw.url}${ENTRANCE}/operation/metrics/runningtask?instance=entrance-a.example:9104`, { headers: asUser() });
  assert.equal(m.status, 200);
  assert.equal(sim.received.length, 5);
});

/** A raw request, so that the body is sent exactly as chosen (chunked or with content-length). */
function rawPost(gw: TestGateway, path: string, chunks: Buffer[], withLength: boolean): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(gw.url);
    const headers: Record<string, string> = { ...asUser(), 'content-type': 'application/json' };
    if (withLength) headers['content-length'] = String(chunks.reduce((n, c) => n + c.length, 0));
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers, timeout: 5000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(parts).toString('utf8')) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    // Chunks are written with gaps so a chunked body really arrives in pieces.
    let i = 0;
    const writeNext = () => {
      if (i === chunks.length) return void req.end();
      req.write(chunks[i++], () => setTimeout(writeNext, 2));
    };
    writeNext();
  });
}

test('request bodies: broken JSON, not an object, too large (with and without content-length)', async (t) => {
  const { sims, gw } = await startAll(t, 1, {}, { settings: { 'gateway.request.body.limit': '1kb' } });
  const [sim] = sims;
  const post = (body: string) => call(`${gw.url}${ENTRANCE}/submit`, { method: 'POST', headers: { ...asUser(), 'content-type': 'application/json' }, body });

  const broken = await post('{"executionContent": {"code": "x"');
  assert.equal(broken.status, 400, broken.text);
  assert.equal(broken.body.status, 1);
  assert.equal(broken.body.data.errorCode, 'BODY_MALFORMED');

  for (const notObject of ['[1,2]', '"submit"', 'null', '42']) {
    const r = await post(notObject);
    assert.equal(r.status, 400, `${notObject}: ${r.text}`);
    assert.equal(r.body.data.errorCode, 'BODY_INVALID', notObject);
  }

  const big = Buffer.from(JSON.stringify({ executionContent: { code: 'x'.repeat(5 * 1024), runType: 'sql' } }));
  const withLength = await rawPost(gw, `${ENTRANCE}/submit`, [big], true);
  assert.equal(withLength.status, 413);
  assert.equal(withLength.body.status, 1);
  assert.equal(withLength.body.data.errorCode, 'BODY_TOO_LARGE');

  const pieces = Array.from({ length: 10 }, (_, i) => big.subarray(i * 512, (i + 1) * 512)).filter((b) => b.length > 0);
  const chunked = await rawPost(gw, `${ENTRANCE}/submit`, pieces, false);
  assert.equal(chunked.status, 413);
  assert.equal(chunked.body.data.errorCode, 'BODY_TOO_LARGE');

  // The same with fetch (content-length from a string body; chunked from a stream body).
  const viaFetch = await post(big.toString());
  assert.equal(viaFetch.status, 413);
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of pieces) c.enqueue(new Uint8Array(p));
      c.close();
    },
  });
  const viaFetchChunked = await call(`${gw.url}${ENTRANCE}/submit`, {
    method: 'POST',
    headers: { ...asUser(), 'content-type': 'application/json' },
    body: stream,
    duplex: 'half',
  } as RequestInit);
  assert.equal(viaFetchChunked.status, 413);

  assert.equal(sim.received.length, 0, 'no refused body reached the Entrance');
  // A body just under the limit still goes through.
  const small = await submit(gw);
  assert.equal(small.status, 200);
  assert.equal(sim.received.length, 1);
});

test('access log: one line per request with request id, user, token fingerprint, instance; never the token', async (t) => {
  const { sims, gw } = await startAll(t, 1);
  const [sim] = sims;
  const ok = await call(`${gw.url}${ENTRANCE}/submit`, {
    method: 'POST',
    headers: { ...asUser('alice'), 'content-type': 'application/json' },
    body: JSON.stringify({ executionContent: { code: 'x', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' } }),
  });
  assert.equal(ok.status, 200);
  const id = ok.body.data.execID;
  const st = await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(id)}/status`, { headers: { ...asUser('alice'), 'x-request-id': 'client-chosen-id-1' } });
  assert.equal(st.status, 200);
  const refusedUser = await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(id)}/status`, { headers: asUser('mallory') });
  assert.equal(refusedUser.status, 403);
  const refusedToken = await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(id)}/status`, { headers: asUser('alice', `${TOKEN}-wrong`) });
  assert.equal(refusedToken.status, 401);
  const responses = [ok, st, refusedUser, refusedToken];

  // The line is written when the response closes, which may be just after the client has it.
  const deadline = Date.now() + 2000;
  const accessLines = () => gw.logs.filter((l) => l.message === 'access');
  while (accessLines().length < responses.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const lines = accessLines();
  assert.equal(lines.length, responses.length, JSON.stringify(lines));

  const requestIds = responses.map((r) => r.headers.get('x-request-id'));
  assert.equal(requestIds[1], 'client-chosen-id-1');
  assert.equal(new Set(requestIds).size, responses.length, 'distinct request ids');
  const lineFor = (rid: string | null) => {
    const l = lines.find((x) => x.requestId === rid);
    assert.ok(l, `an access line for ${rid}`);
    return l;
  };
  const fingerprint = /^sha256:[0-9a-f]{12}$/;
  const lOk = lineFor(requestIds[0]);
  assert.equal(lOk.user, 'alice');
  assert.match(String(lOk.token), fingerprint);
  assert.equal(lOk.instance, sim.instance);
  assert.equal(lOk.status, 200);
  assert.equal(lOk.route, 'submit');
  const lSt = lineFor(requestIds[1]);
  assert.equal(lSt.user, 'alice');
  assert.equal(lSt.token, lOk.token, 'same token, same fingerprint');
  assert.equal(lSt.instance, sim.instance);
  assert.equal(lSt.route, 'status');
  const lRefUser = lineFor(requestIds[2]);
  assert.equal(lRefUser.status, 403);
  assert.equal(lRefUser.user, undefined, 'a refused user is not logged as the acting user');
  assert.equal(lRefUser.token, lOk.token);
  assert.equal(lRefUser.instance, undefined);
  const lRefToken = lineFor(requestIds[3]);
  assert.equal(lRefToken.status, 401);
  assert.match(String(lRefToken.token), fingerprint);
  assert.notEqual(lRefToken.token, lOk.token);

  const raw = gw.rawLogs();
  assert.ok(raw.length > 0);
  assert.ok(!raw.includes(TOKEN), 'the token never appears in the logs');
  assert.ok(!raw.includes(OTHER_TOKEN));
});

test('a GET with a body is answered at once: the body is not forwarded and no Content-Length promises it', async (t) => {
  const sims = await startSimulators(1);
  t.after(() => sims[0].close());
  const gw = await startGateway(sims, { settings: { 'gateway.upstream.response.timeout.ms': '3000' } });
  t.after(() => gw.close());
  const id = (await submit(gw)).body.data.execID;
  const url = new URL(`${gw.url}${ENTRANCE}/${encodeURIComponent(id)}/status`);
  const answer = await new Promise<{ status: number; body: string }>((ok, fail) => {
    const r = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'GET', headers: { ...asUser(), 'content-length': '5' } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d)).on('end', () => ok({ status: res.statusCode!, body }));
    });
    r.on('error', fail);
    r.end('hello');
  });
  // Were the Content-Length forwarded, the Entrance would wait for the body and this would be a 504.
  assert.equal(answer.status, 200, answer.body);
  const got = sims[0].received.at(-1)!;
  assert.equal(got.headers['content-length'], undefined);
  assert.equal(got.body, '');
});
