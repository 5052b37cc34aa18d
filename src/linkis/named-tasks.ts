/**
 * taskIDs a client names besides the path's id: `?taskID=` on an Entrance call, and `taskIDList` in a
 * killJobs body. A Linkis 1.8 Entrance acts on them without asking whose they are: `kill` and `killJobs`
 * force-kill the named task in the job history when the execID's job is not in its memory, and `status`
 * reads the named task's status when the job lookup fails (EntranceRestfulApi). The gateway checks each
 * is one of the user's own tasks first; this module only finds them. Pure: bad input is a result.
 */

export type NamedTasks = { ok: true; taskIds: string[] } | { ok: false; reason: string };

const NONE: NamedTasks = Object.freeze({ ok: true, taskIds: Object.freeze([]) as unknown as string[] });
/** A Java long, as Spring and Jackson read it; anything else cannot be checked and is refused. */
const TASK_ID = /^[0-9]{1,19}$/;
/** killJobs lists are a handful of jobs; a long list would be as many job history lookups. */
export const MAX_NAMED_TASKS = 100;

/** The taskID query parameters of a request target (names and values percent-decoded, as Spring reads them). */
export function queryTaskIds(target: string): NamedTasks {
  const q = target.indexOf('?');
  if (q < 0) return NONE;
  const query = target.slice(q + 1);
  // Most queries (log paging) name no task: skip the parse unless one might (also percent-encoded).
  if (!/taskid|%/i.test(query)) return NONE;
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(query);
  } catch {
    return { ok: false, reason: 'the query cannot be read' };
  }
  const values = params.getAll('taskID');
  if (values.length === 0) return NONE;
  if (values.length > 1) return { ok: false, reason: 'taskID is given more than once' };
  if (!TASK_ID.test(values[0]!)) return { ok: false, reason: 'taskID must be a task number' };
  return { ok: true, taskIds: values };
}

/** The taskIDList of a killJobs body (the caller bounds its size); a body without one names none. */
export function killJobsTaskIds(body: Buffer | undefined): NamedTasks {
  if (!body || body.length === 0) return NONE;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, reason: 'the body is not JSON' };
  }
  const list = (parsed as { taskIDList?: unknown } | null)?.taskIDList;
  if (list === undefined || list === null) return NONE;
  if (!Array.isArray(list)) return { ok: false, reason: 'taskIDList must be a list of task numbers' };
  if (list.length > MAX_NAMED_TASKS) return { ok: false, reason: `taskIDList names more than ${MAX_NAMED_TASKS} tasks` };
  const taskIds: string[] = [];
  for (const item of list) {
    const id = typeof item === 'number' && Number.isSafeInteger(item) && item >= 0 ? String(item) : typeof item === 'string' ? item : '';
    if (!TASK_ID.test(id)) return { ok: false, reason: 'taskIDList must be a list of task numbers' };
    if (!taskIds.includes(id)) taskIds.push(id);
  }
  return { ok: true, taskIds };
}
