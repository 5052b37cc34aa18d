/**
 * linkis-ps-publicservice's job history API (QueryRestfulApi 1.8.0, research §1): `jobhistory/{id}/get`,
 * what linkis-cli and the Python SDK poll for a job's state, and `jobhistory/list`. A normal user sees only
 * the jobs they submitted (wds.linkis.jobhistory.safe.trigger=true); an admin sees all.
 */
import type { HistoryRow } from './job-history';
import { isAdmin, numberParam, type PsContext } from './ps-context';
import { error, ok, springBadRequest, type Answer } from './wire';

const NOT_FOUND =
  'The corresponding job was not found, or there may be no permission to view the job(没有找到对应的job，也可能是没有查看该job的权限)';

// QueryUtils.NAME_REGEX / INSTANCE_NAME_REGEX.
const NAME = /^[a-zA-Z\-\d_.]+$/;
const INSTANCE_NAME = /^[a-zA-Z\-\d_.:]+$/;

/** Gson's date format (`yyyy-MM-dd'T'HH:mm:ssZ`, local time): how dates sit inside the metrics JSON text. */
function gsonDate(millis: number): string {
  const d = new Date(millis);
  const p = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = `${off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${zone}`;
}

const seconds = (ms: number) => Math.floor(ms / 1000) * 1000;

/**
 * TaskConversions.jobHistory2TaskVO, keys in QueryTaskVO's order; dates are epoch millis (Jackson's
 * WRITE_DATES_AS_TIMESTAMPS). `/get` leaves the code out (linkis.jobhistory.query.execution.code.switch).
 */
export function toTaskVO(row: HistoryRow, withCode: boolean): Record<string, unknown> {
  const done = row.completedTime !== null;
  // The Entrance schedules a simulated job at once: submit and schedule time are the same second.
  const metrics = { submitTime: gsonDate(row.createdTime), scheduleTime: gsonDate(row.createdTime), ...(done ? { completeTime: gsonDate(row.completedTime!) } : {}) };
  const start = seconds(row.createdTime);
  const source = safeObject(row.source);
  return {
    taskID: row.taskID,
    instance: row.instance,
    execId: row.jobReqId,
    umUser: row.submitUser,
    executeUser: row.executeUser,
    engineInstance: null,
    executionCode: withCode ? row.executionCode : null,
    progress: row.progress,
    logPath: row.logPath,
    resultLocation: row.resultLocation,
    status: row.status,
    createdTime: row.createdTime,
    updatedTime: row.updatedTime,
    engineType: row.engineType,
    errCode: row.errCode,
    errDesc: row.errDesc,
    executeApplicationName: row.engineType,
    requestApplicationName: row.creator,
    runType: row.labels.codeType ?? '',
    paramsJson: row.params,
    costTime: (done ? seconds(row.completedTime!) : Date.now()) - start,
    strongerExecId: row.execID,
    sourceJson: row.source,
    sourceTailor: Object.values(source).map(String).join('-'),
    engineStartTime: null,
    labels: Object.entries(row.labels).map(([k, v]) => `${k}:${v}`),
    // No engine instance in the metrics and Failed: the web console offers a retry.
    canRetry: row.status === 'Failed',
    observeInfo: null,
    isReuse: null,
    requestStartTime: start,
    requestEndTime: start,
    requestSpendTime: 0,
    metrics: JSON.stringify(metrics),
    subJobs: null,
  };
}

function safeObject(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** GET jobhistory/{id}/get. A read by the job's own submitter moves the job on, as a status poll does. */
export function getTask(ctx: PsContext, rawId: string, user: string, path: string): Answer {
  const method = `/api/jobhistory/${rawId}/get`;
  if (!/^[+-]?[0-9]{1,18}$/.test(rawId)) return springBadRequest(path);
  const taskID = Number(rawId);
  let row = ctx.history.get(taskID);
  // No owner filter for admins; otherwise `submit_user = <login user>` in the query, so not yours = not found.
  if (!row || (row.submitUser !== user && !isAdmin(ctx, user))) return error(method, NOT_FOUND);
  if (row.submitUser === user) {
    ctx.history.poll(taskID);
    row = ctx.history.get(taskID)!;
  }
  const task = toTaskVO(row, false);
  if (row.status === 'Running') Object.assign(task, { errCode: null, errDesc: null });
  return ok(method, 'OK', { task });
}

/** GET jobhistory/list: `totalPage` is PageInfo.getTotal(), the number of rows, as Linkis sends it. */
export function listTasks(ctx: PsContext, q: URLSearchParams, user: string, path: string): Answer {
  const method = '/api/jobhistory/list';
  const nums = {
    startDate: numberParam(q, 'startDate', 0),
    endDate: numberParam(q, 'endDate', Date.now()),
    pageNow: numberParam(q, 'pageNow', 1),
    pageSize: numberParam(q, 'pageSize', 20),
    taskID: numberParam(q, 'taskID'),
  };
  if (Object.values(nums).includes('bad')) return springBadRequest(path);
  const { startDate, pageNow, pageSize, taskID } = nums as Record<keyof typeof nums, number | null>;
  let endDate = nums.endDate as number;
  // Same start and end: the end moves a day on.
  if (startDate === endDate) endDate += 86_400_000;
  const text = (name: string) => (q.get(name)?.trim() ? q.get(name)! : null);
  const creator = text('creator');
  const engineType = text('executeApplicationName');
  const instance = text('instance');
  if (creator !== null && !NAME.test(creator)) return error(method, `Invalid creator : ${creator}`);
  if (engineType !== null && !NAME.test(engineType)) return error(method, `Invalid applicationName : ${engineType}`);
  if (instance !== null && !INSTANCE_NAME.test(instance)) return error(method, `Invalid instances : ${instance}`);
  const adminView = isAdmin(ctx, user) && q.get('isAdminView') === 'true';
  const status = text('status');
  const { rows, total } = ctx.history.search(
    {
      user: adminView ? text('proxyUser') : user,
      taskID,
      statuses: status === null ? null : status.split(','),
      startDate: startDate!,
      endDate,
      engineType,
      creator,
      instance,
    },
    pageNow!,
    pageSize!,
  );
  return ok(method, 'OK', { tasks: rows.map((r) => toTaskVO(r, true)), totalPage: total });
}
