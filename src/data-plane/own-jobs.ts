/**
 * Every job a request names must be the user's own, because a Linkis 1.8 Entrance often does not ask:
 * - the execID of a follow-up names its user (see linkis/job-owner.ts); another user's is 404
 *   JOB_NOT_FOUND (a taskID follow-up was looked up as the user already);
 * - taskIDs named besides the path's id (`?taskID=` on an Entrance call, `taskIDList` in a killJobs body)
 *   are force-killed, or their status read, without a check (see linkis/named-tasks.ts): each is looked up
 *   in the job history as the user (cached, like taskID follow-ups); one that is not there is 404
 *   TASK_NOT_FOUND.
 * Nothing is forwarded for a job that is not the user's.
 */
import { GatewayError } from '../linkis/errors';
import { shortIdNamesUser } from '../linkis/job-owner';
import { killJobsTaskIds, queryTaskIds } from '../linkis/named-tasks';
import { contextOf } from './context';
import type { Middleware } from './pipeline';
import type { TaskLocator } from './task-locator';

/** killJobs bodies are a few lists of ids: parsing more on the data plane's thread is not worth it. */
const MAX_KILL_JOBS_BODY = 64 * 1024;

export function checkOwnJobs(locator: Pick<TaskLocator, 'owns'>): Middleware {
  return (req, _res, next) => {
    const ctx = contextOf(req);
    const route = ctx.route!;
    if (route.type !== 'followup' && route.type !== 'task' && route.type !== 'operation') return next();
    // killJobs names its jobs in the body (Linkis checks the owner of those it holds); its path id is not read.
    if (route.type === 'followup' && route.action !== 'killJobs' && route.shortId !== undefined && !shortIdNamesUser(route.shortId, ctx.user!)) {
      return next(new GatewayError('JOB_NOT_FOUND', `execID ${route.execId.slice(0, 160)}`));
    }
    const inQuery = queryTaskIds(req.url ?? '');
    if (!inQuery.ok) return next(new GatewayError('TASK_PARAM_INVALID', inQuery.reason));
    let taskIds = inQuery.taskIds;
    if ((route.type === 'followup' || route.type === 'task') && route.action === 'killJobs') {
      if ((ctx.body?.length ?? 0) > MAX_KILL_JOBS_BODY) return next(new GatewayError('BODY_TOO_LARGE', `a killJobs body is at most ${MAX_KILL_JOBS_BODY} bytes`));
      const inBody = killJobsTaskIds(ctx.body);
      if (!inBody.ok) return next(new GatewayError('TASK_PARAM_INVALID', inBody.reason));
      taskIds = taskIds.length ? [...new Set([...taskIds, ...inBody.taskIds])] : inBody.taskIds;
    }
    if (taskIds.length === 0) return next();
    Promise.all(taskIds.map((id) => locator.owns(id, ctx.user!, ctx.id))).then(() => next(), (err: unknown) => next(err));
  };
}
