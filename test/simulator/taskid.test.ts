/**
 * Numeric taskID follow-ups at a simulated 1.8.0 Entrance (EntranceRestfulApi, research §3.1-3.3): the
 * `jobInstanceKey` header the Linkis gateway adds decides the answer. Also: Entrances sharing one job history.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createEntranceSimulator } from '../../src/simulator/entrance';
import { startSimulatedLinkis, type SimulatedLinkis } from '../../src/simulator/linkis';
import { call, enc, REST, submit } from './support';

const P = `${REST}/entrance`;
const LONG_MAX = '9223372036854775807';
const JOB_EMPTY = 'ID The corresponding job is empty and cannot obtain the corresponding task status.(ID 对应的job为空，不能获取相应的任务状态)';

let linkis: SimulatedLinkis;
before(async () => {
  linkis = await startSimulatedLinkis({ entrances: 2 });
});
after(() => linkis.close());
beforeEach(() => {
  for (const e of linkis.entrances) e.reset();
});

/** The header as Linkis's gateway writes it (Gson, field order, Long.MAX_VALUE spelled out). */
function jobInstance(status: string, jobReqId: string, instances: string | null, createTimestamp: number, registry: number | string = 0): string {
  return `{"status":${JSON.stringify(status)},"instances":${JSON.stringify(instances)},"jobReqId":${JSON.stringify(jobReqId)},"createTimestamp":${createTimestamp},"instanceRegistryTimestamp":${registry}}`;
}

async function follow(entranceIndex: number, taskID: number | string, op: string, header?: string, user = 'alice', query = '') {
  const headers: Record<string, string> = header === undefined ? {} : { jobInstanceKey: header };
  return call(linkis.entrances[entranceIndex]!.url, 'GET', `${P}/${taskID}/${op}${query}`, { user, headers });
}

describe('entrance: numeric taskID follow-ups (jobInstanceKey)', () => {
  it('fails every follow-up without the header, as the NullPointerException Linkis throws', async () => {
    const { taskID } = await submit(linkis.entrances[0]!.url);
    for (const op of ['status', 'progress', 'progressWithResource', 'log', 'kill']) {
      const r = await follow(0, taskID, op);
      assert.equal(r.status, 400, op);
      assert.deepEqual(Object.keys(r.json), ['method', 'status', 'message', 'data']);
      assert.equal(r.json.status, 1);
      assert.equal(r.json.method, `${P}/${taskID}/${op}`);
      assert.equal(r.json.message, 'operation failed(操作失败)s！the reason(原因)：NullPointerException: ');
      assert.equal(r.json.data.errorMsg.errCode, 0);
      assert.equal(r.json.data.errorMsg.serviceKind, 'linkis-cg-entrance');
    }
    assert.equal(linkis.history.get(taskID)!.status, 'Inited', 'the kill did nothing');
    const malformed = await follow(0, taskID, 'status', '{"status":');
    assert.equal(malformed.json.status, 1);
    assert.match(malformed.json.message, /MalformedJsonException/);
    const unknown = await follow(0, taskID, 'status', jobInstance('Weird', 'x', null, 1));
    assert.match(unknown.json.message, /NoSuchElementException: No value found for 'Weird'/);
  });

  it('answers from the header alone when it says the job completed', async () => {
    const h = jobInstance('Succeed', 'IDE_alice_spark_0', linkis.entrances[0]!.instance, 1_700_000_000_000);
    const status = await follow(1, 77, 'status', h);
    assert.equal(status.status, 200);
    assert.deepEqual(status.json.data, { status: 'Succeed', execID: '', taskID: '77' });
    const progress = await follow(1, 77, 'progress', h);
    assert.deepEqual(progress.json.data, { progress: '1.0', execID: '', taskID: '77', progressInfo: [] });
    const log = await follow(1, 77, 'log', h);
    assert.equal(log.status, 400);
    assert.match(log.json.message, /^The job you just executed has ended\./);
    const kill = await follow(1, 77, 'kill', h);
    assert.equal(kill.json.message, 'The job already completed. Do not support kill.(任务已经结束，不支持kill)');
  });

  it('answers the failover texts when the instance registered after the job was created (or is gone)', async () => {
    const { taskID } = await submit(linkis.entrances[0]!.url);
    const created = linkis.history.get(taskID)!.createdTime;
    const h = jobInstance('Running', 'IDE_alice_spark_0', null, created, LONG_MAX);
    assert.deepEqual((await follow(1, taskID, 'status', h)).json.data, { status: 'Inited', execID: '', taskID: String(taskID) });
    assert.deepEqual((await follow(1, taskID, 'progress', h)).json.data, { progress: 0, execID: '', taskID: String(taskID), progressInfo: [] });
    const log = (await follow(1, taskID, 'log', h)).json.data;
    assert.equal(log.fromLine, 0);
    assert.equal(log.log[0], null);
    assert.equal(log.log[1], null);
    assert.match(log.log[2], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO The job will failover soon, please try again later\./);
    assert.equal(log.log[3], log.log[2]);
    const kill = await follow(1, taskID, 'kill', jobInstance('Running', 'IDE_alice_spark_0', null, created, created + 1));
    assert.equal(kill.json.status, 0);
    assert.equal(kill.json.message, 'Forced Kill task (强制杀死任务)');
    assert.equal(linkis.history.get(taskID)!.status, 'Cancelled', 'force-killed in the job history');
  });

  it('follows a live job on the instance that holds it, by the header\'s jobReqId', async () => {
    const sim = linkis.entrances[0]!;
    const { taskID, execID } = await submit(sim.url);
    const row = linkis.history.get(taskID)!;
    const h = jobInstance(row.status, row.jobReqId, sim.instance, row.createdTime, 0);
    const s1 = await follow(0, taskID, 'status', h);
    assert.equal(s1.status, 200);
    assert.deepEqual(s1.json.data, { execID, status: 'Inited' }, 'the execID is regenerated; no taskID key');
    assert.equal((await follow(0, taskID, 'status', h)).json.data.status, 'Running', 'the poll moved it on');
    assert.equal(linkis.history.get(taskID)!.status, 'Running', 'and the history knows');
    assert.equal((await follow(0, taskID, 'progress', h)).json.data.progress, 0.5);
    const log = await follow(0, taskID, 'log', h, 'alice', '?fromLine=1&size=3');
    assert.equal(log.json.data.execID, execID);
    assert.equal(log.json.data.log[3].split('\n').length, 3);
    assert.match((await follow(0, taskID, 'kill', h, 'bob')).json.message, /no permission to kill this job, excecute by user:alice/);
    assert.equal((await follow(0, taskID, 'kill', h)).json.status, 0);
    assert.equal(linkis.history.get(taskID)!.status, 'Cancelled');
    // The Entrance recorded the header as the gateway sent it.
    const got = sim.received.filter((r) => r.path.startsWith(`${P}/${taskID}/`));
    assert.equal(got.length, 6);
    assert.equal(got[0]!.headers.jobinstancekey, h);
    assert.equal(got[0]!.ticketUser, 'alice');
  });

  it('does not know a job another instance holds', async () => {
    const { taskID } = await submit(linkis.entrances[0]!.url);
    const row = linkis.history.get(taskID)!;
    // jobReqId is the other instance's short id: this one holds no such job.
    const h = jobInstance('Inited', row.jobReqId, linkis.entrances[0]!.instance, row.createdTime, 0);
    const r = await follow(1, taskID, 'status', h);
    assert.equal(r.status, 400);
    assert.equal(r.json.message, JOB_EMPTY);
    assert.equal(linkis.entrances[1]!.received.at(-1)!.headers.jobinstancekey, h);
    assert.equal(linkis.entrances[0]!.received.filter((x) => x.path.includes(`/${taskID}/`)).length, 0);
    const kill = await follow(1, taskID, 'kill', h);
    assert.match(kill.json.message, /NullPointerException/, 'no taskID parameter to force-kill');
    assert.equal(linkis.history.get(taskID)!.status, 'Inited');
    const forced = await follow(1, taskID, 'kill', h, 'alice', `?taskID=${taskID}`);
    assert.equal(forced.json.message, 'Forced Kill task (强制杀死任务)');
    assert.equal(linkis.history.get(taskID)!.status, 'Cancelled');
  });

  it('keeps execID follow-ups as they were, and a bare Entrance can be told to use the header', async () => {
    const { execID } = await submit(linkis.entrances[0]!.url);
    assert.equal((await call(linkis.entrances[0]!.url, 'GET', `${P}/${enc(execID)}/status`)).json.data.status, 'Inited');
    const bare = await createEntranceSimulator({ taskIds: 'jobInstanceKey' });
    try {
      const r = await call(bare.url, 'GET', `${P}/1/status`);
      assert.match(r.json.message, /NullPointerException/);
    } finally {
      await bare.close();
    }
  });
});

describe('entrances sharing a job history', () => {
  it('take taskIDs from one sequence and record which instance took each job, in its own execID format', async () => {
    const [a, b] = linkis.entrances;
    const first = await submit(a!.url);
    const second = await submit(b!.url);
    const third = await submit(a!.url);
    assert.deepEqual([second.taskID - first.taskID, third.taskID - second.taskID], [1, 1]);
    assert.equal(linkis.history.get(first.taskID)!.instance, a!.instance);
    assert.equal(linkis.history.get(second.taskID)!.instance, b!.instance);
    assert.equal(b!.execIdFormat, '0.x');
    assert.equal(linkis.history.get(second.taskID)!.execID, second.execID);
    assert.ok(!second.execID.startsWith('exec_id'));
  });

  it('stop moving a job on through jobhistory once its Entrance is closed', async () => {
    const solo = await startSimulatedLinkis({ entrances: 1 });
    try {
      const { taskID } = await submit(solo.entrances[0]!.url);
      const read = () => call(solo.publicservice.url, 'GET', `${REST}/jobhistory/${taskID}/get`).then((r) => r.json.data.task.status);
      assert.equal(await read(), 'Inited');
      await solo.entrances[0]!.close();
      assert.deepEqual([await read(), await read()], ['Inited', 'Inited']);
    } finally {
      await solo.close();
    }
  });
});
