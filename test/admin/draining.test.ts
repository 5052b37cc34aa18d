/**
 * Draining an Entrance through the admin API: what an operator does before restarting one. No new
 * submissions reach it; follow-ups for its jobs still do.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntranceSimulator } from '../../src/simulator/entrance';
import { ENTRANCE, asUser, call, submit, type TestGateway } from '../support/harness';
import { startAdminStack, type AdminStack, type TestAdmin } from '../support/admin-harness';

describe('PUT /admin/api/entrances/:name/draining', () => {
  let sims: EntranceSimulator[];
  let gw: TestGateway;
  let admin: TestAdmin;
  let stack: AdminStack;
  before(async () => {
    stack = await startAdminStack(2, { simulators: { lookup: 'execId' } });
    ({ sims, gw, adm: admin } = stack);
  });
  after(() => stack.close());

  it('stops new submissions to the instance and keeps serving its jobs, then undrains', async () => {
    const [a, b] = sims;
    // A job on a, before draining.
    let jobOnA: string | undefined;
    for (let i = 0; i < 4 && !jobOnA; i++) {
      const r = await submit(gw);
      if (a.jobs.has(r.body.data.execID)) jobOnA = r.body.data.execID;
    }
    assert.ok(jobOnA, 'round robin put a job on the first Entrance');

    const drained = await admin.api('PUT', `entrances/${encodeURIComponent(a.instance)}/draining`, { body: { draining: true } });
    assert.equal(drained.status, 200, drained.text);
    assert.equal(drained.body.data.draining, true);
    const listed = await admin.api('GET', 'entrances');
    assert.equal(listed.body.data.entrances.find((e: any) => e.name === a.instance).draining, true);

    const before = a.jobs.size;
    for (let i = 0; i < 6; i++) assert.equal((await submit(gw)).status, 200);
    assert.equal(a.jobs.size, before, 'no new job on the draining Entrance');
    assert.ok(b.jobs.size >= 6);
    const status = await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(jobOnA!)}/status`, { headers: asUser() });
    assert.equal(status.status, 200, 'follow-ups still reach the draining Entrance');
    assert.equal(status.body.data.execID, jobOnA);
    assert.equal((await call(`${gw.url}/ready`)).status, 200, 'still ready: b takes jobs');

    const back = await admin.api('PUT', `entrances/${encodeURIComponent(a.instance)}/draining`, { body: { draining: false } });
    assert.equal(back.body.data.draining, false);
    for (let i = 0; i < 4; i++) await submit(gw);
    assert.ok(a.jobs.size > before, 'takes new jobs again');
  });

  it('refuses an unknown instance, a bad body and a missing admin credential', async () => {
    assert.equal((await admin.api('PUT', 'entrances/10.9.9.9:9104/draining', { body: { draining: true } })).status, 404);
    assert.equal((await admin.api('PUT', `entrances/${encodeURIComponent(sims[0].instance)}/draining`, { body: { draining: 'yes' } })).status, 400);
    const anon = await admin.api('PUT', `entrances/${encodeURIComponent(sims[0].instance)}/draining`, { body: { draining: true }, auth: null });
    assert.equal(anon.status, 401);
    assert.equal(gw.registry.get(sims[0].instance)!.draining, false);
  });
});
