/**
 * An Entrance simulator that behaves like an unmodified Linkis Entrance (LINKIS.md), for tests, the demo,
 * benchmarks and docker-compose. Plain node:http so that it costs little under benchmark load.
 *
 * Order of work per request, as in Linkis: record it, then (fault modes aside) SecurityFilter's cookie
 * check, then the REST handler.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { createTicketCodec } from '../linkis/ticket';
import { handleApi, type ApiSettings } from './api';
import { answerFault, type FaultMode } from './faults';
import { historyRecorder } from './history-sync';
import type { JobHistory } from './job-history';
import { JobStore, type ExecIdFormat, type SimJob } from './jobs';
import { readUser, record, serve, type ReceivedRequest } from './server';
import { JOB_INSTANCE_HEADER } from './taskid';
import { API_PREFIX, envelope, NOT_LOGGED_IN, sendAnswer } from './wire';

/** How much of a huge log die-mid-response sends before it cuts the connection. */
const DIE_AFTER_BYTES = 512 * 1024;

export type { FaultMode } from './faults';
export type { ExecIdFormat, JobState, SimJob } from './jobs';
export type { ReceivedRequest } from './server';

export interface SimulatorOptions {
  host?: string;
  port?: number;
  /** The name written into execIDs; default `${host}:${actualPort}`. */
  instance?: string;
  /** wds.linkis.crypt.key; default `bdp-for-server`. */
  cryptKey?: string;
  /** wds.linkis.session.ticket.key; default `linkis_user_session_ticket_id_v1` (`bdp-user-ticket-id` before 1.1.1). */
  ticketCookie?: string;
  execIdFormat?: ExecIdFormat;
  /** Status answers per state (Inited, Running, then the final state); default 1. 0 finishes at once. */
  pollsPerState?: number;
  /** Lines of log each job has; default 30. */
  logLines?: number;
  /** When set, `/log` streams an envelope of exactly this many bytes instead of the paged log. */
  hugeLogBytes?: number;
  /** Require `dataworkcloud_inner_request=true` next to the ticket, as Linkis does; default true. */
  requireInnerRequestCookie?: boolean;
  /** See ApiSettings.ownerCheck; default 'always'. */
  ownerCheck?: 'always' | 'kill-only';
  /** See ApiSettings.lookup; default 'shortId' (Linkis's own, misrouting-prone, behaviour). */
  lookup?: 'shortId' | 'execId';
  /** First taskID; default 1. Real taskIDs come from one shared database, so several simulators may want disjoint ranges. */
  taskIdStart?: number;
  /** Most requests kept in `received` (oldest dropped), so a long benchmark does not grow without bound; default 10000. */
  maxRecorded?: number;
  /**
   * The simulated Linkis database shared with other Entrances and the publicservice: taskIDs come from it
   * (taskIdStart is then unused), and the Entrance writes its jobs' rows, results and finished logs there.
   */
  history?: JobHistory;
  /** See ApiSettings.taskIds; default 'jobInstanceKey' with a history (Linkis 1.8.0), else 'memory'. */
  taskIds?: 'jobInstanceKey' | 'memory';
}

export interface EntranceSimulator {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly instance: string;
  readonly execIdFormat: ExecIdFormat;
  /** Fault knobs: read on every request, so tests may flip them at any time. */
  mode: FaultMode;
  pollsPerState: number;
  hugeLogBytes: number | undefined;
  requireInnerRequestCookie: boolean;
  readonly received: ReceivedRequest[];
  /** Jobs by the execID this instance issued. */
  readonly jobs: Map<string, SimJob>;
  /** Forgets requests and jobs, restarts numbering, and puts the knobs back to their starting values. */
  reset(): void;
  close(): Promise<void>;
}

export async function createEntranceSimulator(opts: SimulatorOptions = {}): Promise<EntranceSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const codec = createTicketCodec(opts.cryptKey ?? 'bdp-for-server');
  const ticketCookie = opts.ticketCookie ?? 'linkis_user_session_ticket_id_v1';
  const format = opts.execIdFormat ?? '1.x';
  const maxRecorded = opts.maxRecorded ?? 10_000;
  const initial = {
    mode: 'normal' as FaultMode,
    pollsPerState: opts.pollsPerState ?? 1,
    hugeLogBytes: opts.hugeLogBytes,
    requireInnerRequestCookie: opts.requireInnerRequestCookie ?? true,
  };
  let instance = opts.instance ?? '';
  const history = opts.history;
  let closed = false;
  const store: JobStore = new JobStore({
    format,
    instance: () => instance,
    logLines: opts.logLines ?? 30,
    taskIdStart: opts.taskIdStart ?? 1,
    allocateTaskId: history && (() => history.nextTaskId()),
    // A jobhistory read moves a job on only while this Entrance still holds it (not after close or reset).
    onChange:
      history &&
      historyRecorder(history, () => instance, (job: SimJob) => {
        if (!closed && store.jobs.get(job.execID) === job) store.pollStatus(job, sim.pollsPerState);
      }),
  });
  const received: ReceivedRequest[] = [];
  let closeServer = async (): Promise<void> => {};
  // Made once, not per request: the Entrance stays cheap under benchmark load.
  const who = { ip: host, port: 0, serviceKind: 'linkis-cg-entrance' };
  const forceKill = history && ((taskID: number) => history.forceKill(taskID));

  const sim: EntranceSimulator = {
    host,
    port: 0,
    url: '',
    instance,
    execIdFormat: format,
    ...initial,
    received,
    jobs: store.jobs,
    reset() {
      received.length = 0;
      store.reset();
      Object.assign(sim, initial);
    },
    close: () => {
      closed = true;
      return closeServer();
    },
  };

  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const { ticketUser, authorized } = readUser(codec, ticketCookie, req.headers, sim.requireInnerRequestCookie);
    record(received, maxRecorded, { method: req.method ?? '', path: target, headers: req.headers, body, ticketUser, at: Date.now() });

    const mode = sim.mode;
    if (answerFault(mode, res, path)) return;
    const die = mode === 'die-mid-response';
    if (!authorized) {
      // SecurityFilter answers with the raw request URI as the method.
      sendAnswer(res, envelope(path, -1, NOT_LOGGED_IN), die);
      return;
    }
    if (!path.startsWith(API_PREFIX)) {
      sendAnswer(res, envelope(path, 1, `No handler found for ${req.method} ${path}`, {}, 404), die);
      return;
    }
    const settings: ApiSettings = {
      store,
      pollsPerState: sim.pollsPerState,
      hugeLogBytes: sim.hugeLogBytes,
      ownerCheck: opts.ownerCheck ?? 'always',
      lookup: opts.lookup ?? 'shortId',
      taskIds: opts.taskIds ?? (history ? 'jobInstanceKey' : 'memory'),
      instance,
      who,
      forceKill,
    };
    let result;
    try {
      const header = req.headers[JOB_INSTANCE_HEADER];
      result = handleApi(settings, {
        httpMethod: req.method ?? 'GET',
        rest: path.slice(API_PREFIX.length),
        query: new URLSearchParams(q < 0 ? '' : target.slice(q + 1)),
        body,
        user: ticketUser!,
        jobInstance: Array.isArray(header) ? header[0] : header,
      });
    } catch (e) {
      // Linkis's catchIt: any exception becomes a status-1 envelope.
      sendAnswer(res, envelope(path, 1, `${(e as Error).name}: ${(e as Error).message}`), die);
      return;
    }
    if ('answer' in result) {
      sendAnswer(res, result.answer, die);
      return;
    }
    // The huge log: chunked, no Content-Length, pulled from its generator as the socket drains.
    res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' });
    if (die) {
      // Dies once 512 KB went out: past what a gateway may read whole before it passes an answer on.
      const stream = result.stream;
      let sent = 0;
      stream.on('data', (chunk: Buffer) => {
        sent += chunk.length;
        if (sent < DIE_AFTER_BYTES) {
          if (!res.write(chunk)) {
            stream.pause();
            res.once('drain', () => stream.resume());
          }
          return;
        }
        stream.destroy();
        res.write(chunk, () => res.destroy());
      });
      return;
    }
    pipeline(result.stream, res, () => {
      /* a client that goes away mid-stream is not an error here */
    });
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => res.destroy());
  });
  const serving = await serve(server, host, opts.port ?? 0);
  closeServer = serving.close;
  who.port = serving.port;
  if (!instance) instance = `${host}:${serving.port}`;
  Object.assign(sim, { port: serving.port, url: serving.url, instance });
  return sim;
}
