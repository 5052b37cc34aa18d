/**
 * taskID follow-ups: the job history is asked as the authenticated user, the answer is cached per user,
 * a submission's answer fills the cache for free, a client's own jobInstanceKey never passes, and a task
 * on an instance the gateway does not know is refused by name.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSimulatedLinkis, type SimulatedLinkis } from '../../src/simulator/linkis';
import { call, OTHER_TOKEN, startGateway, TOKEN, type TestGateway } from '../support/harness';

const API = '/api/rest_j/v1';
const as = (user: string, token = TOKEN) => ({ 'token-user': user, 'token-code': token });

async function submit(gw: TestGateway, user = 'alice'): Promise<{ taskID: number; execID: string }> {
  const r = await call(`${gw.url}${API}/entrance/submit`, {
    method: 'POST',
    headers: { ...as(user), 'content-type': 'application/json' },
    body: JSON.stringify({ executionContent: { code: 'select 1', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: `${user}-IDE` } }),
  });
  assert.equal(r.body.status, 0, r.text);
  return r.body.data;
}

describe('taskID lookups', () => {
  let linkis: SimulatedLinkis;
  let gw: TestGateway;
  const lookups = () => linkis.publicservice.received.filter((r) => /\/jobhistory\/\d+\/get$/.test(r.path));
  before(async () => {
    linkis = await startSimulatedLinkis({ entrances: 2 });
    gw = await startGateway(linkis.entrances, { settings: { 'gateway.publicservice.instances': `${linkis.publicservice.instance}=${linkis.publicservice.url}` } });
  });
  after(async () => {
    await gw.close();
    await linkis.close();
  });

  it('right after a submission the answer already knows the task: no lookup, access line says cache', async () => {
    const { taskID } = await submit(gw);
    const before = lookups().length;
    const r = await call(`${gw.url}${API}/entrance/${taskID}/status`, { headers: as('alice') });
    assert.equal(r.body.status, 0, r.text);
    assert.equal(lookups().length, before, 'no job history call');
    await new Promise((ok) => setTimeout(ok, 10));
    assert.ok(gw.logs.some((l) => l.message === 'access' && l.taskLookup === 'cache' && String(l.path).endsWith(`/${taskID}/status`)));
  });

  it('a task the gateway did not see submitted is looked up once, as the user, then cached', async () => {
    const { taskID } = await submit(gw, 'bob');
    // Another gateway (a restart, another replica) knows nothing of it.
    const other = await startGateway(linkis.entrances, { settings: { 'gateway.publicservice.instances': `${linkis.publicservice.instance}=${linkis.publicservice.url}` } });
    try {
      const before = lookups().length;
      for (let i = 0; i < 3; i++) assert.equal((await call(`${other.url}${API}/entrance/${taskID}/progress`, { headers: as('bob') })).body.status, 0);
      const made = lookups().slice(before);
      assert.equal(made.length, 1, 'looked up once, then cached');
      assert.equal(made[0]!.ticketUser, 'bob', 'asked as the authenticated user');
      // alice may not learn where bob's task runs, even though bob's answer is cached.
      const alice = await call(`${other.url}${API}/entrance/${taskID}/status`, { headers: as('alice') });
      assert.equal(alice.status, 404);
      assert.equal(alice.body.data.errorCode, 'TASK_NOT_FOUND');
    } finally {
      await other.close();
    }
  });

  it('concurrent follow-ups for one unknown task share one lookup; another user still gets their own', async () => {
    const { taskID } = await submit(gw, 'bob');
    const other = await startGateway(linkis.entrances, { settings: { 'gateway.publicservice.instances': `${linkis.publicservice.instance}=${linkis.publicservice.url}` } });
    try {
      const before = lookups().length;
      const answers = await Promise.all(Array.from({ length: 12 }, () => call(`${other.url}${API}/entrance/${taskID}/status`, { headers: as('bob') })));
      assert.deepEqual([...new Set(answers.map((r) => r.body.status))], [0]);
      const alice = call(`${other.url}${API}/entrance/${taskID}/status`, { headers: as('alice') });
      assert.equal((await alice).body.data.errorCode, 'TASK_NOT_FOUND', "bob's lookup is not alice's");
      const made = lookups().slice(before);
      assert.deepEqual(made.map((r) => r.ticketUser), ['bob', 'alice'], 'one call for the twelve, one for alice');
    } finally {
      await other.close();
    }
  });

  it("a client's own jobInstanceKey is replaced by the gateway's", async () => {
    const { taskID, execID } = await submit(gw);
    const forged = JSON.stringify({ status: 'Running', instances: 'evil:1', jobReqId: 'IDE_root_spark_0', createTimestamp: 0, instanceRegistryTimestamp: 0 });
    await call(`${gw.url}${API}/entrance/${taskID}/status`, { headers: { ...as('alice'), jobInstanceKey: forged } });
    const owner = linkis.entrances.find((e) => e.jobs.has(execID))!;
    const got = JSON.parse(String(owner.received.at(-1)!.headers.jobinstancekey));
    assert.equal(got.instances, owner.instance);
    assert.notEqual(got.jobReqId, 'IDE_root_spark_0');
  });

  it('a task on an Entrance this gateway does not know: a 404 naming it, and no other Entrance asked', async () => {
    const { taskID, execID } = await submit(gw);
    const owner = linkis.entrances.find((e) => e.jobs.has(execID))!;
    const stranger = linkis.entrances.find((e) => e !== owner)!;
    const partial = await startGateway([stranger], { settings: { 'gateway.publicservice.instances': `${linkis.publicservice.instance}=${linkis.publicservice.url}` } });
    try {
      const seen = stranger.received.length;
      const r = await call(`${partial.url}${API}/entrance/${taskID}/status`, { headers: as('alice', OTHER_TOKEN) });
      assert.equal(r.status, 404, r.text);
      assert.equal(r.body.data.errorCode, 'INSTANCE_UNKNOWN');
      assert.match(r.body.message, new RegExp(`${owner.instance.replace(/[.]/g, '\\.')}.*task ${taskID}`));
      assert.equal(stranger.received.length, seen);
    } finally {
      await partial.close();
    }
  });
});
