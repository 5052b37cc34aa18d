/**
 * Stock Linkis clients, replayed call by call (test/support/linkis-clients.ts, linkis-sdks.ts), run whole
 * jobs through the real gateway process in front of a simulated Linkis (two Entrances, publicservice, one
 * job history): linkis-cli with token and static authentication, the Java SDK with both strategies, the
 * Python SDK. Each completes as the proxied user; another user's token reads nothing of it; an allowlist
 * edit ends a session and a token client within 2 s.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSimulatedLinkis, type SimulatedLinkis } from '../src/simulator/linkis';
import { LinkisHttp, linkisCliJob, linkisCliKill, linkisCliSubmitBody } from './support/linkis-clients';
import { JavaSdkClient, pythonSdkExecute } from './support/linkis-sdks';
import { startMain, writeConf, type MainProcess } from './support/process-harness';

const ALICE_TOKEN = 'alice-service-token-0123456789abcdef';
const BOB_TOKEN = 'bob-service-token-0123456789abcdef0';

describe('stock Linkis clients through the gateway process', () => {
  let linkis: SimulatedLinkis;
  let gw: MainProcess;
  let conf: string;
  before(async () => {
    linkis = await startSimulatedLinkis({ entrances: 2 });
    conf = writeConf(
      {
        'gateway.entrance.instances': linkis.entrances.map((e) => `${e.instance}=${e.url}`).join(','),
        'gateway.publicservice.instances': `${linkis.publicservice.instance}=${linkis.publicservice.url}`,
      },
      `# the BI service\n${ALICE_TOKEN}=alice\n# the reporting service\n${BOB_TOKEN}=bob\n`,
    );
    gw = await startMain(conf);
  });
  after(async () => {
    await gw?.stop();
    await linkis?.close();
  });

  /** Every request any Linkis service got for this task acted as `user` and carried no client credential. */
  function assertServicesSawOnly(user: string) {
    for (const svc of [...linkis.entrances, linkis.publicservice]) {
      for (const r of svc.received) {
        assert.equal(r.ticketUser, user, `${svc.instance} ${r.method} ${r.path}`);
        for (const h of ['token-code', 'token-user', 'validation-code', 'proxy-user']) assert.equal(r.headers[h], undefined);
        assert.doesNotMatch(String(r.headers.cookie), /linkis_gateway_session|Token-|service-token/);
      }
    }
  }
  const forget = () => [...linkis.entrances, linkis.publicservice].forEach((s) => s.received.splice(0));

  it('linkis-cli, token strategy: submit, poll, logs, every result page, as the submit user', async () => {
    forget();
    const job = await linkisCliJob(gw.url, { strategy: 'token', user: 'alice', token: ALICE_TOKEN, code: 'select * from t' });
    assert.equal(job.status, 'Succeed');
    assert.deepEqual(job.columns, ['id', 'name', 'score']);
    assert.equal(job.rows.length, 3);
    assert.match(job.log, /\S/);
    assert.equal(linkis.history.get(Number(job.taskID))?.submitUser, 'alice');
    assertServicesSawOnly('alice');
    assert.ok(job.http.calls.every((c) => c.status === 0), JSON.stringify(job.http.calls.filter((c) => c.status !== 0)));
    assert.ok(job.http.calls.some((c) => c.path.endsWith('/filesystem/openLog')), 'the finished log comes from publicservice');
  });

  it('linkis-cli, static strategy: login with the token as password; 12,000 rows in pages of 5,000', async () => {
    forget();
    const job = await linkisCliJob(gw.url, { strategy: 'static', user: 'alice', token: ALICE_TOKEN, code: 'select 1 -- sim:rows=12000' });
    assert.equal(job.status, 'Succeed');
    assert.equal(job.rows.length, 12_000);
    const pages = job.http.calls.filter((c) => c.path.endsWith('/filesystem/openFile'));
    assert.equal(pages.length, 4, 'three pages and the empty one that ends the loop');
    assert.ok(job.http.jar.has('linkis_gateway_session'));
    assertServicesSawOnly('alice');
  });

  it('linkis-cli -proxyUser naming another user is refused, not run as someone else', async () => {
    const http = new LinkisHttp(gw.url, () => ({ 'Token-User': 'alice', 'Token-Code': ALICE_TOKEN }));
    const jobs = () => linkis.entrances.reduce((n, e) => n + e.jobs.size, 0);
    const before = jobs();
    const r = await http.send('POST', 'entrance/submit', undefined, linkisCliSubmitBody('alice', 'select 1', 'bob'));
    assert.equal(r.http, 403);
    assert.equal(r.env.data.errorCode, 'EXECUTE_USER_MISMATCH');
    assert.equal(jobs(), before, 'no job was created');
  });

  it('linkis-cli --kill <taskID>: jobhistory, kill by strongerExecId, Cancelled', async () => {
    for (const e of linkis.entrances) e.pollsPerState = 50;
    try {
      const http = new LinkisHttp(gw.url, () => ({ 'Token-User': 'alice', 'Token-Code': ALICE_TOKEN }));
      const { taskID } = await http.ok('POST', 'entrance/submit', undefined, linkisCliSubmitBody('alice', 'select sleep(100)'));
      assert.equal(await linkisCliKill(http, String(taskID)), 'Cancelled');
    } finally {
      for (const e of linkis.entrances) e.pollsPerState = 1;
    }
  });

  it('Java SDK, TokenAuthenticationStrategy and StaticAuthenticationStrategy: whole jobs; a 401 logs in again once', async () => {
    for (const strategy of ['token', 'static'] as const) {
      forget();
      const sdk = new JavaSdkClient(gw.url, { strategy, user: 'alice', authTokenValue: ALICE_TOKEN });
      const job = await sdk.runJob('select * from t');
      assert.equal(job.status, 'Succeed', strategy);
      assert.equal(job.rows.length, 3);
      assert.match(job.log, /\S/);
      assertServicesSawOnly('alice');
      assert.ok((await sdk.list()).tasks.some((t: any) => String(t.taskID) === job.taskID), 'jobhistory/list');
      if (strategy === 'static') {
        assert.equal(sdk.logins, 1);
        await sdk.http.send('POST', 'user/logout');
        await sdk.getJobInfo(job.taskID); // 401 → login → retried
        assert.equal(sdk.logins, 2);
      }
    }
  });

  it('Python SDK: login, submit, poll jobhistory, result files; a wrong password is its error', async () => {
    forget();
    const r = await pythonSdkExecute(`${gw.url}`, 'alice', ALICE_TOKEN, 'select * from t');
    assert.equal(r.error, '');
    assert.equal(r.total, 3);
    assertServicesSawOnly('alice');
    const wrong = await pythonSdkExecute(gw.url, 'alice', 'not-the-token-0123456789', 'select 1');
    assert.match(wrong.error, /token .* is not valid/i);
  });

  it('taskID follow-ups reach the Entrance the job history names, with jobInstanceKey', async () => {
    const http = new LinkisHttp(gw.url, () => ({ 'Token-User': 'alice', 'Token-Code': ALICE_TOKEN }));
    const { taskID, execID } = await http.ok('POST', 'entrance/submit', undefined, linkisCliSubmitBody('alice', 'select 1'));
    const owner = linkis.entrances.find((e) => execID.includes(e.instance) || execID.includes(encodeURIComponent(e.instance)))!;
    const other = linkis.entrances.find((e) => e !== owner)!;
    forget();
    for (const action of ['status', 'progress', 'log']) await http.send('GET', `entrance/${taskID}/${action}`);
    assert.equal(other.received.length, 0, 'never another Entrance');
    assert.equal(owner.received.length, 3);
    for (const r of owner.received) {
      const key = JSON.parse(String(r.headers.jobinstancekey));
      assert.deepEqual(Object.keys(key), ['status', 'instances', 'jobReqId', 'createTimestamp', 'instanceRegistryTimestamp']);
      assert.equal(key.instances, owner.instance);
    }
    const status = await http.ok('GET', `entrance/${taskID}/status`);
    assert.ok(typeof status.status === 'string');
    const unknown = await http.send('GET', 'entrance/987654321/status');
    assert.equal(unknown.http, 404);
    assert.equal(unknown.env.data.errorCode, 'TASK_NOT_FOUND');
  });

  it("another user's token reads nothing of alice's job: history, results, logs, taskID follow-ups", async () => {
    const alice = await linkisCliJob(gw.url, { strategy: 'token', user: 'alice', token: ALICE_TOKEN, code: 'select 1' });
    const task = linkis.history.get(Number(alice.taskID))!;
    const bob = new LinkisHttp(gw.url, () => ({ 'Token-User': 'bob', 'Token-Code': BOB_TOKEN }));
    const tries = [
      await bob.send('GET', `jobhistory/${alice.taskID}/get`),
      await bob.send('GET', 'filesystem/getDirFileTrees', { path: task.resultLocation! }),
      await bob.send('GET', 'filesystem/openFile', { path: `${task.resultLocation}/_0.dolphin`, page: 1, pageSize: 5000 }),
      await bob.send('GET', 'filesystem/openLog', { path: task.logPath }),
      await bob.send('GET', `entrance/${alice.taskID}/status`),
    ];
    for (const t of tries) assert.notEqual(t.env.status, 0, JSON.stringify(t.env));
    assert.equal(tries[4]!.env.data.errorCode, 'TASK_NOT_FOUND');
    const list = await bob.ok('GET', 'jobhistory/list', { pageNow: 1, pageSize: 100 });
    assert.ok(!(list.tasks ?? []).some((t: any) => String(t.taskID) === alice.taskID));
    const asAlice = await bob.send('GET', `jobhistory/${alice.taskID}/get`, undefined);
    assert.notEqual(asAlice.env.status, 0);
  });

  it('an allowlist edit ends a session and a token client within 2 s', async () => {
    const session = new LinkisHttp(gw.url);
    await session.ok('POST', 'user/login', undefined, { userName: 'alice', password: ALICE_TOKEN });
    const token = new LinkisHttp(gw.url, () => ({ 'Token-User': 'alice', 'Token-Code': ALICE_TOKEN }));
    assert.equal((await session.send('GET', 'jobhistory/list')).env.status, 0);
    assert.equal((await token.send('GET', 'jobhistory/list')).env.status, 0);
    const edited = Date.now();
    writeFileSync(join(conf, 'proxy.properties'), `${BOB_TOKEN}=bob\n`);
    let sessionEnded = 0;
    let tokenEnded = 0;
    while ((!sessionEnded || !tokenEnded) && Date.now() - edited < 5_000) {
      if (!sessionEnded && (await session.send('GET', 'jobhistory/list')).http === 401) sessionEnded = Date.now() - edited;
      if (!tokenEnded && (await token.send('GET', 'jobhistory/list')).http === 401) tokenEnded = Date.now() - edited;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(sessionEnded > 0 && sessionEnded <= 2_000, `session ended after ${sessionEnded} ms`);
    assert.ok(tokenEnded > 0 && tokenEnded <= 2_000, `token client refused after ${tokenEnded} ms`);
    writeFileSync(join(conf, 'proxy.properties'), `${ALICE_TOKEN}=alice\n${BOB_TOKEN}=bob\n`);
  });
});
