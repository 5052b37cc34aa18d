/**
 * Routing steps: which Entrance call a request is (known first, so even refused requests are labelled),
 * refusing what cannot be routed, and choosing the one upstream that may serve it.
 */
import { GatewayError } from '../linkis/errors';
import { classifyEntranceRequest } from '../linkis/routes';
import type { UpstreamRegistry } from '../control-plane/upstreams';
import { contextOf } from './context';
import type { Middleware } from './pipeline';

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
