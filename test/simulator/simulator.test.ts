/**
 * The Entrance simulator against its own HTTP server (port 0), spoken to with fetch the way the gateway
 * will speak to it: ticket cookie + inner-request cookie.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createEntranceSimulator, type EntranceSimulator, type SimulatorOptions } from '../../src/simulator/entrance';
import { hugeLogBody } from '../../src/simulator/log';
import { createTicketCodec } from '../../src/linkis/ticket';
import { call as callAs, codec, cookieFor, type Reply } from './support';

const P = '/api/rest_j/v1/entrance';

/** A request to the simulator as `user` (default hadoop); the shared helper in support.ts does the work. */
function call(sim: EntranceSimulator, method: string, path: string, opts: { user?: string; cookie?: string | null; body?: unknown } = {}): Promise<Reply> {
  return callAs(sim.url, method, path, { user: 'hadoop', ...opts });
}

function submitBody(user = 'hadoop', creator = 'IDE', engine = 'spark-3.2.1', code = 'show tables') {
  return {
    executionContent: { code, runType: 'sql' },
    params: { variable: {}, configuration: { runtime: {}, startup: {} } },
    labels: { engineType: engine, userCreator: `${user}-${creator}` },
    source: { scriptPath: '/tmp/a.sql' },
    executeUser: user,
  };
}

const seedBody = {
  method: '/api/rest_j/v1/entrance/execute',
  params: { variable: { k1: 'v1' }, configuration: { special: { k2: 'v2' }, runtime: { k3: 'v3' }, startup: { k4: 'v4' } } },
  executeApplicationName: 'spark',
  executionCode: 'show tables',
  runType: 'sql',
  source: { scriptPath: '/home/Linkis/Linkis.sql' },
};

/** LINKIS.md §1, 1.x: "exec_id" + pad3(len app) + pad3(len instances) + app + instances + shortId. */
function parse1x(execId: string) {
  assert.ok(execId.startsWith('exec_id'), execId);
  const appLen = Number(execId.slice(7, 10));
  const instLen = Number(execId.slice(10, 13));
  const app = execId.slice(13, 13 + appLen);
  const instance = execId.slice(13 + appLen, 13 + appLen + instLen);
  return { app, instance, shortId: execId.slice(13 + appLen + instLen) };
}

/** LINKIS.md §1, 0.x: three 2-digit lengths (creator, app, instance), the three strings, the short id. */
function parse0x(execId: string) {
  const c = Number(execId.slice(0, 2));
  const a = Number(execId.slice(2, 4));
  const i = Number(execId.slice(4, 6));
  return {
    creator: execId.slice(6, 6 + c),
    app: execId.slice(6 + c, 6 + c + a),
    instance: execId.slice(6 + c + a, 6 + c + a + i),
    shortId: execId.slice(6 + c + a + i),
  };
}

const enc = encodeURIComponent;

function withSim(opts: SimulatorOptions = {}): { sim: () => EntranceSimulator } {
  let sim: EntranceSimulator;
  before(async () => {
    sim = await createEntranceSimulator(opts);
  });
  after(() => sim.close());
  return { sim: () => sim };
}

describe('simulator: 1.x submit and follow-ups', () => {
  const s = withSim({ logLines: 30 });

  it('answers submit with an envelope, an execID naming this instance and increasing taskIDs', async () => {
    const sim = s.sim();
    sim.reset();
    const r = await call(sim, 'POST', `${P}/submit`, { body: submitBody() });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json;charset=UTF-8');
    assert.equal(r.headers.get('content-length'), String(Buffer.byteLength(r.text)));
    assert.deepEqual(Object.keys(r.json), ['method', 'status', 'message', 'data']);
    assert.equal(r.json.method, `${P}/submit`);
    assert.equal(r.json.status, 0);
    assert.equal(r.json.data.taskID, 1);
    const id = parse1x(r.json.data.execID);
    assert.deepEqual(id, { app: 'linkis-cg-entrance', instance: sim.instance, shortId: 'IDE_hadoop_spark_0' });
    assert.equal(sim.instance, `127.0.0.1:${sim.port}`);

    const r2 = await call(sim, 'POST', `${P}/submit`, { body: submitBody() });
    assert.equal(r2.json.data.taskID, 2);
    assert.equal(parse1x(r2.json.data.execID).shortId, 'IDE_hadoop_spark_1');

    const job = sim.jobs.get(r.json.data.execID)!;
    assert.equal(job.user, 'hadoop');
    assert.equal(job.bodyExecuteUser, 'hadoop');
    assert.equal(job.bodyUserCreator, 'hadoop-IDE');
    assert.equal(job.code, 'show tables');
  });

  it('moves Inited -> Running -> Succeed, one state per status poll, and reports progress', async () => {
    const sim = s.sim();
    const { json } = await call(sim, 'POST', `${P}/submit`, { body: submitBody() });
    const execID: string = json.data.execID;
    const progress0 = await call(sim, 'GET', `${P}/${enc(execID)}/progress`);
    assert.equal(progress0.json.data.progress, 0);
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await call(sim, 'GET', `${P}/${enc(execID)}/status`);
      assert.equal(r.status, 200);
      assert.equal(r.json.method, `${P}/${execID}/status`);
      assert.equal(r.json.data.execID, execID);
      seen.push(r.json.data.status);
      if (i === 1) {
        const mid = await call(sim, 'GET', `${P}/${enc(execID)}/progress`);
        assert.equal(mid.json.data.progress, 0.5);
        assert.equal(mid.json.data.progressInfo[0].totalTasks, 10);
      }
    }
    assert.deepEqual(seen, ['Inited', 'Running', 'Succeed', 'Succeed']);
    const done = await call(sim, 'GET', `${P}/${enc(execID)}/progressWithResource`);
    assert.equal(done.json.status, 0);
    assert.equal(done.json.data.progress, 1);
    assert.ok('yarnResource' in done.json.data);
  });

  it('honours pollsPerState changed at runtime', async () => {
    const sim = s.sim();
    sim.pollsPerState = 2;
    try {
      const { json } = await call(sim, 'POST', `${P}/submit`, { body: submitBody() });
      const seen: string[] = [];
      for (let i = 0; i < 5; i++) seen.push((await call(sim, 'GET', `${P}/${enc(json.data.execID)}/status`)).json.data.status);
      assert.deepEqual(seen, ['Inited', 'Inited', 'Running', 'Running', 'Succeed']);
    } finally {
      sim.pollsPerState = 1;
    }
  });

  it('pages the log by fromLine and size, in four level strings', async () => {
    const sim = s.sim();
    const { json } = await call(sim, 'POST', `${P}/submit`, { body: submitBody() });
    const base = `${P}/${enc(json.data.execID)}/log`;
    const all: string[] = [];
    let fromLine = 1;
    for (;;) {
      const r = await call(sim, 'GET', `${base}?fromLine=${fromLine}&size=8`);
      assert.equal(r.json.status, 0);
      assert.equal(r.json.method, `${P}/${json.data.execID}/log`);
      const log: string[] = r.json.data.log;
      assert.equal(log.length, 4);
      if (log[3] === '') {
        assert.equal(r.json.data.fromLine, fromLine);
        break;
      }
      const lines = log[3].split('\n');
      assert.ok(lines.length <= 8);
      assert.equal(r.json.data.fromLine, fromLine + lines.length);
      for (const l of log[0] ? log[0].split('\n') : []) assert.match(l, / ERROR /);
      for (const l of log[1] ? log[1].split('\n') : []) assert.match(l, / WARN /);
      for (const l of log[2].split('\n')) assert.match(l, / INFO /);
      all.push(...lines);
      fromLine = r.json.data.fromLine;
    }
    assert.equal(all.length, 30);
    assert.match(all[0], /Your job is accepted/);
    assert.match(all[12], / ERROR .* line 13 /);
    assert.match(all[6], / WARN .* line 7 /);

    // Linkis quirks: fromLine 0 reads from line 1 but answers fromLine = lines read; size < 0 means 10000.
    const zero = await call(sim, 'GET', `${base}?fromLine=0&size=5`);
    assert.equal(zero.json.data.fromLine, 5);
    assert.equal(zero.json.data.log[3].split('\n')[0], all[0]);
    const everything = await call(sim, 'GET', `${base}?fromLine=1&size=-1`);
    assert.equal(everything.json.data.log[3].split('\n').length, 30);
    const defaults = await call(sim, 'GET', base);
    assert.equal(defaults.json.data.fromLine, 30);
    const oneString = await call(sim, 'GET', `${base}?fromLine=1&size=3&distinctLevel=false`);
    assert.equal(typeof oneString.json.data.log, 'string');
    const bad = await call(sim, 'GET', `${base}?fromLine=abc`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.status, 1);
    assert.match(bad.json.message, /NumberFormatException/);
  });

  it('kills a job (Cancelled), pause is accepted, runningtask counts unfinished jobs', async () => {
    const sim = s.sim();
    sim.reset();
    const a = (await call(sim, 'POST', `${P}/submit`, { body: submitBody() })).json.data.execID;
    const b = (await call(sim, 'POST', `${P}/submit`, { body: submitBody() })).json.data.execID;
    let m = await call(sim, 'GET', `${P}/operation/metrics/runningtask?instance=${enc(sim.instance)}`);
    assert.deepEqual(m.json.data, { runningTaskNumber: 2, isCompleted: false });
    const k = await call(sim, 'GET', `${P}/${enc(a)}/kill`);
    assert.equal(k.json.status, 0);
    assert.equal(k.json.data.execID, a);
    assert.equal((await call(sim, 'GET', `${P}/${enc(a)}/status`)).json.data.status, 'Cancelled');
    const p = await call(sim, 'GET', `${P}/${enc(b)}/pause`);
    assert.equal(p.json.status, 0);
    const kj = await call(sim, 'POST', `${P}/${enc(b)}/killJobs`, { body: { idList: [b, 'exec_id018011linkis-cg-entrance127.0.0.1:1IDE_x_spark_9'], taskIDList: [2, 99] } });
    assert.equal(kj.json.status, 0);
    assert.equal(kj.json.data.messages.length, 2);
    assert.equal(kj.json.data.messages[0].data.execID, b);
    assert.match(kj.json.data.messages[1].message, /Forced Kill/);
    assert.equal(sim.jobs.get(b)!.state, 'Cancelled');
    m = await call(sim, 'GET', `${P}/operation/metrics/runningtask`);
    assert.deepEqual(m.json.data, { runningTaskNumber: 0, isCompleted: true });
  });

  it('refuses another user\'s job, unknown ids, bad bodies and unknown paths with envelopes', async () => {
    const sim = s.sim();
    const execID = (await call(sim, 'POST', `${P}/submit`, { body: submitBody() })).json.data.execID;
    const other = await call(sim, 'GET', `${P}/${enc(execID)}/status`, { user: 'alice' });
    assert.equal(other.status, 400);
    assert.equal(other.json.status, 1);
    assert.match(other.json.message, /no permission/);
    const kill = await call(sim, 'GET', `${P}/${enc(execID)}/kill`, { user: 'alice' });
    assert.equal(kill.json.status, 1);
    assert.equal(kill.json.message, 'You have no permission to kill this job, excecute by user:hadoop');
    assert.notEqual(sim.jobs.get(execID)!.state, 'Cancelled');
    const log = await call(sim, 'GET', `${P}/${enc(execID)}/log?fromLine=1`, { user: 'alice' });
    assert.equal(log.json.status, 1);

    const unknown = `exec_id018${String(sim.instance.length).padStart(3, '0')}linkis-cg-entrance${sim.instance}IDE_hadoop_spark_999`;
    const u = await call(sim, 'GET', `${P}/${enc(unknown)}/status`);
    assert.equal(u.status, 400);
    assert.deepEqual(Object.keys(u.json), ['method', 'status', 'message', 'data']);
    assert.equal(u.json.status, 1);
    assert.match(u.json.message, /ID 对应的job为空/);
    assert.equal((await call(sim, 'GET', `${P}/${enc(unknown)}/log`)).json.status, 1);
    assert.equal((await call(sim, 'GET', `${P}/${enc(unknown)}/progress`)).json.status, 1);
    assert.equal((await call(sim, 'GET', `${P}/${enc(unknown)}/kill`)).json.status, 1);
    assert.equal((await call(sim, 'GET', `${P}/garbage-id/status`)).json.status, 1);

    const badJson = await call(sim, 'POST', `${P}/submit`, { body: '{"executionContent":' });
    assert.equal(badJson.status, 400);
    assert.equal(badJson.json.status, 1);
    const wrongLabel = await call(sim, 'POST', `${P}/submit`, { body: submitBody('alice') });
    assert.equal(wrongLabel.json.status, 1);
    assert.match(wrongLabel.json.message, /must be the same as ExecuteUser/);
    const noLabels = await call(sim, 'POST', `${P}/submit`, { body: { executionContent: { code: '1' } } });
    assert.equal(noLabels.json.status, 1);

    for (const path of [`${P}/nope`, '/api/rest_j/v1/other/thing', `${P}/${enc(execID)}/explode`]) {
      const nf = await call(sim, 'GET', path);
      assert.equal(nf.status, 404, path);
      assert.equal(nf.json.status, 1);
      assert.equal(nf.json.method, path);
    }
    const wrongVerb = await call(sim, 'GET', `${P}/submit`);
    assert.equal(wrongVerb.status, 405);
    assert.equal(wrongVerb.json.status, 1);
  });

  it('resolves an execID by its short id alone, as Linkis does (the misrouting hazard of issue #5132)', async () => {
    const sim = s.sim();
    sim.reset();
    const own = (await call(sim, 'POST', `${P}/submit`, { body: submitBody() })).json.data.execID;
    const foreign = 'exec_id018016linkis-cg-entrance10.244.0.13:9104IDE_hadoop_spark_0';
    assert.notEqual(own, foreign);
    const r = await call(sim, 'GET', `${P}/${enc(foreign)}/status`);
    assert.equal(r.json.status, 0);
    assert.equal(r.json.data.execID, foreign);
    // By numeric taskID too.
    assert.equal((await call(sim, 'GET', `${P}/1/status`)).json.status, 0);
  });
});

describe('simulator: strict lookup', () => {
  const s = withSim({ lookup: 'execId' });
  it('knows only the execIDs it issued', async () => {
    const sim = s.sim();
    await call(sim, 'POST', `${P}/submit`, { body: submitBody() });
    const r = await call(sim, 'GET', `${P}/${enc('exec_id018016linkis-cg-entrance10.244.0.13:9104IDE_hadoop_spark_0')}/status`);
    assert.equal(r.json.status, 1);
  });
});

describe('simulator: 0.x execIDs', () => {
  const s = withSim({ execIdFormat: '0.x', instance: 'bdpdwc010004:10087' });
  it('answers the seed execute body with a 0.x execID (percent-encoded follow-ups work)', async () => {
    const sim = s.sim();
    const r = await call(sim, 'POST', `${P}/execute`, { body: { ...seedBody, requestApplicationName: 'IDE' }, user: 'johnnwang' });
    assert.equal(r.json.status, 0);
    assert.equal(r.json.method, `${P}/execute`);
    const execID: string = r.json.data.execID;
    assert.equal(execID, '030518IDEsparkbdpdwc010004:10087IDE_johnnwang_0');
    assert.deepEqual(parse0x(execID), { creator: 'IDE', app: 'spark', instance: sim.instance, shortId: 'IDE_johnnwang_0' });
    const path = `${P}/${enc(execID)}/status`;
    assert.ok(path.includes('%3A'));
    const st = await call(sim, 'GET', path, { user: 'johnnwang' });
    assert.equal(st.json.status, 0);
    assert.equal(st.json.data.status, 'Inited');

    const sub = await call(sim, 'POST', `${P}/submit`, { body: submitBody('johnnwang', 'LINKISCLI', 'hive-2.3.3'), user: 'johnnwang' });
    assert.deepEqual(parse0x(sub.json.data.execID), { creator: 'LINKISCLI', app: 'hive', instance: sim.instance, shortId: 'LINKISCLI_johnnwang_0' });
  });
});

describe('simulator: authentication (SecurityFilter)', () => {
  const s = withSim();
  const expected = (path: string) =>
    JSON.stringify({ method: path, status: -1, message: 'You are not logged in, please login first!(您尚未登录，请先登录!)', data: {} });

  it('answers 401 to a ticket minted with another crypt key, a missing inner-request cookie, or no cookie', async () => {
    const sim = s.sim();
    sim.reset();
    const path = `${P}/submit`;
    const otherKey = createTicketCodec('another-crypt-key');
    for (const cookie of [cookieFor('hadoop', true, otherKey), cookieFor('hadoop', false), null, 'dataworkcloud_inner_request=true']) {
      const r = await call(sim, 'POST', path, { cookie, body: submitBody() });
      assert.equal(r.status, 401, String(cookie));
      assert.equal(r.text, expected(path));
      assert.equal(r.headers.get('content-type'), 'application/json;charset=UTF-8');
    }
    assert.equal(sim.jobs.size, 0);
    // Recorded before auth, with the user the ticket names when it decrypts.
    assert.equal(sim.received.length, 4);
    assert.deepEqual(
      sim.received.map((r) => r.ticketUser),
      [null, 'hadoop', null, null],
    );
    assert.equal(sim.received[0].method, 'POST');
    assert.equal(sim.received[0].path, path);
    assert.match(sim.received[0].body, /executionContent/);
    assert.ok(sim.received[0].headers.cookie);
    assert.equal(typeof sim.received[0].at, 'number');
  });

  it('reads the first ticket cookie of a name, like a servlet container', async () => {
    const sim = s.sim();
    const r = await call(sim, 'GET', `${P}/operation/metrics/runningtask`, {
      cookie: `linkis_user_session_ticket_id_v1=forged; ${cookieFor('hadoop')}`,
    });
    assert.equal(r.status, 401);
  });

  it('accepts a ticket alone when requireInnerRequestCookie is off', async () => {
    const sim = s.sim();
    sim.requireInnerRequestCookie = false;
    try {
      const r = await call(sim, 'GET', `${P}/operation/metrics/runningtask`, { cookie: cookieFor('hadoop', false) });
      assert.equal(r.status, 200);
    } finally {
      sim.requireInnerRequestCookie = true;
    }
  });

  it('supports another crypt key and ticket cookie name', async () => {
    const other = createTicketCodec('k3y-of-mine');
    const sim = await createEntranceSimulator({ cryptKey: 'k3y-of-mine', ticketCookie: 'bdp-user-ticket-id' });
    try {
      const good = await call(sim, 'GET', `${P}/operation/metrics/runningtask`, { cookie: `bdp-user-ticket-id=${other.mint('u')}; dataworkcloud_inner_request=true` });
      assert.equal(good.status, 200);
      const bad = await call(sim, 'GET', `${P}/operation/metrics/runningtask`, { cookie: cookieFor('u', true, other) });
      assert.equal(bad.status, 401);
    } finally {
      await sim.close();
    }
  });
});

describe('simulator: huge log', () => {
  const s = withSim();

  it('streams a 20 MB log envelope of the exact size, chunked, that parses', async () => {
    const sim = s.sim();
    const execID = (await call(sim, 'POST', `${P}/submit`, { body: submitBody() })).json.data.execID;
    for (const bytes of [20 * 1024 * 1024, 20 * 1024 * 1024 + 1]) {
      sim.hugeLogBytes = bytes;
      const res = await fetch(`${sim.url}${P}/${enc(execID)}/log?fromLine=1&size=100`, { headers: { cookie: cookieFor('hadoop') } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), null);
      assert.equal(res.headers.get('transfer-encoding'), 'chunked');
      const buf = Buffer.from(await res.arrayBuffer());
      assert.equal(buf.length, bytes);
      const json = JSON.parse(buf.toString('utf8'));
      assert.deepEqual(Object.keys(json), ['method', 'status', 'message', 'data']);
      assert.equal(json.status, 0);
      assert.equal(json.data.execID, execID);
      const [e, w, info, all] = json.data.log;
      assert.equal(e, '');
      assert.equal(w, '');
      assert.equal(info, all);
      assert.equal(json.data.fromLine, 1 + all.split('\n').filter((l: string) => l !== '').length);
    }
    sim.hugeLogBytes = undefined;
    const small = await call(sim, 'GET', `${P}/${enc(execID)}/log?fromLine=1&size=2`);
    assert.equal(small.json.data.fromLine, 3);
  });

  it('generates the body only as fast as it is consumed (backpressure)', async () => {
    const body = hugeLogBody('/m', 'id', 200 * 1024 * 1024, 1);
    let taken = 0;
    const stuck = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, _cb) {
        taken += chunk.length; // never acknowledged: a reader that stopped reading
      },
    });
    body.pipe(stuck);
    await new Promise((r) => setTimeout(r, 100));
    const generated = taken + stuck.writableLength + body.readableLength;
    assert.ok(generated < 1024 * 1024, `generated ${generated} bytes for a stalled reader`);
    body.destroy();
  });

  it('lets a paused HTTP reader resume and still delivers the whole body', async () => {
    const sim = s.sim();
    const execID = (await call(sim, 'POST', `${P}/submit`, { body: submitBody() })).json.data.execID;
    const total = 64 * 1024 * 1024;
    sim.hugeLogBytes = total;
    try {
      const got = await new Promise<{ early: number; length: number; tail: string }>((resolve, reject) => {
        const req = request(`${sim.url}${P}/${enc(execID)}/log`, { headers: { cookie: cookieFor('hadoop') } }, (res) => {
          let length = 0;
          let tail = '';
          res.on('data', (c: Buffer) => {
            length += c.length;
            tail = (tail + c.toString('latin1')).slice(-64);
          });
          res.pause();
          setTimeout(() => {
            const early = res.readableLength + length;
            res.resume();
            res.on('end', () => resolve({ early, length, tail }));
          }, 300);
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(got.length, total);
      assert.match(got.tail, /"\],"fromLine":[0-9]+ *\}\}$/);
    } finally {
      sim.hugeLogBytes = undefined;
    }
  });
});

describe('simulator: fault modes', () => {
  const s = withSim();

  it('hang never answers', async () => {
    const sim = s.sim();
    sim.mode = 'hang';
    try {
      await assert.rejects(
        fetch(`${sim.url}${P}/operation/metrics/runningtask`, { headers: { cookie: cookieFor('hadoop') }, signal: AbortSignal.timeout(300) }),
        (e: Error) => e.name === 'TimeoutError' || e.name === 'AbortError',
      );
      assert.equal(sim.received.at(-1)!.path, `${P}/operation/metrics/runningtask`);
    } finally {
      sim.mode = 'normal';
    }
  });

  it('garbage is a 200 that is not JSON', async () => {
    const sim = s.sim();
    sim.mode = 'garbage';
    try {
      const r = await call(sim, 'GET', `${P}/operation/metrics/runningtask`);
      assert.equal(r.status, 200);
      assert.equal(r.json, undefined);
      assert.throws(() => JSON.parse(r.text));
    } finally {
      sim.mode = 'normal';
    }
  });

  it('html-error is a 502 HTML page', async () => {
    const sim = s.sim();
    sim.mode = 'html-error';
    try {
      const r = await call(sim, 'GET', `${P}/operation/metrics/runningtask`);
      assert.equal(r.status, 502);
      assert.match(r.headers.get('content-type')!, /text\/html/);
      assert.match(r.text, /<title>502 Bad Gateway<\/title>/);
    } finally {
      sim.mode = 'normal';
    }
  });

  it('spring-error is Spring Boot\'s 500 JSON', async () => {
    const sim = s.sim();
    sim.mode = 'spring-error';
    try {
      const r = await call(sim, 'POST', `${P}/submit?x=1`, { body: submitBody() });
      assert.equal(r.status, 500);
      assert.deepEqual(Object.keys(r.json), ['timestamp', 'status', 'error', 'path']);
      assert.equal(r.json.status, 500);
      assert.equal(r.json.error, 'Internal Server Error');
      assert.equal(r.json.path, `${P}/submit`);
      assert.ok(!Number.isNaN(Date.parse(r.json.timestamp)));
    } finally {
      sim.mode = 'normal';
    }
  });

  it('die-mid-response sends headers and part of the body, then cuts the connection', async () => {
    const sim = s.sim();
    sim.reset();
    sim.mode = 'die-mid-response';
    try {
      const partial = await new Promise<{ status: number; declared: number; got: number; aborted: boolean }>((resolve, reject) => {
        const req = request(`${sim.url}${P}/submit`, { method: 'POST', headers: { cookie: cookieFor('hadoop'), 'content-type': 'application/json' } }, (res) => {
          let got = 0;
          res.on('data', (c: Buffer) => (got += c.length));
          res.on('error', () => resolve({ status: res.statusCode!, declared: Number(res.headers['content-length']), got, aborted: true }));
          res.on('end', () => resolve({ status: res.statusCode!, declared: Number(res.headers['content-length']), got, aborted: false }));
        });
        req.on('error', reject);
        req.end(JSON.stringify(submitBody()));
      });
      assert.equal(partial.status, 200);
      assert.ok(partial.got > 0 && partial.got < partial.declared, JSON.stringify(partial));
      assert.equal(partial.aborted, true);
      // The submit itself happened: only its answer was lost.
      assert.equal(sim.jobs.size, 1);
      await assert.rejects(call(sim, 'GET', `${P}/operation/metrics/runningtask`));
    } finally {
      sim.mode = 'normal';
    }
    const r = await call(sim, 'GET', `${P}/operation/metrics/runningtask`);
    assert.equal(r.status, 200);
  });

  it('die-mid-response cuts a huge log too', async () => {
    const sim = s.sim();
    sim.reset();
    const execID = (await call(sim, 'POST', `${P}/submit`, { body: submitBody() })).json.data.execID;
    sim.hugeLogBytes = 50 * 1024 * 1024;
    sim.mode = 'die-mid-response';
    await assert.rejects(async () => {
      const res = await fetch(`${sim.url}${P}/${enc(execID)}/log`, { headers: { cookie: cookieFor('hadoop') } });
      await res.arrayBuffer();
    });
    sim.reset();
  });

  it('reset() puts the knobs back and forgets requests and jobs', async () => {
    const sim = s.sim();
    sim.mode = 'garbage';
    sim.pollsPerState = 5;
    sim.reset();
    assert.equal(sim.mode, 'normal');
    assert.equal(sim.pollsPerState, 1);
    assert.equal(sim.received.length, 0);
    assert.equal(sim.jobs.size, 0);
    const r = await call(sim, 'POST', `${P}/submit`, { body: submitBody() });
    assert.equal(r.json.data.taskID, 1);
  });
});

describe('simulator: recording bound', () => {
  const s = withSim({ maxRecorded: 3 });
  it('keeps only the newest maxRecorded requests', async () => {
    const sim = s.sim();
    for (let i = 0; i < 5; i++) await call(sim, 'GET', `${P}/operation/metrics/runningtask?i=${i}`);
    assert.deepEqual(
      sim.received.map((r) => r.path.slice(-3)),
      ['i=2', 'i=3', 'i=4'],
    );
  });
});

describe('simulator: close and CLI', () => {
  it('close() ends even with a hung request outstanding', async () => {
    const sim = await createEntranceSimulator({});
    sim.mode = 'hang';
    const pending = fetch(`${sim.url}${P}/operation/metrics/runningtask`, { headers: { cookie: cookieFor('hadoop') } }).then(
      () => 'answered',
      () => 'failed',
    );
    while (sim.received.length === 0) await new Promise((r) => setTimeout(r, 10));
    await sim.close();
    assert.equal(await pending, 'failed');
  });

  it('main.ts starts a simulator, prints its URL and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/simulator/main.ts', '--port', '0', '--format', '0.x', '--instance', 'sim-a:9104'], {
      cwd: `${__dirname}/../..`,
      env: { ...process.env, LINKIS_CRYPT_KEY: 'bdp-for-server' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const line = out.split('\n');
          if (line.length > 1) resolve(line[0]);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      assert.match(url, /^http:\/\/127\.0\.0\.1:[0-9]+$/);
      const res = await fetch(`${url}${P}/execute`, {
        method: 'POST',
        headers: { cookie: cookieFor('hadoop'), 'content-type': 'application/json' },
        body: JSON.stringify(seedBody),
      });
      const json = (await res.json()) as any;
      assert.equal(parse0x(json.data.execID).instance, 'sim-a:9104');
      const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exit, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
