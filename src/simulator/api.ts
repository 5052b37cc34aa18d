/**
 * The Entrance REST API (LINKIS.md §2) for an authenticated user: submit, execute and the follow-ups.
 * Messages are Linkis's own texts (EntranceRestfulApi.java, EntranceMetricRestfulApi.java, release 1.8.0)
 * so that the gateway is tested against what it will really pass through.
 */
import type { Readable } from 'node:stream';
import { JobStore, progressOf, type SimJob } from './jobs';
import { hugeLogBody, readLogPage } from './log';
import { execute, parseBody, submit } from './submit';
import { resolveTaskFollowUp, TASK_ID_OPS } from './taskid';
import { API_PREFIX, envelope, error, ok, type Answer, type ServiceIdentity } from './wire';

export interface ApiSettings {
  store: JobStore;
  pollsPerState: number;
  hugeLogBytes: number | undefined;
  /** 'kill-only' is Linkis exactly (only kill checks the owner); 'always' refuses every follow-up on another user's job. */
  ownerCheck: 'always' | 'kill-only';
  /** 'shortId' is Linkis exactly (see JobStore.find); 'execId' only knows ids this instance issued. */
  lookup: 'shortId' | 'execId';
  /**
   * How a numeric taskID in a follow-up is resolved: 'jobInstanceKey' is Linkis 1.8.0 (the gateway's header
   * says which job it is), 'memory' looks the taskID up among this instance's own jobs (the simulator's
   * behaviour before it had a job history).
   */
  taskIds: 'jobInstanceKey' | 'memory';
  /** This Entrance's instance name and error identity. */
  instance: string;
  who: ServiceIdentity;
  /** JobHistoryHelper.forceKill on the shared job history, when there is one. */
  forceKill?: (taskID: number) => void;
}

export type ApiResult = { answer: Answer } | { stream: Readable };

export interface ApiRequest {
  httpMethod: string;
  /** Path after API_PREFIX, still percent-encoded. */
  rest: string;
  query: URLSearchParams;
  body: string;
  user: string;
  /** The `jobInstanceKey` header, if sent. */
  jobInstance: string | undefined;
}

const FOLLOW_UPS = new Set(['status', 'progress', 'progressWithResource', 'log', 'kill', 'killJobs', 'pause']);

const UNKNOWN_JOB: Record<string, (id: string) => string> = {
  status: () => 'ID The corresponding job is empty and cannot obtain the corresponding task status.(ID 对应的job为空，不能获取相应的任务状态)',
  progress: () => 'The job corresponding to the ID is empty, and the corresponding task progress cannot be obtained.(ID 对应的job为空，不能获取相应的任务进度)',
  log: (id) => `Can't find execID(不能找到execID): ${id}Corresponding job, can not get the corresponding log(对应的job，不能获得对应的日志)`,
  kill: () => 'Get job by ID error, kill failed.(获取job时发生异常，kill失败)',
  pause: (id) => `can not find the job of exexID :${id} can not pause (不能找到execID: ${id}对应的job，不能进行pause)`,
};
UNKNOWN_JOB.progressWithResource = UNKNOWN_JOB.progress;

const KILLED = 'Successfully killed the job(成功kill了job)';

function answer(a: Answer): ApiResult {
  return { answer: a };
}

function notFound(req: ApiRequest): ApiResult {
  const path = API_PREFIX + req.rest;
  return answer(envelope(path, 1, `No handler found for ${req.httpMethod} ${path}`, {}, 404));
}

function wrongMethod(req: ApiRequest, path: string): ApiResult {
  return answer(envelope(path, 1, `Request method '${req.httpMethod}' not supported`, {}, 405));
}

/** Java's Integer.parseInt, whose failure Linkis reports as the exception's text. */
function javaInt(s: string | null, fallback: number): number | string {
  if (s === null || s.trim() === '') return fallback;
  const n = /^[+-]?[0-9]+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n > 2147483647 || n < -2147483648) return `NumberFormatException: For input string: "${s}"`;
  return n;
}

export function handleApi(s: ApiSettings, req: ApiRequest): ApiResult {
  const { rest } = req;
  if (rest === 'submit' || rest === 'execute') {
    const method = API_PREFIX + rest;
    if (req.httpMethod !== 'POST') return wrongMethod(req, method);
    const parsed = parseBody(method, req.body);
    if ('fail' in parsed) return parsed.fail;
    return rest === 'submit' ? submit(s, method, parsed.value, req.user) : execute(s, method, parsed.value, req.user);
  }
  if (rest === 'operation/metrics/runningtask') {
    if (req.httpMethod !== 'GET') return wrongMethod(req, API_PREFIX + rest);
    const running = s.store.runningCount();
    return answer(ok(API_PREFIX + rest, 'success', { runningTaskNumber: running, isCompleted: running === 0 }));
  }
  const slash = rest.lastIndexOf('/');
  const op = rest.slice(slash + 1);
  const rawId = rest.slice(0, Math.max(slash, 0));
  // Spring's {id} never spans a '/', so such paths match no handler.
  if (slash <= 0 || rawId.includes('/') || !FOLLOW_UPS.has(op)) return notFound(req);
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    return answer(error(API_PREFIX + rest, `Unrecognized execId (不能识别的execId):${rawId}.`));
  }
  const method = `${API_PREFIX}${id}/${op}`;
  const expected = op === 'killJobs' ? 'POST' : 'GET';
  if (req.httpMethod !== expected) return wrongMethod(req, method);
  // killJobs names its jobs in the body; the id in its path is not looked at (the web console sends any).
  if (op === 'killJobs') return killJobs(s, method, req);

  let job: SimJob | undefined;
  let execID = id;
  if (s.taskIds === 'jobInstanceKey' && /^[0-9]+$/.test(id) && TASK_ID_OPS.has(op)) {
    const resolved = resolveTaskFollowUp({ op, id, method, header: req.jobInstance, query: req.query, store: s.store, instance: s.instance, who: s.who, forceKill: s.forceKill });
    if ('answer' in resolved) return resolved;
    ({ job, execID } = resolved);
  } else {
    job = s.store.find(id, s.lookup === 'shortId');
  }
  if (!job) return answer(error(method, UNKNOWN_JOB[op](id)));
  if (job.user !== req.user && (op === 'kill' || s.ownerCheck === 'always')) {
    const verb = op === 'kill' ? 'kill' : 'view';
    // The kill text, typo included, is Linkis's; Linkis has no such check on the other follow-ups.
    return answer(error(method, `You have no permission to ${verb} this job, excecute by user:${job.user}`));
  }
  switch (op) {
    case 'status':
      return answer(ok(method, 'OK', { execID, status: s.store.pollStatus(job, s.pollsPerState) }));
    case 'progress':
      return answer(ok(method, 'OK', { execID, ...progressOf(job) }));
    case 'progressWithResource':
      return answer(ok(method, 'OK', { execID, ...progressOf(job), yarnResource: null }));
    case 'log':
      return log(s, method, execID, job, req.query);
    case 'kill':
      s.store.kill(job);
      return answer(ok(method, KILLED, { execID }));
    default: // pause: accepted and ignored, as in Linkis
      return answer(ok(method, 'success to pause job (成功pause了job)', { execID }));
  }
}

function log(s: ApiSettings, method: string, id: string, job: SimJob, query: URLSearchParams): ApiResult {
  const fromLine = javaInt(query.get('fromLine'), 0);
  const size = javaInt(query.get('size'), 100);
  if (typeof fromLine === 'string') return answer(error(method, fromLine));
  if (typeof size === 'string') return answer(error(method, size));
  if (s.hugeLogBytes !== undefined) return { stream: hugeLogBody(method, id, s.hugeLogBytes, Math.max(fromLine, 0)) };
  const page = readLogPage(job, fromLine, size);
  // distinctLevel=false asks for one string instead of the four levels.
  const logValue = query.get('distinctLevel') === 'false' ? page.logs[3] : page.logs;
  return answer(ok(method, 'OK', { execID: id, log: logValue, fromLine: page.nextFromLine }));
}

function killJobs(s: ApiSettings, method: string, req: ApiRequest): ApiResult {
  const parsed = parseBody(method, req.body);
  if ('fail' in parsed) return parsed.fail;
  const ids = parsed.value.idList;
  const taskIds = parsed.value.taskIDList;
  if (!Array.isArray(ids) || !Array.isArray(taskIds)) return answer(error(method, 'Request parameter error, please use array(请求参数错误，请使用数组)'));
  if (ids.length !== taskIds.length) {
    return answer(error(method, 'The length of the ID list does not match the length of the TASKID list(id列表的长度与taskId列表的长度不一致)'));
  }
  const messages: Array<Record<string, unknown>> = [];
  for (const raw of ids) {
    const id = String(raw);
    const job = s.store.find(id, s.lookup === 'shortId');
    if (!job) {
      // Linkis then force-kills the task in its job history and reports success.
      messages.push({ method: `${API_PREFIX}${id}/killJobs`, status: 0, message: 'Forced Kill task (强制杀死任务)', data: {} });
      continue;
    }
    if (job.user !== req.user) return answer(error(method, `You have no permission to kill this job, excecute by user:${job.user}`));
    s.store.kill(job);
    messages.push({ method: `${API_PREFIX}${id}/kill`, status: 0, message: KILLED, data: { execID: id } });
  }
  return answer(ok(method, 'success', { messages }));
}
