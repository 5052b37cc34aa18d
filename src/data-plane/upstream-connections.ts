/**
 * The forwarder's connections and its two upstream timeouts, kept apart from undici's own:
 *
 * - connect: a native timer around undici's connector, once per new connection (a pooled one is
 *   connected already). undici's `connect.timeout` runs on its coarse "fast timers" (a ~0.5 s tick), so a
 *   300 ms setting would fire after about a second.
 * - idle (`gateway.upstream.response.timeout.ms`): no byte from the Entrance for that long, before or
 *   during the answer, counted from the start of the request. undici's headersTimeout/bodyTimeout are
 *   close but not the same: both run on the coarse ticks, the headers timer only starts once the request
 *   is written and stops while its body is being written, and the body timer stops while the client's
 *   back-pressure holds the answer (a reader that never reads would then hold an upstream socket for
 *   ever). Both are off in the pools (fair-share.ts); this one replaces them.
 *
 * The idle watch is one interval per forwarder, not a timer per request: each chunk only stores the
 * current tick in its exchange, and a sweep a quarter of the timeout apart ends the exchanges whose last
 * byte is older than the timeout. It fires between 1 and 1.25 times the timeout after the last byte
 * (never early), and only runs while an upstream request is open.
 *
 * Each pooled client knows its connection (TrackedClient), so that a request is ended by destroying the
 * connection with the reason. undici's own abort() marks the socket's error as informational, which
 * leaves the aborted request queued: the client then opens a fresh connection only to drop the request
 * there, and that idle connection to the Entrance stays for the keep-alive time.
 */
import type { Socket } from 'node:net';
import { Client, buildConnector, type Dispatcher } from 'undici';

/** An upstream request the idle watch follows. */
export interface Watched {
  /** The watch's tick when the last byte came from the Entrance (or the request started). */
  seen: number;
  /** No byte for the timeout: end the request. Called once; the exchange is no longer watched then. */
  onIdle(timeoutMs: number): void;
}

export class IdleWatch {
  /** Read by every chunk: `exchange.seen = watch.tick`. */
  tick = 0;
  private readonly watched = new Set<Watched>();
  private readonly stepMs: number;
  private readonly ticks: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly timeoutMs: number) {
    this.stepMs = Math.max(5, Math.min(1000, Math.floor(timeoutMs / 4)));
    this.ticks = Math.ceil(timeoutMs / this.stepMs);
  }

  add(w: Watched): void {
    w.seen = this.tick;
    this.watched.add(w);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.stepMs);
      this.timer.unref();
    }
  }

  delete(w: Watched): void {
    this.watched.delete(w);
  }

  /** Open requests being watched (for tests). */
  get size(): number {
    return this.watched.size;
  }

  private sweep(): void {
    const now = ++this.tick;
    // A watched request registered just after tick k has seen = k; it ends at tick k + ticks + 1, at
    // least ticks × step (>= the timeout) after it started or last heard from the Entrance.
    for (const w of this.watched) {
      if (now - w.seen > this.ticks) {
        this.watched.delete(w);
        w.onIdle(this.timeoutMs);
      }
    }
    if (this.watched.size === 0) this.stop();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    this.watched.clear();
  }
}

export function codedError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

type Connector = buildConnector.connector;

/** undici's plain-TCP connector with a native connect timer: the error is GW_CONNECT_TIMEOUT. */
export function connectWithin(timeoutMs: number): Connector {
  // timeout 0: undici's own (coarse) connect timer is off; this one replaces it.
  const connect = buildConnector({ timeout: 0 }) as unknown as (options: buildConnector.Options, callback: buildConnector.Callback) => Socket;
  return (options, callback) => {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const socket = connect(options, (...args) => {
      done = true;
      clearTimeout(timer);
      callback(...args);
    });
    // Destroying with an error makes the connector call back with it: no byte of the request went out.
    if (!done) timer = setTimeout(() => socket.destroy(codedError('GW_CONNECT_TIMEOUT', `no connection within ${timeoutMs} ms`)), timeoutMs);
  };
}

/** A pooled client that knows its connection and hands itself to the handler of each request it takes. */
export class TrackedClient extends Client {
  /** The client's connection: with pipelining 1, the one its current request runs on. */
  socket: Socket | null = null;

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers): boolean {
    (handler as { client?: TrackedClient }).client = this;
    return super.dispatch(options, handler);
  }
}

/** The Pool `factory`: TrackedClients that connect through connectWithin(connectTimeoutMs). */
export function trackedClients(connectTimeoutMs: number): (origin: URL, options: object) => Dispatcher {
  const connect = connectWithin(connectTimeoutMs);
  return (origin, options) => {
    const client: TrackedClient = new TrackedClient(origin, {
      ...(options as Client.Options),
      connect: (o, callback) =>
        connect(o, (...args) => {
          client.socket = args[1] as Socket | null;
          callback(...args);
        }),
    });
    return client;
  };
}
