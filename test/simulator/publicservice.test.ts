/**
 * The simulated linkis-ps-publicservice over a whole simulated Linkis (real HTTP on 127.0.0.1, port 0):
 * what linkis-cli, the Java SDK and the Python SDK read after a submit (jobhistory, results, logs), the
 * ownership refusals, the ticket check and list paging.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createTicketCodec } from '../../src/linkis/ticket';
import { startSimulatedLinkis, type SimulatedLinkis } from '../../src/simulator/linkis';
import { call, cookieFor, enc, localDate, REST, submit } from './support';

const NOT_FOUND = 'The corresponding job was not found, or there may be no permission to view the job(没有找到对应的job，也可能是没有查看该job的权限)';

let linkis: SimulatedLinkis;
let ps: string;
let entrance: string;

before(async () => {
  linkis = await startSimulatedLinkis({ entrances: 2 });
  ps = linkis.publicservice.url;
  entrance = linkis.entrances[0]!.url;
});
after(() => linkis.close());
beforeEach(() => {
  for (const e of linkis.entrances) e.reset();
  linkis.publicservice.reset();
  linkis.history.resultRows = 3;
});

const get = (taskID: number, user = 'alice') => call(ps, 'GET', `${REST}/jobhistory/${taskID}/get`, { user });
const fs = (op: string, query: string, user = 'alice') => call(ps, 'GET', `${REST}/filesystem/${op}?${query}`, { user });

async function runToEnd(taskID: number, user = 'alice'): Promise<any> {
  for (let i = 0; i < 10; i++) {
    const task = (await get(taskID, user)).json.data.task;
    if (['Succeed', 'Failed', 'Cancelled'].includes(task.status)) return task;
  }
  throw new Error('job did not finish');
}

describe('publicservice: jobhistory/{id}/get', () => {
  it('answers the fields linkis-cli and the SDKs read, with Linkis\'s method and envelope', async () => {
    const { taskID, execID } = await submit(entrance);
    const r = await get(taskID);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json), ['method', 'status', 'message', 'data']);
    assert.equal(r.json.method, `/api/jobhistory/${taskID}/get`);
    assert.equal(r.json.status, 0);
    const t = r.json.data.task;
    assert.equal(t.taskID, taskID);
    assert.equal(t.status, 'Inited');
    assert.equal(t.strongerExecId, execID);
    assert.equal(t.instance, linkis.entrances[0]!.instance);
    assert.equal(t.execId, 'IDE_alice_spark_0');
    assert.equal(t.umUser, 'alice');
    assert.equal(t.executeUser, 'alice');
    assert.equal(t.progress, '0.0');
    assert.equal(t.errCode, null);
    assert.equal(t.errDesc, null);
    assert.equal(t.executionCode, null, 'the default query leaves the code out');
    assert.equal(t.logPath, `hdfs:///tmp/linkis/log/${localDate(t.createdTime)}/IDE/alice/${taskID}.log`);
    assert.equal(t.resultLocation, null, 'set when the job runs');
    assert.equal(t.requestApplicationName, 'IDE');
    assert.equal(t.runType, 'sql');
    assert.equal(t.engineType, 'spark');
    assert.deepEqual(t.labels, ['engineType:spark-3.2.1', 'userCreator:alice-IDE', 'codeType:sql']);
    assert.equal(typeof t.createdTime, 'number');
    assert.ok(t.updatedTime >= t.createdTime);

    const done = await runToEnd(taskID);
    assert.equal(done.status, 'Succeed');
    assert.equal(done.progress, '1.0');
    assert.equal(done.resultLocation, `hdfs:///tmp/linkis/result/${localDate(t.createdTime)}/IDE/alice/${taskID}`);
  });

  it('moves the job on with each read by its owner, as a status poll does, and pollsPerState counts both', async () => {
    const { taskID, execID } = await submit(entrance);
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push((await get(taskID)).json.data.task.status);
    assert.deepEqual(seen, ['Inited', 'Running', 'Succeed', 'Succeed']);

    const sim = linkis.entrances[0]!;
    sim.pollsPerState = 2;
    const b = await submit(entrance);
    const mixed: string[] = [];
    for (let i = 0; i < 5; i++) {
      // linkis-cli alternates jobhistory and entrance status: both move the same job.
      mixed.push(i % 2 === 0 ? (await get(b.taskID)).json.data.task.status : (await call(entrance, 'GET', `${REST}/entrance/${enc(b.execID)}/status`)).json.data.status);
    }
    assert.deepEqual(mixed, ['Inited', 'Inited', 'Running', 'Running', 'Succeed']);
    sim.pollsPerState = 0;
    const c = await submit(entrance);
    assert.equal((await get(c.taskID)).json.data.task.status, 'Succeed', 'pollsPerState 0 finishes at the first read');
    assert.ok(execID);
  });

  it('does not move a job on for an admin, and refuses another user with the single not-found error', async () => {
    const { taskID } = await submit(entrance);
    const admin = await get(taskID, 'hadoop');
    assert.equal(admin.json.status, 0);
    assert.equal(admin.json.data.task.umUser, 'alice');
    assert.equal((await get(taskID, 'hadoop')).json.data.task.status, 'Inited');
    for (const [id, user] of [[taskID, 'bob'], [999999, 'alice']] as const) {
      const r = await get(id, user);
      assert.equal(r.status, 400);
      assert.equal(r.json.status, 1);
      assert.equal(r.json.message, NOT_FOUND);
      assert.equal(r.json.method, `/api/jobhistory/${id}/get`);
    }
    assert.equal((await get(taskID)).json.data.task.status, 'Inited', 'the refused reads did not move it either');
    const bad = await call(ps, 'GET', `${REST}/jobhistory/abc/get`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, 'Bad Request', 'a non-numeric id fails in Spring, before Linkis');
  });

  it('shows a failed job with errCode and errDesc (not while Running) and no results', async () => {
    const { taskID } = await submit(entrance, 'alice', 'select 1 -- sim:fail');
    const running = (await get(taskID)).json.data.task;
    assert.equal(running.status, 'Inited');
    assert.equal((await get(taskID)).json.data.task.errCode, null);
    const t = await runToEnd(taskID);
    assert.equal(t.status, 'Failed');
    assert.equal(t.errCode, 42018);
    assert.match(t.errDesc, /sim:fail/);
    assert.equal(t.canRetry, true);
    const tree = await fs('getDirFileTrees', `path=${enc(t.resultLocation)}`);
    assert.equal(tree.json.status, 0);
    assert.equal(tree.json.data.dirFileTrees, null);
    const log = await fs('openLog', `path=${enc(t.logPath)}`);
    assert.match(log.json.data.log[0], /ERROR Task .* failed, errCode 42018/);
  });

  it('writes a killed job\'s log and Cancelled state, without results', async () => {
    const { taskID, execID } = await submit(entrance);
    assert.equal((await call(entrance, 'GET', `${REST}/entrance/${enc(execID)}/kill`)).json.status, 0);
    const t = (await get(taskID)).json.data.task;
    assert.equal(t.status, 'Cancelled');
    assert.equal(t.progress, '1.0');
    assert.equal((await fs('openLog', `path=${enc(t.logPath)}`)).json.status, 0);
    assert.equal(linkis.history.files.get(`${t.resultLocation}/_0.dolphin`), undefined);
  });
});

describe('publicservice: results and logs', () => {
  it('lists the result directory and pages 12000 rows by 5000: 5000, 5000, 2000, then an empty page', async () => {
    linkis.history.resultRows = 12000;
    const { taskID } = await submit(entrance);
    const t = await runToEnd(taskID);
    const tree = await fs('getDirFileTrees', `path=${enc(t.resultLocation)}`);
    assert.equal(tree.json.method, '/api/filesystem/getDirFileTrees');
    const root = tree.json.data.dirFileTrees;
    assert.equal(root.path, t.resultLocation);
    assert.equal(root.name, String(taskID));
    assert.equal(root.isLeaf, false);
    assert.equal(root.children.length, 1);
    const leaf = root.children[0];
    assert.equal(leaf.path, `${t.resultLocation}/_0.dolphin`);
    assert.equal(leaf.name, '_0.dolphin');
    assert.equal(leaf.isLeaf, true);
    assert.equal(leaf.parentPath, t.resultLocation);
    assert.match(leaf.properties.size, /^[0-9]+$/);
    assert.ok(Number(leaf.properties.size) > 12000 * 10);
    assert.match(leaf.properties.modifytime, /^[0-9]+$/);

    const sizes: number[] = [];
    for (let page = 1; page <= 4; page++) {
      const r = await fs('openFile', `path=${enc(leaf.path)}&page=${page}&pageSize=5000&charset=utf-8&nullValue=LINKIS_NULL`);
      assert.equal(r.json.status, 0);
      assert.equal(r.json.method, '/api/filesystem/openFile');
      const d = r.json.data;
      assert.equal(d.type, '2');
      assert.equal(d.page, page);
      assert.equal(d.totalPage, 0, 'Linkis 1.8.0 always says 0');
      assert.equal(d.totalLine, d.fileContent.length);
      assert.deepEqual(d.metadata.map((m: any) => m.columnName), ['id', 'name', 'score']);
      assert.deepEqual(Object.keys(d.metadata[0]), ['columnName', 'comment', 'dataType']);
      if (d.fileContent.length) assert.equal(d.fileContent[0][0], String((page - 1) * 5000 + 1));
      sizes.push(d.fileContent.length);
    }
    assert.deepEqual(sizes, [5000, 5000, 2000, 0]);

    // The Python SDK sends no page: the first 5000 rows. NULL cells follow nullValue.
    const first = await fs('openFile', `path=${enc(leaf.path)}&charset=utf8`);
    assert.equal(first.json.data.fileContent.length, 5000);
    assert.deepEqual(first.json.data.fileContent[9], ['10', 'name_10', 'NULL']);
    const dashed = await fs('openFile', `path=${enc(leaf.path)}&pageSize=10&nullValue=-`);
    assert.deepEqual(dashed.json.data.fileContent[9], ['10', 'name_10', '-']);
    const tooMany = await fs('openFile', `path=${enc(leaf.path)}&pageSize=100001`);
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.json.message, /^error code\(错误码\): 80034, .*100,000 rows/);
  });

  it('takes the row count from `sim:rows=N` in the code', async () => {
    const { taskID } = await submit(entrance, 'alice', 'select * from t -- sim:rows=7');
    const t = await runToEnd(taskID);
    const r = await fs('openFile', `path=${enc(`${t.resultLocation}/_0.dolphin`)}`);
    assert.equal(r.json.data.totalLine, 7);
  });

  it('opens the finished log as four strings [error, warn, info, all], each line ending in a newline', async () => {
    const { taskID } = await submit(entrance);
    const t = await runToEnd(taskID);
    const r = await fs('openLog', `path=${enc(t.logPath)}`);
    assert.equal(r.json.status, 0);
    assert.equal(r.json.method, '/api/filesystem/openLog');
    const [e, w, i, all] = r.json.data.log as string[];
    for (const s of [e, w, i, all]) assert.ok(s.endsWith('\n'));
    assert.equal(all.split('\n').length - 1, 31, '30 log lines and the final one');
    for (const l of e.trimEnd().split('\n')) assert.match(l, / ERROR /);
    for (const l of w.trimEnd().split('\n')) assert.match(l, / WARN /);
    assert.match(i, /Your job is accepted/);
    assert.match(all, /finished with state Succeed\n$/);
  });

  it('refuses another user\'s results and logs (80010), and storage refuses what passes the path check (80012, 80018)', async () => {
    const { taskID } = await submit(entrance);
    const t = await runToEnd(taskID);
    const file = `${t.resultLocation}/_0.dolphin`;
    for (const [op, path] of [['getDirFileTrees', t.resultLocation], ['openFile', file], ['openLog', t.logPath]]) {
      const r = await fs(op!, `path=${enc(path!)}`, 'bob');
      assert.equal(r.status, 400, op);
      assert.equal(r.json.status, 1);
      assert.equal(r.json.method, `/api/filesystem/${op}`);
      assert.equal(r.json.data.errorMsg.errCode, 80010);
      assert.equal(r.json.data.errorMsg.serviceKind, 'linkis-ps-publicservice');
      assert.equal(
        r.json.message,
        `error code(错误码): 80010, error message(错误信息): The user: bob has no permission to view the contents of the directory:${path}(该用户:bob无权限查看该目录:${path}的内容)..`,
      );
    }
    // alice's job with creator "bob": its paths contain /bob/, but the files are still alice's.
    const trick = await submit(entrance, 'alice', 'show tables', 'bob');
    const tt = await runToEnd(trick.taskID);
    assert.match(tt.resultLocation, /\/bob\/alice\//);
    const codes = [];
    for (const [op, path] of [['getDirFileTrees', tt.resultLocation], ['openFile', `${tt.resultLocation}/_0.dolphin`], ['openLog', tt.logPath]]) {
      codes.push((await fs(op!, `path=${enc(path!)}`, 'bob')).json.data.errorMsg.errCode);
    }
    assert.deepEqual(codes, [80010, 80012, 80018]);
    // An admin reads everyone's; the owner reads their own.
    assert.equal((await fs('openFile', `path=${enc(file)}`, 'hadoop')).json.status, 0);
    assert.equal((await fs('openLog', `path=${enc(t.logPath)}`, 'alice')).json.status, 0);
  });

  it('answers missing and unknown paths the Linkis way', async () => {
    const missing = await fs('openFile', '');
    assert.equal(missing.json.data.errorMsg.errCode, 80004);
    assert.match(missing.json.message, /The path:null is empty/);
    const gone = 'hdfs:///tmp/linkis/result/2000-01-01/IDE/alice/424242';
    const tree = await fs('getDirFileTrees', `path=${enc(gone)}`);
    assert.equal(tree.json.status, 0);
    assert.equal(tree.json.data.dirFileTrees, null);
    for (const op of ['openFile', 'openLog']) {
      const r = await fs(op, `path=${enc(`${gone}/_0.dolphin`)}`);
      assert.equal(r.status, 400);
      assert.equal(r.json.message, `operation failed(操作失败)s！the reason(原因)：IOException: directory or file not exists: /tmp/linkis/result/2000-01-01/IDE/alice/424242/_0.dolphin`);
      assert.equal(r.json.data.errorMsg.errCode, 0);
    }
    const { taskID } = await submit(entrance);
    const t = await runToEnd(taskID);
    const dir = await fs('openFile', `path=${enc(t.resultLocation)}`);
    assert.equal(dir.json.data.errorMsg.errCode, 54001, 'a directory is no file type FileSource opens');
  });
});

describe('publicservice: jobhistory/list', () => {
  it('pages a user\'s own jobs newest first; totalPage is the row count, as Linkis sends it', async () => {
    const mine: number[] = [];
    for (let i = 0; i < 5; i++) mine.push((await submit(linkis.entrances[i % 2]!.url, 'carol')).taskID);
    const theirs = (await submit(entrance, 'dave')).taskID;
    const list = (q: string, user = 'carol') => call(ps, 'GET', `${REST}/jobhistory/list?${q}`, { user });

    const p1 = await list('pageNow=1&pageSize=2');
    assert.equal(p1.json.method, '/api/jobhistory/list');
    assert.equal(p1.json.data.totalPage, 5);
    assert.deepEqual(p1.json.data.tasks.map((t: any) => t.taskID), [mine[4], mine[3]]);
    assert.equal(p1.json.data.tasks[0].executionCode, 'show tables', 'the list carries the code');
    assert.deepEqual((await list('pageNow=3&pageSize=2')).json.data.tasks.map((t: any) => t.taskID), [mine[0]]);
    assert.deepEqual((await list('pageNow=9&pageSize=2')).json.data.tasks.map((t: any) => t.taskID), [mine[0]], 'past the end: the last page');
    assert.equal((await list('')).json.data.tasks.length, 5, 'pageSize 20 by default');
    assert.deepEqual((await list(`taskID=${mine[2]}`)).json.data.tasks.map((t: any) => t.taskID), [mine[2]]);
    assert.equal((await list(`taskID=${theirs}`)).json.data.totalPage, 0, 'not another user\'s');
    assert.equal((await list('status=Succeed,Failed')).json.data.totalPage, 0);
    assert.equal((await list('status=Inited')).json.data.totalPage, 5);
    assert.equal((await list(`instance=${linkis.entrances[1]!.instance}`)).json.data.totalPage, 2);
    assert.equal((await list('startDate=0&endDate=1')).json.data.totalPage, 0);
    const admin = await list('isAdminView=true&pageSize=100', 'hadoop');
    assert.ok(admin.json.data.tasks.some((t: any) => t.taskID === theirs) && admin.json.data.tasks.some((t: any) => t.taskID === mine[0]));
    assert.equal((await list('isAdminView=true&proxyUser=dave', 'hadoop')).json.data.totalPage, 1);
    assert.equal((await list('isAdminView=true', 'dave')).json.data.totalPage, 1, 'not an admin: own jobs only');
    const invalid = await list('creator=a%20b');
    assert.equal(invalid.json.status, 1);
    assert.equal(invalid.json.message, 'Invalid creator : a b');
    assert.equal((await list('pageNow=x')).json.error, 'Bad Request');
  });
});

describe('publicservice: the ticket check, recording and faults', () => {
  it('answers 401 without a ticket it can read or without the inner-request cookie, and records every request', async () => {
    const path = `${REST}/jobhistory/1/get`;
    const expected = JSON.stringify({ method: path, status: -1, message: 'You are not logged in, please login first!(您尚未登录，请先登录!)', data: {} });
    const other = createTicketCodec('another-crypt-key');
    for (const cookie of [null, cookieFor('alice', false), cookieFor('alice', true, other), 'dataworkcloud_inner_request=true']) {
      const r = await call(ps, 'GET', path, { cookie });
      assert.equal(r.status, 401);
      assert.equal(r.text, expected);
    }
    const rec = linkis.publicservice.received;
    assert.deepEqual(rec.map((r) => r.ticketUser), [null, 'alice', null, null]);
    assert.equal(rec[1]!.method, 'GET');
    assert.equal(rec[1]!.path, path);
    assert.match(String(rec[1]!.headers.cookie), /linkis_user_session_ticket_id_v1=/);
    linkis.publicservice.requireInnerRequestCookie = false;
    assert.notEqual((await call(ps, 'GET', path, { cookie: cookieFor('alice', false) })).status, 401);
    linkis.publicservice.reset();
    assert.equal(linkis.publicservice.requireInnerRequestCookie, true);
    assert.equal(linkis.publicservice.received.length, 0);
  });

  it('answers unknown paths, wrong methods and oversized bodies with envelopes; fault modes apply', async () => {
    const nf = await call(ps, 'GET', `${REST}/configuration/nothing`);
    assert.equal(nf.status, 404);
    assert.equal(nf.json.status, 1);
    const post = await call(ps, 'POST', `${REST}/jobhistory/list`, { body: {} });
    assert.equal(post.status, 405);
    const big = await call(ps, 'POST', `${REST}/jobhistory/list`, { body: 'x'.repeat(2 * 1024 * 1024) });
    assert.equal(big.status, 413);
    assert.equal(big.json.status, 1);
    linkis.publicservice.mode = 'html-error';
    const html = await call(ps, 'GET', `${REST}/jobhistory/list`);
    assert.equal(html.status, 502);
    assert.match(html.text, /502 Bad Gateway/);
  });
});
