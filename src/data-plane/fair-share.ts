/**
 * Fair share of the Entrances. The rate limits bound requests per minute; they do not bound how many
 * requests one caller keeps open at once, and a slow log stream holds an upstream socket for as long as
 * its reader takes. Without a bound, one token opening a few hundred slow log streams held every socket
 * to an Entrance and every other user's poll queued behind them for about a minute.
 *
 * Two parts:
 * - a data-plane step (createFairShare): concurrent upstream requests per token+user and per client
 *   address are counted from the start of forwarding to the end of the answer (the response's `close`,
 *   so a client that leaves frees its share at once); past the bound, a 429 envelope at once;
 * - socket budgets for the forwarder (createSocketBudget): per upstream instance and per pool, taken
 *   before a request is started, so the http.Agent never queues a request. A full pool is a fast 503
 *   envelope, never a wait. forward.ts keeps log streams and file reads in a pool of their own, so short
 *   calls (status, progress, kill, ...) always find a socket.
 *
 * Both answers carry `Retry-After: 1`: the bound frees as soon as one of the caller's requests ends.
 */
import { Agent, type ServerResponse } from 'node:http';
import { GatewayError } from '../linkis/errors';
import type { Route } from '../linkis/routes';
import { contextOf } from './context';
import type { Middleware } from './pipeline';

export interface FairShareOptions {
  /** Concurrent upstream requests per token and effective user; 0: no bound. */
  maxPerUser: number;
  /** Concurrent upstream requests per client address; 0: no bound. */
  maxPerClient: number;
}

/** Seconds a refused caller should wait: one of its own requests usually ends well within that. */
export const RETRY_AFTER_SECONDS = '1';

/** Counts per key; a key at zero is deleted, so a stream of one-off clients cannot grow the maps. */
class Counter {
  private readonly counts = new Map<string, number>();
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  add(key: string): void {
    this.counts.set(key, this.get(key) + 1);
  }
  remove(key: string): void {
    const n = this.get(key) - 1;
    if (n > 0) this.counts.set(key, n);
    else this.counts.delete(key);
  }
  get size(): number {
    return this.counts.size;
  }
}

export interface FairShareStep extends Middleware {
  /** Keys with requests in flight (for tests: every share is given back). */
  readonly inFlight: () => { users: number; clients: number };
}

/** The step: place it right before forwarding, after authentication and routing. */
export function createFairShare(opts: FairShareOptions): FairShareStep {
  const users = new Counter();
  const clients = new Counter();
  const step = ((req, res, next) => {
    if (opts.maxPerUser <= 0 && opts.maxPerClient <= 0) return next();
    const ctx = contextOf(req);
    const user = `${ctx.tokenFingerprint}|${ctx.user}`;
    const client = ctx.clientAddress ?? req.socket.remoteAddress ?? '';
    if (opts.maxPerUser > 0 && users.get(user) >= opts.maxPerUser) {
      return refuse(res, next, `${opts.maxPerUser} requests of this token and user are in progress (gateway.upstream.max.per.user)`);
    }
    if (opts.maxPerClient > 0 && clients.get(client) >= opts.maxPerClient) {
      return refuse(res, next, `${opts.maxPerClient} requests from this client address are in progress (gateway.upstream.max.per.client)`);
    }
    users.add(user);
    clients.add(client);
    // `close` comes once the answer is done or the connection is gone, whichever is first.
    res.once('close', () => {
      users.remove(user);
      clients.remove(client);
    });
    next();
  }) as FairShareStep;
  Object.defineProperty(step, 'inFlight', { value: () => ({ users: users.size, clients: clients.size }) });
  return step;
}

function refuse(res: ServerResponse, next: (err?: unknown) => void, detail: string): void {
  res.setHeader('retry-after', RETRY_AFTER_SECONDS);
  next(new GatewayError('CONCURRENCY_LIMITED', detail));
}

export interface SocketBudget {
  /** Takes one of `max` sockets of `instance`; false (nothing taken) when all are in use. */
  take(instance: string): boolean;
  give(instance: string): void;
  inUse(instance: string): number;
  readonly max: number;
}

/** Upstream sockets per instance for one pool: the forwarder takes one before it starts a request. */
export function createSocketBudget(max: number): SocketBudget {
  const used = new Counter();
  return {
    max,
    take(instance) {
      if (used.get(instance) >= max) return false;
      used.add(instance);
      return true;
    },
    give: (instance) => used.remove(instance),
    inUse: (instance) => used.get(instance),
  };
}

export interface UpstreamPool {
  agent: Agent;
  budget: SocketBudget;
  /** For the 503's message. */
  what: string;
}

/** Route kinds whose answers may stream for as long as the client reads: the Entrance log, publicservice files. */
const STREAMING_KINDS: ReadonlySet<string> = new Set(['log', 'filesystem']);

/** The forwarder's two pools, each of `maxSockets` per instance: short calls, and streams. */
export function createUpstreamPools(maxSockets: number): { forRoute(route: Route | undefined): UpstreamPool; close(): void } {
  const pool = (what: string): UpstreamPool => ({
    // The budget keeps the Agent below its own maxSockets, so the Agent's queue stays empty.
    agent: new Agent({ keepAlive: true, maxSockets, maxFreeSockets: Math.min(maxSockets, 64), scheduling: 'lifo' }),
    budget: createSocketBudget(maxSockets),
    what,
  });
  const short = pool('connections');
  const stream = pool('connections for log streams and file reads');
  return {
    forRoute: (route) => (route && 'kind' in route && STREAMING_KINDS.has(route.kind) ? stream : short),
    close() {
      short.agent.destroy();
      stream.agent.destroy();
    },
  };
}
