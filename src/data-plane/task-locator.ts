/**
 * Where a numeric taskID's job runs. Linkis's gateway reads its database; this gateway asks
 * linkis-ps-publicservice's job history **as the authenticated user** (so nobody learns where another
 * user's task runs), and remembers the answer briefly. Submission answers, which carry the taskID and the
 * execID together, fill the same cache at no cost, so a client polling right after submitting costs no
 * lookup. Entries are per user: one user's lookup never answers another's.
 */
import { Agent, request } from 'node:http';
import type { UpstreamRegistry } from '../control-plane/upstreams';
import { parseJobIdSegment } from '../linkis/execid';
import { classifyUpstreamError, GatewayError } from '../linkis/errors';
import { jobInstanceJson, readTaskAnswer, type TaskRecord } from '../linkis/job-history';
import { printable } from '../linkis/routes';

export interface TaskLocation {
  instance: string;
  /** The `jobInstanceKey` header value for the Entrance. */
  jobInstanceKey: string;
  source: 'cache' | 'jobhistory';
}

export interface TaskLocator {
  /** The cached location, synchronously (a cached taskID follow-up must cost no more than an execID one). */
  cached(taskId: string, user: string): TaskLocation | undefined;
  /** Resolves the task for this user, or rejects with a GatewayError from the catalogue. */
  locate(taskId: string, user: string, requestId: string): Promise<TaskLocation>;
  /** Resolves when the task is in this user's job history (cached as locate's are), or rejects like locate. */
  owns(taskId: string, user: string, requestId: string): Promise<void>;
  /** What a submission answer teaches: this user's task `taskId` is the job `execId`. */
  learn(user: string, taskId: string, execId: string): void;
  close(): void;
}

export interface TaskLocatorOptions {
  publicservice: UpstreamRegistry;
  /** From the service registry (gateway.discovery): no instance is "none available", not "not configured". */
  publicserviceDiscovered?: boolean;
  /** Cookie header that makes a Linkis service see `user` (the same ticket the data plane forwards). */
  cookieFor: (user: string) => string;
  cacheMs: number;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  /** The registry time of the named Entrance (gateway.discovery), for jobInstanceKey; 0 when not discovered. */
  registryTimestamp?: (instance: string) => number;
  maxEntries?: number;
  now?: () => number;
}

const MAX_ANSWER_BYTES = 256 * 1024;

export function createTaskLocator(opts: TaskLocatorOptions): TaskLocator {
  const now = opts.now ?? Date.now;
  const maxEntries = opts.maxEntries ?? 50_000;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  // Insertion order = age, so the first key is the oldest (the ticket cache's trick).
  const cache = new Map<string, { task: TaskRecord; at: number; located?: TaskLocation; registeredAt?: number }>();
  const inflight = new Map<string, Promise<TaskRecord>>();
  const remember = (key: string, task: TaskRecord) => {
    if (opts.cacheMs <= 0) return;
    cache.delete(key);
    cache.set(key, { task, at: now() });
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
  };
  // Built per lookup: the instance may have registered again since (cache hits rebuild it only then).
  const registeredAt = (task: TaskRecord) => opts.registryTimestamp?.(task.instance) ?? 0;
  const located = (task: TaskRecord, source: TaskLocation['source'], at = registeredAt(task)): TaskLocation =>
    Object.freeze({ instance: task.instance, jobInstanceKey: jobInstanceJson(task, at), source });

  const fetchTask = (taskId: string, user: string, requestId: string, tried: Set<string>): Promise<TaskRecord> => {
    const ps = opts.publicservice.pick(tried);
    if (!ps) {
      const code = opts.publicservice.all().length === 0 && !opts.publicserviceDiscovered ? 'PUBLICSERVICE_NOT_CONFIGURED' : 'NO_HEALTHY_PUBLICSERVICE';
      return Promise.reject(new GatewayError(code));
    }
    return new Promise<TaskRecord>((resolve, reject) => {
      const u = new URL(ps.url);
      const req = request({
        agent,
        hostname: u.hostname,
        port: Number(u.port || 80),
        method: 'GET',
        path: `/api/rest_j/v1/jobhistory/${taskId}/get`,
        headers: { cookie: opts.cookieFor(user), 'x-request-id': requestId, accept: 'application/json' },
      });
      const timer = setTimeout(() => req.destroy(Object.assign(new Error('job history lookup timed out'), { code: 'GW_RESPONSE_TIMEOUT' })), opts.responseTimeoutMs);
      let connectTimer: NodeJS.Timeout | undefined;
      req.once('socket', (socket) => {
        if (!socket.connecting) return; // a pooled socket is connected already
        connectTimer = setTimeout(() => req.destroy(Object.assign(new Error('no connection in time'), { code: 'GW_CONNECT_TIMEOUT' })), opts.connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connectTimer));
      });
      req.once('close', () => clearTimeout(connectTimer));
      req.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const { failure } = classifyUpstreamError(err);
        if (failure === 'refused' || failure === 'connect-timeout') {
          opts.publicservice.markFailure(ps.name);
          tried.add(ps.name);
          return resolve(fetchTask(taskId, user, requestId, tried)); // a GET that reached nobody: ask another instance
        }
        reject(new GatewayError('TASK_LOOKUP_FAILED', `publicservice ${ps.name}: ${failure}`, failure, { cause: err }));
      });
      req.once('response', (res) => {
        opts.publicservice.markSuccess(ps.name);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(c);
          else res.destroy();
        });
        res.once('error', () => undefined);
        res.once('close', () => {
          clearTimeout(timer);
          if (!res.complete || size > MAX_ANSWER_BYTES) return reject(new GatewayError('TASK_LOOKUP_FAILED', `publicservice ${ps.name} sent an incomplete or oversized answer`));
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            parsed = null;
          }
          const answer = readTaskAnswer(parsed);
          if (answer.ok) return resolve(answer.task);
          if (answer.notFound) return reject(new GatewayError('TASK_NOT_FOUND', `taskId ${taskId} is not in the job history of "${user}"`));
          reject(new GatewayError('TASK_LOOKUP_FAILED', `publicservice ${ps.name} answered HTTP ${res.statusCode}: ${answer.reason}`));
        });
      });
      req.end();
    });
  };

  const cached = (taskId: string, user: string): TaskLocation | undefined => {
    const hit = cache.get(`${user}\0${taskId}`);
    const t = now();
    if (!hit || t - hit.at >= opts.cacheMs || t < hit.at) return undefined;
    // Built once and reused while the instance's registry time is unchanged (it is part of jobInstanceKey).
    const at = registeredAt(hit.task);
    if (!hit.located || hit.registeredAt !== at) {
      hit.located = located(hit.task, 'cache', at);
      hit.registeredAt = at;
    }
    return hit.located;
  };

  // Concurrent follow-ups for one task (a dashboard, several pollers) share one job history call.
  const lookup = async (key: string, taskId: string, user: string, requestId: string): Promise<TaskRecord> => {
    let pending = inflight.get(key);
    if (!pending) {
      pending = fetchTask(taskId, user, requestId, new Set()).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    const task = await pending;
    // Only a task with its instance: one not yet placed is asked again (its instance comes soon).
    if (task.instance) remember(key, task);
    return task;
  };

  return {
    cached,
    async locate(taskId, user, requestId) {
      const hit = cached(taskId, user);
      if (hit) return hit;
      const task = await lookup(`${user}\0${taskId}`, taskId, user, requestId);
      if (!task.instance) throw new GatewayError('TASK_NOT_ROUTABLE', `taskId ${taskId} (status ${printable(task.status || 'unknown').slice(0, 32)})`);
      return located(task, 'jobhistory');
    },
    async owns(taskId, user, requestId) {
      if (!cached(taskId, user)) await lookup(`${user}\0${taskId}`, taskId, user, requestId);
    },
    learn(user, taskId, execId) {
      const parsed = parseJobIdSegment(execId);
      if (!parsed.ok || parsed.kind !== 'execId' || !/^[0-9]{1,19}$/.test(taskId)) return;
      remember(`${user}\0${taskId}`, { status: 'Inited', instance: parsed.instance, jobReqId: parsed.shortId, createTimestamp: now() });
    },
    close() {
      cache.clear();
      inflight.clear();
      agent.destroy();
    },
  };
}
