/**
 * Routing steps: which Linkis call a request is (known first, so even refused requests are labelled),
 * refusing what cannot be routed, finding the Entrance of a taskID, and choosing the one upstream that
 * may serve the request.
 */
import type { UpstreamRegistry } from '../control-plane/upstreams';
import type { Envelope } from '../linkis/envelope';
import { GatewayError } from '../linkis/errors';
import { classifyRequest, printable, type Route } from '../linkis/routes';
import { contextOf } from './context';
import type { Middleware } from './pipeline';
import type { TaskLocation, TaskLocator } from './task-locator';

/** URLs longer than this are classified each time: the cache holds at most ROUTE_CACHE_SIZE × this. */
const CACHEABLE_URL = 512;
export const ROUTE_CACHE_SIZE = 4096;

/**
 * classifyRequest, remembered by method and URL: a client polls the same status URL again and again, and
 * classifying (decoding and checking the execID) cost more than the lookup. Routes are pure functions of
 * method and URL and are never changed after (frozen), so one object can serve every request for its URL.
 * Bounded: when full it starts over, which keeps the polls of the moment in it without any bookkeeping.
 */
export function createRouteClassifier(max = ROUTE_CACHE_SIZE): { classify(method: string, url: string): Route; readonly size: number } {
  const cache = new Map<string, Route>();
  return {
    classify(method, url) {
      if (url.length > CACHEABLE_URL) return classifyRequest(method, url);
      const key = `${method} ${url}`;
      let route = cache.get(key);
      if (route === undefined) {
        route = Object.freeze(classifyRequest(method, url));
        if (cache.size >= max) cache.clear();
        cache.set(key, route);
      }
      return route;
    },
    get size() {
      return cache.size;
    },
  };
}

/** Which call this is: known from the start so logs and metrics label even refused requests by kind. */
export function classifyRoute(classifier = createRouteClassifier()): Middleware {
  return (req, _res, next) => {
    contextOf(req).route = classifier.classify(req.method ?? 'GET', req.url ?? '/');
    next();
  };
}

/**
 * Refuses what cannot be routed; placed after authentication so strangers learn nothing about ids.
 * A publicservice call needs its prefix enabled (least privilege) and an instance configured.
 */
export function refuseUnroutable(publicservice: { prefixes: readonly string[]; configured: boolean }): Middleware {
  const enabled = new Set(publicservice.prefixes);
  return (req, _res, next) => {
    const route = contextOf(req).route!;
    if (route.type === 'reject') return next(new GatewayError(route.code, route.detail));
    if (route.type === 'publicservice') {
      if (!enabled.has(route.prefix)) return next(new GatewayError('PUBLICSERVICE_PREFIX_OFF', `"${route.prefix}" is not in it (${[...enabled].join(', ') || 'empty'})`));
      if (!publicservice.configured) return next(new GatewayError('PUBLICSERVICE_NOT_CONFIGURED'));
    }
    next();
  };
}

/**
 * A taskID names no instance: the job history does, looked up as the authenticated user. The answer
 * fixes the instance and the `jobInstanceKey` header Linkis 1.5-1.8 Entrances need for a taskID.
 */
export function locateTask(locator: TaskLocator): Middleware {
  // The follow-up route of a cached location, per (shared, frozen) task route: a poll by taskID then
  // allocates nothing here, as a poll by execID does not.
  const followups = new WeakMap<Route, { at: TaskLocation; route: Route }>();
  const followup = (route: Extract<Route, { type: 'task' }>, f: TaskLocation): Route => {
    const known = followups.get(route);
    if (known?.at === f) return known.route;
    const made = Object.freeze<Route>({ type: 'followup', kind: route.kind, path: route.path, action: route.action, instance: f.instance, execId: route.taskId });
    if (f.source === 'cache') followups.set(route, { at: f, route: made });
    return made;
  };
  return (req, _res, next) => {
    const ctx = contextOf(req);
    const route = ctx.route!;
    if (route.type !== 'task') return next();
    const found = (f: TaskLocation) => {
      ctx.route = followup(route, f);
      ctx.jobInstanceKey = f.jobInstanceKey;
      ctx.taskLookup = f.source;
      next();
    };
    // A cached task goes on in the same turn: no promise, so it costs what an execID follow-up does.
    const cached = locator.cached(route.taskId, ctx.user!);
    if (cached) return found(cached);
    locator.locate(route.taskId, ctx.user!, ctx.id).then(found, (err: unknown) => next(err));
  };
}

/** When a submission's answer is read, what it teaches about taskID → execID goes to the locator. */
function teachLocator(locator: TaskLocator, user: string): (answer: Envelope) => void {
  return (answer) => {
    // isEnvelope checks status, method and message only: data may be anything, null included.
    const { taskID, execID } = (answer.data ?? {}) as { taskID?: unknown; execID?: unknown };
    if (answer.status === 0 && typeof execID === 'string' && taskID !== undefined) locator.learn(user, String(taskID), execID);
  };
}

export function selectUpstream(entrances: UpstreamRegistry, publicservice: UpstreamRegistry, locator: TaskLocator): Middleware {
  return (req, _res, next) => {
    const ctx = contextOf(req);
    const route = ctx.route!;
    if (route.type === 'followup' || route.type === 'operation') {
      const upstream = entrances.get(route.instance);
      // Never a fallback: another Entrance may hold a different job with the same short id (Linkis #5132).
      if (!upstream) {
        const where = ctx.jobInstanceKey && route.type === 'followup' ? `${printable(route.instance)} (where the job history says task ${printable(route.execId)} runs)` : route.instance;
        return next(new GatewayError('INSTANCE_UNKNOWN', where));
      }
      ctx.upstream = upstream;
      ctx.registry = entrances;
      return next();
    }
    if (route.type === 'publicservice') {
      const upstream = publicservice.pick();
      if (!upstream) return next(new GatewayError('NO_HEALTHY_PUBLICSERVICE'));
      ctx.upstream = upstream;
      ctx.registry = publicservice;
      return next();
    }
    const upstream = entrances.pick();
    if (!upstream) return next(new GatewayError('NO_HEALTHY_UPSTREAM'));
    ctx.upstream = upstream;
    ctx.registry = entrances;
    if (route.type === 'submit') ctx.answerTap = teachLocator(locator, ctx.user!);
    next();
  };
}
