/**
 * Traffic for discovery tests: submissions and follow-ups in loops while the registry changes, and the
 * check that every follow-up an Entrance received was for one of its own jobs.
 */
import assert from 'node:assert/strict';
import { parseJobIdSegment } from '../../src/linkis/execid';
import type { EntranceSimulator } from '../../src/simulator/entrance';
import { asUser, call, ENTRANCE, submit, type TestGateway } from './harness';

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const submissions = (sim: EntranceSimulator) => sim.received.filter((r) => r.path.endsWith('/entrance/submit')).length;

export interface Job { execID: string; taskID: string; instance: string }

/** Submissions and follow-ups in a loop while the registry changes; every answer checked, failures kept. */
export function traffic(gw: TestGateway, jobs: Job[], live: () => Set<string>) {
  const failures: string[] = [];
  let stop = false;
  // One submission and one follow-up (by taskID or execID, alternately) of a job whose Entrance still runs.
  const step = async (i: number) => {
    const s = await submit(gw);
    if (s.status !== 200) failures.push(`submit: ${s.status} ${JSON.stringify(s.body)}`);
    else jobs.push({ execID: s.body.data.execID, taskID: String(s.body.data.taskID), instance: (parseJobIdSegment(s.body.data.execID) as { instance: string }).instance });
    const open = jobs.filter((j) => live().has(j.instance));
    const j = open[i % open.length];
    if (!j) return;
    const id = i % 2 ? encodeURIComponent(j.execID) : j.taskID;
    const r = await call(`${gw.url}${ENTRANCE}/${id}/status`, { headers: asUser() });
    if (r.status !== 200 || r.body?.status !== 0) failures.push(`follow-up ${id} (${j.instance}): ${r.status} ${r.text}`);
  };
  const loop = async () => {
    for (let i = 0; !stop; i++) await step(i).catch((err: Error) => failures.push(`request failed: ${err.message}`));
  };
  const running = Promise.all([loop(), loop()]);
  return { failures, stop: async () => ((stop = true), await running) };
}

/** Every follow-up an Entrance received named that Entrance: nothing misrouted. */
export function assertNothingMisrouted(sims: EntranceSimulator[], jobs: Job[]): void {
  const owner = new Map(jobs.map((j) => [j.taskID, j.instance]));
  for (const sim of sims) {
    for (const r of sim.received) {
      const m = /\/entrance\/([^/]+)\/status/.exec(r.path);
      if (!m) continue;
      const parsed = parseJobIdSegment(m[1]!);
      const named = parsed.ok && parsed.kind === 'execId' ? parsed.instance : owner.get(parsed.ok && parsed.kind === 'taskId' ? parsed.taskId : '');
      assert.equal(named, sim.instance, `${r.path} reached ${sim.instance}`);
    }
  }
}

