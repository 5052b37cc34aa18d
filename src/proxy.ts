/**
 * Forwarding to an Entrance, on http-proxy-middleware with a keep-alive agent. The gateway handles
 * answers itself (`selfHandleResponse`): envelopes stream through unbuffered, foreign error answers
 * become envelopes, and socket failures are classified into the error catalogue. A submission whose
 * connection was refused (no byte reached any Entrance) fails over to the next instance; nothing else is
 * ever retried, so a job cannot run twice and a follow-up never reaches another instance.
 */
import { Agent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { createProxyMiddleware, proxyEventsPlugin } from 'http-proxy-middleware';
import { GatewayError, classifyUpstreamError } from './errors';
import { contextOf } from './context';
import type { Middleware, Next } from './pipeline';
import type { Upstream, UpstreamRegistry } from './upstreams';
import { streamUpstreamAnswer } from './upstream-answer';

export interface EntranceProxyOptions {
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

/** A stand-in request whose body is the bytes the gateway decided to send (http-proxy pipes the request it is given). */
interface BodyRequest extends IncomingMessage {
  original?: IncomingMessage;
  next?: Next;
}

export function createEntranceProxy(opts: EntranceProxyOptions): EntranceProxy {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets, maxFreeSockets: Math.min(opts.maxSockets, 64), scheduling: 'lifo' });
  // Parsed once per instance: http-proxy would otherwise parse a target string on every request.
  const targets = new Map<string, { protocol: string; host: string; hostname: string; port: string }>();
  const targetOf = (u: Upstream) => {
    let t = targets.get(u.url);
    if (!t) {
      const url = new URL(u.url);
      t = { protocol: url.protocol, host: url.host, hostname: url.hostname, port: url.port || '80' };
      targets.set(u.url, t);
    }
    return t;
  };

  const middleware = createProxyMiddleware<BodyRequest, ServerResponse>({
    router: (req) => targetOf(req.gw!.upstream!) as unknown as string,
    changeOrigin: true,
    selfHandleResponse: true,
    // Our own error answers and access log replace the default plugins; `on` handlers need proxyEventsPlugin.
    ejectPlugins: true,
    plugins: [proxyEventsPlugin],
    agent,
    on: {
      proxyReq: (proxyReq, req, res) => watchUpstreamRequest(proxyReq, req, res, opts),
      proxyRes: (proxyRes, req, res) => {
        const ctx = req.gw!;
        ctx.upstreamStatus = proxyRes.statusCode;
        opts.registry.markSuccess(ctx.upstream!.name);
        streamUpstreamAnswer(proxyRes, res, ctx, req.original ?? req);
      },
      error: (err, req, res) => onUpstreamError(err as NodeJS.ErrnoException, req, res as ServerResponse),
    },
  });

  function send(req: IncomingMessage, res: ServerResponse, next: Next): void {
    const ctx = contextOf(req);
    const outgoing: BodyRequest = ctx.body ? requestWithBody(req, ctx.body) : req;
    outgoing.original = req;
    outgoing.next = next;
    void middleware(outgoing, res, next);
  }

  function onUpstreamError(err: NodeJS.ErrnoException, req: BodyRequest, res: ServerResponse): void {
    const original = req.original ?? req;
    const ctx = contextOf(original);
    const upstream = ctx.upstream!;
    const { code, failure } = classifyUpstreamError(err);
    ctx.failure = failure;
    if (failure === 'refused' || failure === 'connect-timeout' || failure === 'unreachable') opts.registry.markFailure(upstream.name);
    if (res.headersSent || res.destroyed) {
      // Part of an answer already went out: cut the connection so the client sees an aborted
      // response, never a success spliced with an error.
      res.destroy();
      return;
    }
    // The connection never opened, so no byte of this submission reached an Entrance: safe to go elsewhere.
    if (ctx.route?.type === 'submit' && (failure === 'refused' || failure === 'connect-timeout')) {
      (ctx.attempted ??= new Set()).add(upstream.name);
      const nextUpstream = opts.registry.pick(ctx.attempted);
      if (nextUpstream) {
        ctx.upstream = nextUpstream;
        return send(original, res, req.next!);
      }
    }
    req.next!(new GatewayError(code, upstream.name, failure, { cause: err }));
  }

  return {
    forward: send,
    close: () => agent.destroy(),
  };
}

function requestWithBody(req: IncomingMessage, body: Buffer): BodyRequest {
  const stream = Readable.from([body], { objectMode: false }) as unknown as BodyRequest;
  const headers = { ...req.headers, 'content-length': String(body.length) };
  delete headers['transfer-encoding'];
  Object.assign(stream, { headers, method: req.method, url: req.url, httpVersion: req.httpVersion, socket: req.socket, connection: req.socket, gw: req.gw });
  return stream;
}

function codedError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/** Connect and response timeouts, in-flight accounting, and closing the upstream request when the client leaves. */
function watchUpstreamRequest(proxyReq: ClientRequest, req: BodyRequest, res: ServerResponse, opts: EntranceProxyOptions): void {
  const upstream = req.gw!.upstream!;
  upstream.inFlight++;
  let connectTimer: NodeJS.Timeout | undefined;
  const socket = proxyReq.socket;
  if (socket?.connecting) {
    connectTimer = setTimeout(() => proxyReq.destroy(codedError('GW_CONNECT_TIMEOUT', `no connection within ${opts.connectTimeoutMs} ms`)), opts.connectTimeoutMs);
    socket.once('connect', () => clearTimeout(connectTimer));
  }
  // Idle timeout: no byte from the Entrance for this long, before or during the answer.
  proxyReq.setTimeout(opts.responseTimeoutMs, () => {
    if (!proxyReq.destroyed) proxyReq.destroy(codedError('GW_RESPONSE_TIMEOUT', `no answer within ${opts.responseTimeoutMs} ms`));
  });
  const onClientGone = () => {
    if (!res.writableFinished && !proxyReq.destroyed) proxyReq.destroy();
  };
  res.once('close', onClientGone);
  proxyReq.once('close', () => {
    clearTimeout(connectTimer);
    res.off('close', onClientGone);
    upstream.inFlight--;
  });
}
