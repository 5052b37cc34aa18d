/**
 * One request to an Entrance, as an undici dispatch handler: the answer goes straight into the client's
 * ServerResponse (no IncomingMessage, no header object, no stream pipe), by the decisions in
 * upstream-answer.ts. Back-pressure: when the client's socket is full, onData returns false and undici
 * stops reading the Entrance's socket until 'drain'.
 *
 * Accounting: `upstream.inFlight` and the pool budget are taken by the constructor (right before the
 * dispatch) and given back exactly once, by `release`, when undici reports the request over (onComplete
 * or onError, which undici calls exactly one of; both guarded all the same).
 *
 * Ending it early (the client left, or no byte from the Entrance for the idle timeout): undici hands the
 * abort function over only once the request is on a connection (onConnect); asked for before that, the
 * abort waits for it. A request still connecting ends with the connect timeout.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Upstream } from '../control-plane/upstreams';
import { classifyUpstreamError, GatewayError } from '../linkis/errors';
import type { RequestContext } from './context';
import type { UpstreamPool } from './fair-share';
import type { Next } from './pipeline';
import { StreamedAnswer } from './answer-stream';
import { MAX_READ_BODY, answerMode, forwardedHeaders, isPassableStatus, startsLikeEnvelope } from './upstream-answer';
import { sendBadBody, sendBadStatus, sendErrorAnswer, sendUpstreamReset, sendWholeSuccess } from './upstream-answer';
import { codedError, type IdleWatch, type TrackedClient, type Watched } from './upstream-connections';

/** What the forwarder (forward.ts) does for its exchanges. */
export interface ExchangeOwner {
  readonly idle: IdleWatch;
  /** The Entrance answered (any status): its health mark. */
  answered(x: UpstreamExchange): void;
  /** No answer came (refused, reset, timed out, ...): fail over or answer with an envelope. */
  failed(x: UpstreamExchange, err: NodeJS.ErrnoException): void;
}

/**
 * waiting: no answer yet; error / whole: read whole (an error answer, a small success); gather: reading a
 * success of no declared length, whole while it stays small; sniff: waiting for the first bytes of a large
 * success; stream: passing it on (answer-stream.ts); bad: reading what is not an envelope (to quote it);
 * done: over, or answered by the gateway already.
 */
type Phase = 'waiting' | 'error' | 'whole' | 'gather' | 'sniff' | 'stream' | 'bad' | 'done';

const NO_HEADERS: string[] = [];
const EMPTY = Buffer.alloc(0);

export class UpstreamExchange implements Dispatcher.DispatchHandlers, Watched {
  seen = 0;
  /** Set by the pool's client as it takes the request. */
  client: TrackedClient | null = null;
  private phase: Phase = 'waiting';
  private abort: ((err?: Error) => void) | null = null;
  /** An abort asked for before onConnect: null for "the client left", else the error. */
  private pendingAbort: Error | null | undefined = undefined;
  private resume: (() => void) | null = null;
  private stream: StreamedAnswer | null = null;
  private released = false;
  private status = 0;
  private head: string[] = NO_HEADERS;
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly owner: ExchangeOwner,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly next: Next,
    readonly ctx: RequestContext,
    private readonly pool: UpstreamPool,
    readonly upstream: Upstream,
  ) {
    upstream.inFlight++;
    owner.idle.add(this);
    // The client left before its answer was complete: end the upstream request, freeing its connection.
    // ('close' comes once: `on` spares the once-wrapper.)
    res.on('close', () => {
      if (!this.released && !res.writableFinished) this.cancel(null);
    });
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
    // Not written yet: undici's abort drops it cleanly here.
    if (this.pendingAbort !== undefined) abort(this.pendingAbort ?? undefined);
  }

  onIdle(timeoutMs: number): void {
    this.cancel(codedError('GW_RESPONSE_TIMEOUT', `no byte from the Entrance for ${timeoutMs} ms`));
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    this.seen = this.owner.idle.tick;
    const ctx = this.ctx;
    ctx.upstreamStatus = status;
    this.owner.answered(this);
    if (!isPassableStatus(status)) {
      // undici hands 1xx (but 100 and 101) and statuses below 100 over as well; none is a Linkis answer (nor is 407).
      this.phase = 'done';
      sendBadStatus(this.res, ctx, this.req, status);
      // An upstream speaking such HTTP is not reused: the connection is closed.
      this.cancel(codedError('GW_BAD_STATUS', `HTTP status ${status}`));
      return false;
    }
    this.status = status;
    this.resume = resume;
    this.head = forwardedHeaders(raw, ctx.id);
    this.phase = answerMode(status, this.head);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.seen = this.owner.idle.tick;
    const phase = this.phase;
    if (phase === 'stream') return this.stream!.push(chunk);
    if (phase === 'sniff') {
      // An envelope always starts with '{': stream the rest; anything else is read (bounded) to be quoted.
      if (startsLikeEnvelope([chunk])) return this.startStream(chunk);
      this.phase = 'bad';
    } else if (phase === 'gather') {
      // No declared length (chunked): checked whole like a small success while it stays small.
      this.chunks.push(chunk);
      this.size += chunk.length;
      if (this.size <= MAX_READ_BODY) return true;
      if (startsLikeEnvelope(this.chunks)) return this.startStream(this.body());
      this.phase = 'bad';
      return true;
    }
    if (this.size < MAX_READ_BODY) this.chunks.push(this.size + chunk.length > MAX_READ_BODY ? chunk.subarray(0, MAX_READ_BODY - this.size) : chunk);
    this.size += chunk.length;
    return true;
  }

  onComplete(): void {
    const phase = this.phase;
    this.phase = 'done';
    this.release();
    const { res, ctx, req, status } = this;
    try {
      if (phase === 'stream') {
        if (!this.stream!.finish()) ctx.errorCode = 'UPSTREAM_BAD_ANSWER'; // cut before its last chunk
      } else if (phase === 'whole' || phase === 'gather') sendWholeSuccess(res, ctx, req, status, this.head, this.body());
      else if (phase === 'error') sendErrorAnswer(res, ctx, req, status, this.head, this.body());
      else if (phase === 'bad' || phase === 'sniff') sendBadBody(res, ctx, req, status, this.body());
    } catch {
      // writeHead refused a header the upstream's parser let through: never leave the client waiting.
      if (res.headersSent || res.destroyed) res.destroy();
      else sendUpstreamReset(res, ctx, req);
    }
  }

  onError(err: Error): void {
    const phase = this.phase;
    this.phase = 'done';
    this.release();
    if (phase === 'done') return; // the gateway answered already (a status it refuses)
    if (phase === 'waiting') return this.owner.failed(this, err as NodeJS.ErrnoException);
    // The Entrance died or went silent mid-answer. Part of it went out already (or the client left):
    // cut the client's connection, so it sees a truncated response, never a success spliced with an error.
    const { res, ctx, req } = this;
    if (res.headersSent || res.destroyed) {
      if (!res.writableFinished) res.destroy();
      return;
    }
    // Nothing went out yet (the answer was being read whole): say so with an envelope.
    const { code, failure } = classifyUpstreamError(err as NodeJS.ErrnoException);
    if (failure !== 'timeout') return sendUpstreamReset(res, ctx, req);
    ctx.failure = failure;
    this.next(new GatewayError(code, this.upstream.name, failure, { cause: err }));
  }

  /**
   * One buffer, so one write per chunk from the Entrance: writing again after the client's socket said
   * "full" makes Node emit 'drain' inside that write (for a response still queued behind the previous one on
   * its connection), and the resume it triggers would read and write on without ever yielding.
   */
  private startStream(first: Buffer): boolean {
    this.phase = 'stream';
    this.chunks = [];
    this.res.writeHead(this.status, this.head);
    this.stream = new StreamedAnswer(this.res, this.resume!);
    return this.stream.push(first);
  }

  private body(): Buffer {
    return this.chunks.length === 0 ? EMPTY : this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }

  /**
   * Ends the request: `err` is the reason (null: the client left). On its connection, by destroying the
   * connection with the reason (see upstream-connections.ts for why not undici's abort); undici then
   * reports the reason to onError. Before the request has a connection, once it gets one.
   */
  private cancel(err: Error | null): void {
    if (this.released) return;
    if (!this.abort) {
      this.pendingAbort ??= err;
      return;
    }
    const socket = this.client?.socket;
    if (socket && !socket.destroyed) socket.destroy(err ?? codedError('GW_CLIENT_GONE', 'the client left'));
    else this.abort(err ?? undefined);
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.upstream.inFlight--;
    this.pool.budget.give(this.upstream.name);
    this.owner.idle.delete(this);
  }
}
