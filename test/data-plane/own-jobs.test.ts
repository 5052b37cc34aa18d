/**
 * A Linkis 1.8 Entrance answers status, progress and log for any execID, and force-kills the task named by
 * `?taskID=` (kill) or in `taskIDList` (killJobs) when the execID's job is not in its memory, never asking
 * whose it is. Through the gateway a user can only name their own jobs: another user's execID is 404
 * JOB_NOT_FOUND, another user's taskID 404 TASK_NOT_FOUND, and nothing reaches any Entrance.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeExecId1x } from '../../src/linkis/execid';
import { startSimulatedLinkis, type SimulatedLinkis } from '../../src/simulator/linkis';
import { asUser, call, startGateway, submit, type TestGateway } from '../support/harness';

const API = '/api/rest_j/v1';
const as = (user: string) => asUser(user);

async function submitAs(gw: TestGateway, user: string): Promise<{ taskID: number; execID: string }> {
  const r = await submit(gw, user);
  assert.equal(r.body.status, 0, JSON.stringify(r.body));
  return r.body.data;
}

describe('the jobs a request names are the user\'s own', () => {
  let linkis: SimulatedLinkis;
  let gw: TestGateway;
  let bare: TestGateway;
  const received = () => linkis.entrances.reduce((n, e) => n + e.received.length, 0);
  before(async () => {
    linkis = await startSimulatedLinkis({ entrances: 2 });
    gw = await startGateway(linkis.entrances, { settings: { 'gateway.publicservice.instances': `${linkis.publicservice.instance}=${linkis.publicservice.url}` } });
    bare = await startGateway(linkis.entrances);
  });
  after(async () => {
    await bare.close();
    await gw.close();
    await linkis.close();
  });

  it("alice cannot read the status, progress or log of bob's job by its execID (the Entrance would not ask)", async () => {
    const bob = await submitAs(gw, 'bob');
    const before = received();
    for (const action of ['status', 'progress', 'log?fromLine=0&size=10', 'progressWithResource', 'pause']) {
      const r = await call(`${gw.url}${API}/entrance/${encodeURIComponent(bob.execID)}/${action}`, { headers: as('alice') });
      assert.equal(r.status, 404, `${action}: ${r.text}`);
      assert.equal(r.body.data.errorCode, 'JOB_NOT_FOUND');
    }
    assert.equal(received(), before, 'no Entrance received any of them');
    const own = await call(`${gw.url}${API}/entrance/${encodeURIComponent(bob.execID)}/status`, { headers: as('bob') });
    assert.equal(own.body.status, 0, own.text);
  });

  it("alice cannot force-kill bob's task through a job the Entrance does not hold; her own goes through", async () => {
    const bob = await submitAs(gw, 'bob');
    const mine = await submitAs(gw, 'alice');
    // An execID on a configured Entrance whose job is not in its memory: where Linkis force-kills ?taskID=.
    const gone = encodeExecId1x('linkis-cg-entrance', [linkis.entrances[0]!.instance], 'IDE_alice_spark_99999')!;
    const before = received();
    for (const [method, path, body] of [
      ['GET', `${API}/entrance/${encodeURIComponent(gone)}/kill?taskID=${bob.taskID}`, undefined],
      ['GET', `${API}/entrance/${encodeURIComponent(gone)}/kill?task%49D=${bob.taskID}`, undefined],
      ['GET', `${API}/entrance/${encodeURIComponent(gone)}/status?taskID=${bob.taskID}`, undefined],
      ['POST', `${API}/entrance/${encodeURIComponent(gone)}/killJobs`, { idList: [gone, gone], taskIDList: [mine.taskID, bob.taskID] }],
    ] as const) {
      const r = await call(`${gw.url}${path}`, { method, headers: { ...as('alice'), 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
      assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
      assert.equal(r.body.data.errorCode, 'TASK_NOT_FOUND', r.text);
    }
    assert.equal(received(), before, 'no Entrance received any of them');
    const own = await call(`${gw.url}${API}/entrance/${encodeURIComponent(mine.execID)}/kill?taskID=${mine.taskID}`, { headers: as('alice') });
    assert.equal(own.body.status, 0, own.text);
    const ownList = await call(`${gw.url}${API}/entrance/${encodeURIComponent(gone)}/killJobs`, {
      method: 'POST',
      headers: { ...as('alice'), 'content-type': 'application/json' },
      body: JSON.stringify({ idList: [gone], taskIDList: [mine.taskID] }),
    });
    assert.equal(ownList.status, 200, ownList.text);
    assert.equal(received(), before + 2, 'her own two calls went through');
  });

  it('a malformed or repeated taskID is refused; without publicservice a named task cannot be checked', async () => {
    const mine = await submitAs(gw, 'alice');
    const at = `${API}/entrance/${encodeURIComponent(mine.execID)}`;
    const before = received();
    for (const q of ['taskID=1&taskID=2', 'taskID=abc', 'taskID=-1']) {
      const r = await call(`${gw.url}${at}/kill?${q}`, { headers: as('alice') });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.data.errorCode, 'TASK_PARAM_INVALID');
    }
    const big = await call(`${gw.url}${at}/killJobs`, { method: 'POST', headers: { ...as('alice'), 'content-type': 'application/json' }, body: JSON.stringify({ idList: [], pad: 'x'.repeat(70_000) }) });
    assert.equal(big.status, 413, big.text);
    const unchecked = await call(`${bare.url}${at}/kill?taskID=${mine.taskID}`, { headers: as('alice') });
    assert.equal(unchecked.status, 503, unchecked.text);
    assert.equal(unchecked.body.data.errorCode, 'PUBLICSERVICE_NOT_CONFIGURED');
    assert.equal(received(), before, 'none of them was forwarded');
    // What stock clients send (UJESClient.kill: no taskID) needs no job history.
    const plain = await call(`${bare.url}${at}/kill`, { headers: as('alice') });
    assert.equal(plain.body.status, 0, plain.text);
  });
});
