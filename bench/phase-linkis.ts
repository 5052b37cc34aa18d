/**
 * The route kinds that need a whole Linkis (an Entrance and a publicservice over one job history, the
 * simulator's `--linkis`): follow-ups to one job by execID and by numeric taskID, alternating, and a
 * publicservice call (the job history list) against direct and the bare pipes to the publicservice.
 */
import { join } from 'node:path';
import { startLinkisSimulator, type Contestant } from './contestants';
import { startGateway } from './gateway-start';
import { jobHistoryMix, statusMix, taskStatusMix, type Cell } from './measure';
import { alternate, referencesFor, stopAll, submitJob, type Ctx } from './phase-common';

export const FOLLOW_UP = 'follow-up (whole Linkis)';

export async function linkisPhase(ctx: Ctx): Promise<Cell[]> {
  const linkis = await startLinkisSimulator('sim-linkis');
  const { entrance, publicservice } = linkis;
  // Submitted straight to the Entrance, so the gateway learns nothing from the submission answer: its first
  // taskID request (in the warm-up) asks the job history, later ones are answered from its cache (which
  // gateway.task.cache.ms, 10 s, renews: one lookup per 10 s among thousands of requests).
  const { execId, taskId } = await submitJob(entrance);
  const gw = await startGateway(
    { name: 'gateway-linkis', instances: [{ name: entrance.instance, url: entrance.url }], settings: { 'gateway.publicservice.instances': `${publicservice.instance}=${publicservice.url}` } },
    join(ctx.dir, 'gateway-linkis'),
  );
  const byExec = gw.variant('gateway by execID', gw.auth);
  const byTask = gw.variant('gateway by taskID', gw.auth);
  const followUps = await alternate([byExec, byTask], (c) => (c === byTask ? taskStatusMix(taskId, FOLLOW_UP) : statusMix(execId, FOLLOW_UP)), ctx.timing, ctx);

  const refs = await referencesFor(publicservice.url, ctx, 'ps');
  const ps: Contestant[] = [publicservice, ...refs, gw];
  const history = await alternate(ps, jobHistoryMix(), ctx.timing, ctx);
  await stopAll([...refs, gw, linkis]);
  return [...followUps, ...history];
}
