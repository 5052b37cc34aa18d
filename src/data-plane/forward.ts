/**
 * Forwarding to an Entrance over keep-alive pools, with undici's `Pool.dispatch` directly. The gateway
 * handles every answer itself (upstream-dispatch.ts, upstream-answer.ts): envelopes stream through
 * unbuffered, foreign error answers become envelopes, and socket failures are classified into the error
 * catalogue. A submission whose connection was refused or never opened (no byte reached any Entrance)
 * fails over to the next instance; nothing else is ever retried, so a job cannot run twice and a
 * follow-up never reaches another instance.
 *
 * Two pools per instance, each of `maxSockets` connections: log streams and file reads last as long as
 * their reader takes, so they get a pool of their own and short calls (status, progress, kill,
 * submissions, job history) always find a connection. A connection is taken from the pool's budget
 * before the request starts: a full pool is a fast 503 envelope with Retry-After (a submission tries the
 * next instance first), never a queue inside undici.
 *
 * Why undici, and why by hand: measured on these machines (bench/), a bare Node pipe on undici's
 * `dispatch` costs about 0.6x the CPU per request of one on `http.request` (no IncomingMessage, no header
 * object, no stream pipe per answer). http-proxy-middleware adds 20-25 µs per request over even
 * `http.request`, and the gateway needs none of its features: the target comes from the execID, the path
 * is never rewritten, and answers are handled by hand.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { GatewayError, classifyUpstreamError } from '../linkis/errors';
import { contextOf } from './context';
import type { Middleware, Next } from './pipeline';
import type { UpstreamRegistry } from '../control-plane/upstreams';
import { createUpstreamPools, RETRY_AFTER_SECONDS, type UpstreamPool } from './fair-share';
import { UpstreamExchange, type ExchangeOwner } from './upstream-dispatch';
import { sendBadStatus } from './upstream-answer';
import { IdleWatch, trackedClients } from './upstream-connections';

export interface EntranceProxyOptions {
  /** The Entrances; a request that chose its upstream from another pool names it in `ctx.registry`. */
  registry: UpstreamRegistry;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  maxSockets: number;
}

export interface EntranceProxy {
  /** Middleware: forwards to `ctx.upstream`; errors it cannot recover from go to `next(err)`. */
  forward: Middleware;
  close(): void;
}

// Hop-by-hop request headers (RFC 9110 §7.6.1) are the gateway's business, not the Entrance's; dropping
// `connection` also keeps a client's "Connection: close" from closing the pooled upstream socket. undici
// refuses most of them anyway (and `expect`). `host` is set to the target's below.
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'transfer-encoding', 'expect', 'host']);

export function createEntranceProxy(opts: EntranceProxyOptions): EntranceProxy {
  const pools = createUpstreamPools({ maxSockets: opts.maxSockets, factory: trackedClients(opts.connectTimeoutMs) });
  const idle = new IdleWatch(opts.responseTimeoutMs);
  // Parsed once per instance, not per request.
  const targets = new Map<string, { host: string; origin: string }>();
  const targetOf = (url: string) => {
    let t = targets.get(url);
    if (!t) {
      const u = new URL(url);
      t = { host: u.host, origin: u.origin };
      targets.set(url, t);
    }
    return t;
  };

  const owner: ExchangeOwner = {
    idle,
    answered: (x) => (x.ctx.registry ?? opts.registry).markSuccess(x.upstream.name),
    failed: onUpstreamError,
  };

  function send(req: IncomingMessage, res: ServerResponse, next: Next): void {
    const ctx = contextOf(req);
    const upstream = ctx.upstream!;
    const p = pools.forRoute(ctx.route);
    if (!p.budget.take(upstream.name)) return poolFull(req, res, next, p);
    const target = targetOf(upstream.url);
    const body = ctx.body;
    const pipeBody = !body && !req.readableEnded && req.method !== 'GET' && req.method !== 'HEAD';
    const options: Dispatcher.DispatchOptions = {
      path: req.url!,
      method: req.method as Dispatcher.HttpMethod,
      headers: upstreamHeaders(req.headers, target.host, pipeBody),
      // A GET's body is not forwarded (nor its Content-Length: the Entrance would wait for it). A Buffer
      // gets its Content-Length from undici; a piped body keeps the client's, or goes chunked.
      body: body ?? (pipeBody ? req : null),
    };
    // undici reports a request it refuses (e.g. a header value) through onError, synchronously.
    p.dispatcher(target.origin).dispatch(options, new UpstreamExchange(owner, req, res, next, ctx, p, upstream));
  }

  /** Every connection of this pool to the instance is busy: another instance for a movable call, else a fast 503. */
  function poolFull(req: IncomingMessage, res: ServerResponse, next: Next, p: UpstreamPool): void {
    const ctx = contextOf(req);
    const upstream = ctx.upstream!;
    const registry = ctx.registry ?? opts.registry;
    if (ctx.route?.type === 'submit' || ctx.route?.type === 'publicservice') {
      (ctx.attempted ??= new Set()).add(upstream.name);
      const nextUpstream = registry.pick(ctx.attempted);
      if (nextUpstream) {
        ctx.upstream = nextUpstream;
        return send(req, res, next);
      }
    }
    res.setHeader('retry-after', RETRY_AFTER_SECONDS);
    next(new GatewayError('UPSTREAM_BUSY', `${upstream.name}: all ${p.budget.max} ${p.what} are in use (gateway.upstream.max.sockets)`));
  }

  /** No answer came from the Entrance. */
  function onUpstreamError(x: UpstreamExchange, err: NodeJS.ErrnoException): void {
    const { req, res, next, ctx, upstream } = x;
    // The client left and the gateway closed the upstream request: not the Entrance's failure.
    if (res.destroyed && !res.headersSent) return;
    // Not the Entrance's doing: undici refused the request before sending it (as http.request threw).
    if (err.code === 'UND_ERR_INVALID_ARG' || err.code === 'UND_ERR_NOT_SUPPORTED') return next(err);
    // 101 + Upgrade to a request that asked for none: undici closes the connection as "bad upgrade".
    // No Linkis call upgrades: the same 502 envelope as any status that is not a final answer.
    if (err.code === 'UND_ERR_SOCKET' && err.message === 'bad upgrade') {
      ctx.upstreamStatus = 101;
      return sendBadStatus(res, ctx, req, 101);
    }
    const { code, failure } = classifyUpstreamError(err);
    const registry = ctx.registry ?? opts.registry;
    ctx.failure = failure;
    if (failure === 'refused' || failure === 'connect-timeout' || failure === 'unreachable') registry.markFailure(upstream.name);
    if (res.headersSent || res.destroyed) {
      // Part of an answer already went out, or the client left: cut the connection so the client sees
      // an aborted response, never a success spliced with an error.
      res.destroy();
      return;
    }
    // The connection never opened, so no byte of this submission reached an Entrance: safe to go elsewhere.
    // A publicservice call may go to any of its instances the same way.
    const movable = ctx.route?.type === 'submit' || ctx.route?.type === 'publicservice';
    if (movable && (failure === 'refused' || failure === 'connect-timeout')) {
      (ctx.attempted ??= new Set()).add(upstream.name);
      const nextUpstream = registry.pick(ctx.attempted);
      if (nextUpstream) {
        ctx.upstream = nextUpstream;
        return send(req, res, next);
      }
    }
    next(new GatewayError(code, upstream.name, failure, { cause: err }));
  }

  return {
    forward: send,
    close() {
      idle.close();
      pools.close();
    },
  };
}

/**
 * The request's headers for the Entrance as a flat [name, value, ...] list (what undici reads fastest):
 * everything the earlier steps left in req.headers (the identity rewrite, accept-encoding: identity, the
 * ticket cookie, x-request-id, ...), but hop-by-hop ones, with `host` set to the target's.
 */
function upstreamHeaders(h: IncomingHttpHeaders, host: string, keepLength: boolean): string[] {
  const out: Array<string | string[]> = ['host', host];
  for (const name in h) {
    if (NOT_FORWARDED.has(name) || (name === 'content-length' && !keepLength)) continue;
    const value = h[name];
    // A repeated header (an array) is written one line per value, as http.request did.
    if (value !== undefined) out.push(name, value);
  }
  return out as string[];
}
