import type { AccessLog } from '../ops/access-log';
import type { GatewayMetrics } from '../ops/metrics';
import { contextOf, type SecretProbe } from './context';
import { loggablePath } from './loggable-path';
import type { Middleware } from './pipeline';

/**
 * One access line and one metrics sample per request, when the answer is done or the connection is
 * gone. The only place that observes a finished request, so logs and metrics always agree. `isSecret`
 * tells a configured token (a client may have pasted one into its path; see loggable-path.ts).
 */
export function observeRequest(accessLog: AccessLog, metrics: GatewayMetrics, isSecret: SecretProbe): Middleware {
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
        path: loggablePath(route?.path ?? (req.url ?? '/').split('?')[0]!, res.statusCode >= 400, isSecret),
        route: route && route.type !== 'reject' ? route.kind : undefined,
        status: res.statusCode,
        envelopeStatus: ctx.envelopeStatus,
        errorCode: ctx.errorCode,
        durationMs: Math.round(seconds * 100_000) / 100,
        bytes: req.socket.bytesWritten - written,
        user: ctx.user,
        askedUser: ctx.askedUser,
        client: ctx.clientAddress,
        token: ctx.tokenFingerprint,
        auth: ctx.authVia,
        taskLookup: ctx.taskLookup,
        instance: ctx.upstream?.name,
        upstreamStatus: ctx.upstreamStatus,
        failure: ctx.failure,
        completed: res.writableFinished,
      });
    });
    next();
  };
}
