/**
 * The small middleware of the data plane that are not a module of their own: routing, acting as the
 * authenticated user, choosing the upstream, answering errors, and the access log.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'winston';
import { contextOf } from './context';
import { errorEnvelope, sendEnvelope } from './envelope';
import { GatewayError } from './errors';
import { IDENTITY_HEADERS, forwardedCookieHeader } from './identity';
import type { AccessLog } from './access-log';
import type { GatewayMetrics } from './metrics';
import type { Middleware } from './pipeline';
import { classifyEntranceRequest } from './routes';
import type { TicketCache } from './ticket';
import type { UpstreamRegistry } from './upstreams';

/** Which call this is: known from the start so logs and metrics label even refused requests by kind. */
export function classifyRoute(): Middleware {
  return (req, _res, next) => {
    contextOf(req).route = classifyEntranceRequest(req.method ?? 'GET', req.url ?? '/');
    next();
  };
}

/** Refuses what cannot be routed; placed after authentication so strangers learn nothing about ids. */
export function refuseUnroutable(): Middleware {
  return (req, _res, next) => {
    const route = contextOf(req).route!;
    next(route.type === 'reject' ? new GatewayError(route.code, route.detail) : undefined);
  };
}

/** Removes every identity the client sent and adds the ticket of the authenticated user. */
export function actAsUser(tickets: TicketCache, ticketCookie: string): Middleware {
  return (req, _res, next) => {
    const ctx = contextOf(req);
    const h = req.headers;
    for (const name of IDENTITY_HEADERS) delete h[name];
    h.cookie = forwardedCookieHeader(h.cookie, ticketCookie, tickets.ticketFor(ctx.user!));
    h['x-request-id'] = ctx.id;
    next();
  };
}

export function selectUpstream(registry: UpstreamRegistry): Middleware {
  return (req, _res, next) => {
    const ctx = contextOf(req);
    const route = ctx.route!;
    if (route.type === 'followup' || route.type === 'operation') {
      const upstream = registry.get(route.instance);
      // Never a fallback: another Entrance may hold a different job with the same short id (Linkis #5132).
      if (!upstream) return next(new GatewayError('INSTANCE_UNKNOWN', route.instance));
      ctx.upstream = upstream;
      return next();
    }
    const upstream = registry.pick();
    if (!upstream) return next(new GatewayError('NO_HEALTHY_UPSTREAM'));
    ctx.upstream = upstream;
    next();
  };
}

export function createErrorResponder(logger: Logger, securityHeaders: Readonly<Record<string, string>>): (err: unknown, req: IncomingMessage, res: ServerResponse) => void {
  return (err, req, res) => {
    const ctx = contextOf(req);
    let gwErr: GatewayError;
    if (err instanceof GatewayError) gwErr = err;
    else {
      gwErr = new GatewayError('INTERNAL', undefined, undefined, { cause: err });
      logger.error('unexpected error in the data plane', { requestId: ctx.id, error: (err as Error)?.stack ?? String(err) });
    }
    ctx.envelopeStatus = gwErr.status;
    ctx.errorCode = gwErr.code;
    const headers: Record<string, string> = { ...securityHeaders, 'x-request-id': ctx.id };
    // The rest of an oversized body is never read; closing is cheaper than draining it.
    if (gwErr.code === 'BODY_TOO_LARGE') headers.connection = 'close';
    const path = ctx.route?.path ?? (req.url ?? '/').split('?')[0];
    const extra = gwErr.code === 'INSTANCE_UNKNOWN' || gwErr.failure ? { instance: ctx.upstream?.name ?? gwErr.detail } : undefined;
    sendEnvelope(res, gwErr.http, errorEnvelope(path, gwErr, ctx.id, extra), headers);
  };
}

/**
 * One access line and one metrics sample per request, when the answer is done or the connection is
 * gone. The only place that observes a finished request, so logs and metrics always agree.
 */
export function observeRequest(accessLog: AccessLog, metrics: GatewayMetrics): Middleware {
  return (req, res, next) => {
    const ctx = contextOf(req);
    const written = req.socket.bytesWritten;
    res.once('close', () => {
      const route = ctx.route;
      const seconds = (performance.now() - ctx.startedAt) / 1000;
      metrics.request(route && route.type !== 'reject' ? route.kind : 'other', res.statusCode, ctx.upstream?.name, seconds);
      if (ctx.authOutcome) metrics.auth(ctx.authOutcome);
      if (ctx.failure && ctx.upstream) metrics.upstreamFailure(ctx.upstream.name, ctx.failure);
      accessLog.write({
        requestId: ctx.id,
        method: req.method,
        path: route?.path ?? (req.url ?? '/').split('?')[0],
        route: route && route.type !== 'reject' ? route.kind : undefined,
        status: res.statusCode,
        envelopeStatus: ctx.envelopeStatus,
        errorCode: ctx.errorCode,
        durationMs: Math.round(seconds * 100_000) / 100,
        bytes: req.socket.bytesWritten - written,
        user: ctx.user,
        client: ctx.clientAddress,
        token: ctx.tokenFingerprint,
        instance: ctx.upstream?.name,
        upstreamStatus: ctx.upstreamStatus,
        failure: ctx.failure,
        completed: res.writableFinished,
      });
    });
    next();
  };
}
