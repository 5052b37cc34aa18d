/**
 * A linkis-ps-publicservice simulator: the job history and filesystem APIs that linkis-cli, the Java SDK and
 * the Python SDK read after submitting a job (research §7). It checks the ticket cookie exactly as the
 * Entrance simulator does, records what it receives, and supports the same fault modes. Plain node:http for
 * the same reasons as the Entrance.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createTicketCodec } from '../linkis/ticket';
import { answerFault, type FaultMode } from './faults';
import type { JobHistory } from './job-history';
import type { PsContext } from './ps-context';
import { getDirFileTrees, openFile, openLog } from './ps-filesystem';
import { getTask, listTasks } from './ps-jobhistory';
import { readUser, record, serve, type ReceivedRequest } from './server';
import { envelope, NOT_LOGGED_IN, REST_PREFIX, sendAnswer, type Answer } from './wire';

export interface PublicServiceOptions {
  /** The database it reads; shared with the Entrances that write it. */
  history: JobHistory;
  host?: string;
  port?: number;
  /** Its registry name; default `${host}:${actualPort}`. */
  instance?: string;
  cryptKey?: string;
  ticketCookie?: string;
  requireInnerRequestCookie?: boolean;
  /** Job history admins (wds.linkis.jobhistory.admin): see every job and every file; default ['hadoop'] as Linkis. */
  admins?: string[];
  /** wds.linkis.workspace.filesystem.owner.check; default true (Linkis's default is false: no path check at all). */
  ownerCheck?: boolean;
  maxRecorded?: number;
  /** Largest request body read; default 1 MiB (its GET endpoints take none). */
  maxBodyBytes?: number;
}

export interface PublicServiceSimulator {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly instance: string;
  readonly history: JobHistory;
  mode: FaultMode;
  requireInnerRequestCookie: boolean;
  readonly received: ReceivedRequest[];
  /** Forgets requests and puts the knobs back; the history is the database's, and stays. */
  reset(): void;
  close(): Promise<void>;
}

type Route = (ctx: PsContext, q: URLSearchParams, user: string, path: string, m: RegExpExecArray) => Answer;

const ROUTES: Array<[RegExp, Route]> = [
  [/^jobhistory\/list$/, (ctx, q, user, path) => listTasks(ctx, q, user, path)],
  [/^jobhistory\/([^/]+)\/get$/, (ctx, _q, user, path, m) => getTask(ctx, m[1]!, user, path)],
  [/^filesystem\/getDirFileTrees$/, (ctx, q, user) => getDirFileTrees(ctx, q, user)],
  [/^filesystem\/openFile$/, (ctx, q, user, path) => openFile(ctx, q, user, path)],
  [/^filesystem\/openLog$/, (ctx, q, user) => openLog(ctx, q, user)],
];

export async function createPublicServiceSimulator(opts: PublicServiceOptions): Promise<PublicServiceSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const codec = createTicketCodec(opts.cryptKey ?? 'bdp-for-server');
  const ticketCookie = opts.ticketCookie ?? 'linkis_user_session_ticket_id_v1';
  const maxRecorded = opts.maxRecorded ?? 10_000;
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
  const initial = { mode: 'normal' as FaultMode, requireInnerRequestCookie: opts.requireInnerRequestCookie ?? true };
  const received: ReceivedRequest[] = [];
  const ctx: PsContext = {
    history: opts.history,
    admins: new Set((opts.admins ?? ['hadoop']).map((a) => a.toLowerCase())),
    ownerCheck: opts.ownerCheck ?? true,
    who: { ip: host, port: 0, serviceKind: 'linkis-ps-publicservice' },
  };
  let closeServer = async (): Promise<void> => {};
  const sim: PublicServiceSimulator = {
    host,
    port: 0,
    url: '',
    instance: opts.instance ?? '',
    history: opts.history,
    ...initial,
    received,
    reset() {
      received.length = 0;
      Object.assign(sim, initial);
    },
    close: () => closeServer(),
  };

  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const { ticketUser, authorized } = readUser(codec, ticketCookie, req.headers, sim.requireInnerRequestCookie);
    record(received, maxRecorded, { method: req.method ?? '', path: target, headers: req.headers, body, ticketUser, at: Date.now() });
    if (answerFault(sim.mode, res, path)) return;
    const die = sim.mode === 'die-mid-response';
    // SecurityFilter answers with the raw request URI as the method.
    if (!authorized) return sendAnswer(res, envelope(path, -1, NOT_LOGGED_IN), die);
    const rest = path.startsWith(REST_PREFIX) ? path.slice(REST_PREFIX.length) : null;
    for (const [re, route] of rest === null ? [] : ROUTES) {
      const m = re.exec(rest!);
      if (!m) continue;
      if (req.method !== 'GET') return sendAnswer(res, envelope(path, 1, `Request method '${req.method}' not supported`, {}, 405), die);
      return sendAnswer(res, route(ctx, new URLSearchParams(q < 0 ? '' : target.slice(q + 1)), ticketUser!, path, m), die);
    }
    sendAnswer(res, envelope(path, 1, `No handler found for ${req.method} ${path}`, {}, 404), die);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= maxBody) chunks.push(c);
    });
    req.on('end', () => {
      if (size <= maxBody) return handle(req, res, Buffer.concat(chunks).toString('utf8'));
      // Spring refuses an oversized body before any handler; the connection is not kept.
      res.setHeader('connection', 'close');
      sendAnswer(res, envelope(req.url ?? '/', 1, `Request body too large: more than ${maxBody} bytes`, {}, 413));
    });
    req.on('error', () => res.destroy());
  });
  const serving = await serve(server, host, opts.port ?? 0);
  closeServer = serving.close;
  ctx.who.port = serving.port;
  Object.assign(sim, { port: serving.port, url: serving.url, instance: opts.instance ?? `${host}:${serving.port}` });
  return sim;
}
