/**
 * Follow-ups that name a job by its numeric taskID (`GET entrance/{taskID}/status|progress|
 * progressWithResource|log|kill`), as EntranceRestfulApi 1.8.0 answers them: the Entrance knows nothing
 * about the taskID itself, it trusts the `jobInstanceKey` header the Linkis gateway adds (the JSON of
 * JobInstance{status, instances, jobReqId, createTimestamp, instanceRegistryTimestamp}).
 */
import { COMPLETED_STATES, ENTRANCE_APP_1X, makeExecId1x, type JobState, type JobStore, type SimJob } from './jobs';
import { error, exceptionAnswer, ok, type Answer, type ServiceIdentity } from './wire';

/** linkis.server.entrance.header.key (Node lower-cases header names). */
export const JOB_INSTANCE_HEADER = 'jobinstancekey';

export const TASK_ID_OPS: ReadonlySet<string> = new Set(['status', 'progress', 'progressWithResource', 'log', 'kill']);

const STATES: ReadonlySet<string> = new Set<JobState>(['Inited', 'WaitForRetry', 'Scheduled', 'Running', 'Succeed', 'Failed', 'Cancelled', 'Timeout']);

const ENDED_LOG =
  'The job you just executed has ended. This interface no longer provides a query. It is recommended that you download the log file for viewing.(您刚刚执行的job已经结束，本接口不再提供查询，建议您下载日志文件进行查看)';
const ENDED_KILL = 'The job already completed. Do not support kill.(任务已经结束，不支持kill)';
const FAILOVER_LOG = 'The job will failover soon, please try again later.(job很快就会failover，请稍后再试)';
export const FORCED_KILL = 'Forced Kill task (强制杀死任务)';

interface JobInstance {
  status: string | null;
  jobReqId: string | null;
  createTimestamp: number;
  instanceRegistryTimestamp: number;
}

/** Gson's fromJson: null for a missing or empty header; missing numbers stay 0; the root cause text on failure. */
function parseJobInstance(header: string | undefined): JobInstance | null | { fail: string } {
  if (header === undefined || header.trim() === '') return null;
  let v: unknown;
  try {
    v = JSON.parse(header);
  } catch (e) {
    return { fail: `MalformedJsonException: ${(e as Error).message}` };
  }
  if (v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) {
    return { fail: `IllegalStateException: Expected BEGIN_OBJECT but was ${Array.isArray(v) ? 'BEGIN_ARRAY' : typeof v === 'string' ? 'STRING' : typeof v === 'number' ? 'NUMBER' : 'BOOLEAN'} at line 1 column 2 path $` };
  }
  const o = v as Record<string, unknown>;
  const text = (x: unknown) => (typeof x === 'string' ? x : x === undefined || x === null ? null : String(x));
  const long = (x: unknown) => (typeof x === 'number' ? x : typeof x === 'string' && /^-?[0-9]+$/.test(x) ? Number(x) : 0);
  return { status: text(o.status), jobReqId: text(o.jobReqId), createTimestamp: long(o.createTimestamp), instanceRegistryTimestamp: long(o.instanceRegistryTimestamp) };
}

/** LogUtils.generateInfo's time, with its pattern's bug kept: `.mmm` is the minutes again, not milliseconds. */
function linkisLogTime(millis: number): string {
  const d = new Date(millis);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMinutes(), 3)}`;
}

export interface TaskFollowUp {
  op: string;
  /** The taskID as it stood in the path. */
  id: string;
  method: string;
  header: string | undefined;
  query: URLSearchParams;
  store: JobStore;
  /** This Entrance's instance name: the execID of a live job is regenerated with it. */
  instance: string;
  who: ServiceIdentity;
  /** JobHistoryHelper.forceKill; absent when no job history is shared. */
  forceKill?: (taskID: number) => void;
}

/** Either the final answer, or the job this Entrance holds under the header's jobReqId (maybe none) and its execID. */
export function resolveTaskFollowUp(t: TaskFollowUp): { answer: Answer } | { job: SimJob | undefined; execID: string } {
  const { op, id, method } = t;
  const ji = parseJobInstance(t.header);
  // No header: Linkis dereferences the null JobInstance, and catchIt reports the NullPointerException.
  if (ji === null) return { answer: exceptionAnswer(method, 'NullPointerException: ', t.who) };
  if ('fail' in ji) return { answer: exceptionAnswer(method, ji.fail, t.who) };
  if (ji.status === null || !STATES.has(ji.status)) {
    return { answer: exceptionAnswer(method, `NoSuchElementException: No value found for '${ji.status}'`, t.who) };
  }
  const progressData = (progress: string | number) => ({ progress, execID: '', taskID: id, progressInfo: [] });
  if (COMPLETED_STATES.has(ji.status as JobState)) {
    if (op === 'status') return { answer: ok(method, 'OK', { status: ji.status, execID: '', taskID: id }) };
    if (op === 'progress') return { answer: ok(method, 'OK', progressData('1.0')) };
    if (op === 'progressWithResource') return { answer: ok(method, 'OK', { yarnResource: null, ...progressData('1.0') }) };
    return { answer: error(method, op === 'log' ? ENDED_LOG : ENDED_KILL) };
  }
  // Registered after the job was created (or gone: the gateway then sends Long.MAX_VALUE): the job waits for failover.
  if (ji.instanceRegistryTimestamp > ji.createTimestamp) {
    if (op === 'status') return { answer: ok(method, 'OK', { status: 'Inited', execID: '', taskID: id }) };
    if (op === 'progress') return { answer: ok(method, 'OK', progressData(0)) };
    if (op === 'progressWithResource') return { answer: ok(method, 'OK', { yarnResource: null, ...progressData(0) }) };
    if (op === 'log') {
      const line = `${linkisLogTime(Date.now())} INFO ${FAILOVER_LOG}`;
      const log = t.query.get('distinctLevel') === 'false' ? line : [null, null, line, line];
      return { answer: ok(method, 'OK', { log, execID: '', taskID: id, fromLine: 0 }) };
    }
    t.forceKill?.(Number(id));
    return { answer: ok(method, FORCED_KILL, { execID: '', taskID: id }) };
  }
  const execID = makeExecId1x(ENTRANCE_APP_1X, t.instance, String(ji.jobReqId));
  const job = ji.jobReqId === null ? undefined : t.store.findByShortId(ji.jobReqId);
  if (!job && op === 'kill') {
    // Not in memory: Linkis force-kills the `taskID` query parameter, and unboxing a missing one throws.
    const taskID = t.query.get('taskID');
    if (taskID === null || !/^[0-9]+$/.test(taskID)) return { answer: exceptionAnswer(method, 'NullPointerException: ', t.who) };
    t.forceKill?.(Number(taskID));
    return { answer: ok(method, FORCED_KILL, {}) };
  }
  return { job, execID };
}
