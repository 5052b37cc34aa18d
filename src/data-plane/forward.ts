/**
 * Forwarding to an Entrance over keep-alive agents, with `http.request` directly. The gateway handles
 * every answer itself: envelopes stream through unbuffered, foreign error answers become envelopes, and
 * socket failures are classified into the error catalogue. A submission whose connection was refused or
 * never opened (no byte reached any Entrance) fails over to the next instance; nothing else is ever
 * retried, so a job cannot run twice and a follow-up never reaches another instance.
 *
 * Two socket pools per instance, each of `maxSockets`: log streams and file reads last as long as their
 * reader takes, so they get a pool of their own and short calls (status, progress, kill, submissions, job
 * history) always find a socket. A socket is taken from the pool's budget before the request starts: a
 * full pool is a fast 503 envelope with Retry-After (a submission tries the next instance first), never a
 * queue inside the http.Agent.
 *
 * Why not http-proxy-middleware here: measured on these machines (bench/), it adds 20-25 µs of CPU per
 * request over a plain `http.request` (per-request option copies, url.parse, event plumbing), about half
 * of the whole budget the gateway has over a bare Node pipe. The gateway needs none of its features:
 * the target comes from the execID, the path is never rewritten, and answers are handled by hand.
 */
import { request, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { GatewayError, classifyUpstreamError } from '../linkis/errors';
import { contextOf } from './context';
import type { Middleware, Next } from './pipeline';
import type { UpstreamRegistry } from '../control-plane/upstreams';
import { streamUpstreamAnswer } from './upstream-answer';
import { createUpstreamPools, RETRY_AFTER_SECONDS, type UpstreamPool } from './fair-share';

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
// `connection` also keeps a client's "Connection: close" from closing the pooled upstream socket.
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'transfer-encoding', 'expect'];

export function createEntranceProxy(opts: EntranceProxyOptions): EntranceProxy {
  const pools = createUpstreamPools(opts.maxSockets);
  // Parsed once per instance, not per request.
  const targets = new Map<string, { host: string; hostname: string; port: number }>();
  const targetOf = (url: string) => {
    let t = targets.get(url);
    if (!t) {
      const u = new URL(url);
      t = { host: u.host, hostname: u.hostname, port: Number(u.port || 80) };
      targets.set(url, t);
    }
    return t;
  };

  function send(req: IncomingMessage, res: ServerResponse, next: Next): void {
    const ctx = contextOf(req);
    const upstream = ctx.upstream!;
    const target = targetOf(upstream.url);
    const headers: OutgoingHttpHeaders = { ...req.headers, host: target.host };
    for (const h of HOP_BY_HOP) delete headers[h];
    const body = ctx.body;
    const pipeBody = !body && !req.readableEnded && req.method !== 'GET' && req.method !== 'HEAD';
    if (body) headers['content-length'] = body.length;
    // A GET's body is not forwarded: a Content-Length left in place would make the Entrance wait for it.
    else if (!pipeBody) delete headers['content-length'];
    const p = pools.forRoute(ctx.route);
    if (!p.budget.take(upstream.name)) return poolFull(req, res, next, p);
    let proxyReq: ClientRequest;
    try {
      proxyReq = request({ agent: p.agent, hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers });
    } catch (err) {
      p.budget.give(upstream.name); // e.g. a header value Node refuses: no request, no socket
      throw err;
    }
    // 'close' comes before the socket goes back to the Agent, so the budget never undercounts.
    proxyReq.once('close', () => p.budget.give(upstream.name));
    watchUpstreamRequest(proxyReq, res, upstream, opts);
    proxyReq.once('response', (proxyRes) => {
      ctx.upstreamStatus = proxyRes.statusCode;
      (ctx.registry ?? opts.registry).markSuccess(upstream.name);
      streamUpstreamAnswer(proxyRes, res, ctx, req);
    });
    // 101 + Upgrade arrives as 'upgrade', not 'response': without a listener Node closes silently and the
    // client would wait forever. No Linkis call upgrades; the answer check turns the 101 into a 502 envelope.
    proxyReq.once('upgrade', (proxyRes, socket) => {
      socket.destroy();
      ctx.upstreamStatus = proxyRes.statusCode;
      streamUpstreamAnswer(proxyRes, res, ctx, req);
    });
    proxyReq.once('error', (err: NodeJS.ErrnoException) => onUpstreamError(err, req, res, next));
    if (body) proxyReq.end(body);
    else if (pipeBody) req.pipe(proxyReq);
    else proxyReq.end();
  }

  /** Every socket of this pool to the instance is busy: another instance for a movable call, else a fast 503. */
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

  function onUpstreamError(err: NodeJS.ErrnoException, req: IncomingMessage, res: ServerResponse, next: Next): void {
    // The client left and the gateway closed the upstream request: not the Entrance's failure.
    if (res.destroyed && !res.headersSent) return;
    const ctx = contextOf(req);
    const upstream = ctx.upstream!;
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
    close: () => pools.close(),
  };
}

function codedError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/** Connect and response timeouts, in-flight accounting, and closing the upstream request when the client leaves. */
function watchUpstreamRequest(proxyReq: ClientRequest, res: ServerResponse, upstream: { inFlight: number }, opts: EntranceProxyOptions): void {
  upstream.inFlight++;
  let connectTimer: NodeJS.Timeout | undefined;
  proxyReq.once('socket', (socket) => {
    // A pooled socket is already connected; only a new one can hang in connect.
    if (!socket.connecting) return;
    connectTimer = setTimeout(() => proxyReq.destroy(codedError('GW_CONNECT_TIMEOUT', `no connection within ${opts.connectTimeoutMs} ms`)), opts.connectTimeoutMs);
    socket.once('connect', () => clearTimeout(connectTimer));
  });
  // Idle timeout: no byte from the Entrance for this long, before or during the answer. One plain timer,
  // refreshed by every chunk of a streamed answer (ClientRequest.setTimeout cost ~10 µs per request).
  const idleTimer = setTimeout(() => {
    if (!proxyReq.destroyed) proxyReq.destroy(codedError('GW_RESPONSE_TIMEOUT', `no byte from the Entrance for ${opts.responseTimeoutMs} ms`));
  }, opts.responseTimeoutMs);
  proxyReq.once('response', (proxyRes) => {
    const socket = proxyRes.socket;
    const bump = () => idleTimer.refresh();
    socket.on('data', bump);
    proxyRes.once('close', () => socket.off('data', bump));
  });
  const onClientGone = () => {
    if (!res.writableFinished && !proxyReq.destroyed) proxyReq.destroy();
  };
  res.once('close', onClientGone);
  proxyReq.once('close', () => {
    clearTimeout(connectTimer);
    clearTimeout(idleTimer);
    res.off('close', onClientGone);
    upstream.inFlight--;
  });
}
