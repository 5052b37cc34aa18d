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
 *   before a request is started, so the undici Pool never queues a request. A full pool is a fast 503
 *   envelope, never a wait. forward.ts keeps log streams and file reads in a pool of their own, so short
 *   calls (status, progress, kill, ...) always find a socket.
 *
 * Both answers carry `Retry-After: 1`: the bound frees as soon as one of the caller's requests ends.
 */
import type { ServerResponse } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
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
  budget: SocketBudget;
  /** For the 503's message. */
  what: string;
  /** This pool's undici Pool to one instance address (an origin), made on first use. */
  dispatcher(origin: string): Pool;
}

/** Route kinds whose answers may stream for as long as the client reads: the Entrance log, publicservice files. */
const STREAMING_KINDS: ReadonlySet<string> = new Set(['log', 'filesystem']);

export interface UpstreamPoolOptions {
  maxSockets: number;
  /** Makes the Pool's clients (forward.ts: clients that know their connection, under the gateway's connect timeout). */
  factory: (origin: URL, options: object) => Dispatcher;
}

/**
 * The forwarder's two pools, each of `maxSockets` connections per instance: short calls, and streams.
 * One undici Pool per instance address and pool, one request per connection at a time (pipelining 1:
 * a submission never waits behind another request, and a failing connection takes one request with it).
 * The budget is taken before a request is dispatched and stays at or below the Pool's connections, so
 * undici's own queue stays empty. undici's header and body timeouts are off: upstream-connections.ts keeps
 * the gateway's own (its semantics, at millisecond precision).
 */
export function createUpstreamPools(opts: UpstreamPoolOptions): { forRoute(route: Route | undefined): UpstreamPool; close(): void } {
  const all: Array<Map<string, Pool>> = [];
  const pool = (what: string): UpstreamPool => {
    const byOrigin = new Map<string, Pool>();
    all.push(byOrigin);
    return {
      budget: createSocketBudget(opts.maxSockets),
      what,
      dispatcher(origin) {
        let p = byOrigin.get(origin);
        if (p === undefined) {
          closeUnused(byOrigin);
          p = new Pool(origin, { connections: opts.maxSockets, pipelining: 1, headersTimeout: 0, bodyTimeout: 0, factory: opts.factory });
          byOrigin.set(origin, p);
        }
        return p;
      },
    };
  };
  const short = pool('connections');
  const stream = pool('connections for log streams and file reads');
  return {
    forRoute: (route) => (route && 'kind' in route && STREAMING_KINDS.has(route.kind) ? stream : short),
    close() {
      for (const byOrigin of all) {
        for (const p of byOrigin.values()) p.destroy().catch(() => undefined);
        byOrigin.clear();
      }
    },
  };
}

/**
 * Instances come and go (discovery): when a new address is first used, the pools with nothing open (no
 * connection, no request) are closed and forgotten; an address used again gets a new one.
 * Idle keep-alive connections close on their own (undici's keep-alive timeout, or the server's hint).
 */
function closeUnused(byOrigin: Map<string, Pool>): void {
  for (const [origin, p] of byOrigin) {
    const s = p.stats;
    if (s.connected === 0 && s.size === 0) {
      byOrigin.delete(origin);
      p.close().catch(() => undefined);
    }
  }
}
