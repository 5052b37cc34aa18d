/**
 * taskIDs a client names besides the path's id (`?taskID=` on an Entrance call, `taskIDList` in a killJobs
 * body) must be the user's own: a Linkis 1.8 Entrance force-kills them, or reads their status, without
 * asking whose they are (see linkis/named-tasks.ts). Each is looked up in the job history as the user
 * (cached, like taskID follow-ups); one that is not there is 404 TASK_NOT_FOUND and nothing is forwarded.
 */
import { GatewayError } from '../linkis/errors';
import { killJobsTaskIds, queryTaskIds } from '../linkis/named-tasks';
import { contextOf } from './context';
import type { Middleware } from './pipeline';
import type { TaskLocator } from './task-locator';

/** killJobs bodies are a few lists of ids: parsing more on the data plane's thread is not worth it. */
const MAX_KILL_JOBS_BODY = 64 * 1024;

export function checkNamedTasks(locator: Pick<TaskLocator, 'owns'>): Middleware {
  return (req, _res, next) => {
    const ctx = contextOf(req);
    const route = ctx.route!;
    if (route.type !== 'followup' && route.type !== 'task' && route.type !== 'operation') return next();
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
