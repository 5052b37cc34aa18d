/**
 * Assembles the gateway from its parts. This is the one place that shows the order in which a request
 * is handled. Linkis traffic (`/api/rest_j/v1/...`: Entrance, publicservice and the login API) takes the
 * lean data plane; everything else goes to an Express app (health, readiness, and a 404 envelope).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import express from 'express';
import type { Logger } from 'winston';
import type { AccessLog } from './ops/access-log';
import type { Allowlist } from './control-plane/allowlist';
import { createAuth } from './data-plane/auth';
import { createBodyReader } from './data-plane/body';
import type { GatewayConfig } from './control-plane/config';
import { contextOf, markTimedOut } from './data-plane/context';
import { actAsUser } from './data-plane/act-as-user';
import { createErrorResponder } from './data-plane/error-responder';
import { observeRequest } from './data-plane/observe';
import { classifyRoute, locateTask, refuseUnroutable, selectUpstream } from './data-plane/route';
import { createSessionEndpoints } from './data-plane/session-endpoints';
import { createSessionCodec } from './data-plane/sessions';
import { createTaskLocator } from './data-plane/task-locator';
import type { RevokedSessionStore } from './control-plane/session-store';
import { forwardedCookieHeader } from './linkis/identity';
import { errorEnvelope, sendEnvelope } from './linkis/envelope';
import { GatewayError } from './linkis/errors';
import type { GatewayMetrics } from './ops/metrics';
import { registerHealthRoutes } from './ops/ops-routes';
import { compose } from './data-plane/pipeline';
import { createEntranceProxy } from './data-plane/forward';
import { createFairShare } from './data-plane/fair-share';
import { checkOwnJobs } from './data-plane/own-jobs';
import type { RateLimits } from './data-plane/rate-limit';
import { API_PREFIX } from './linkis/routes';
import { helmetHeaders } from './data-plane/security-headers';
import { createTicketCodec } from './linkis/ticket';
import { createTicketCache } from './data-plane/ticket-cache';
import { takesSubmissions, type UpstreamRegistry } from './control-plane/upstreams';

export interface GatewayDeps {
  config: GatewayConfig;
  logger: Logger;
  allowlist: () => Allowlist;
  /** False until proxy.properties was loaded once; /ready reports it. */
  allowlistLoaded: () => boolean;
  registry: UpstreamRegistry;
  /** linkis-ps-publicservice instances (empty when not configured). */
  publicservice: UpstreamRegistry;
  /** The secret that seals session cookies (loaded by main: gateway.session.secret or the conf directory). */
  sessionSecret: string;
  revokedSessions: RevokedSessionStore;
  metrics: GatewayMetrics;
  rateLimits: RateLimits;
  accessLog: AccessLog;
  /** Service discovery (gateway.discovery), when on: /ready reports whether the registry could be read. */
  discovery?: { healthy(): boolean };
  /** The shared store (gateway.allowlist.store=redis), when on: /ready reports whether it is in sync. */
  sharedStore?: { healthy(): boolean };
  /** Each request authentication let through, by token fingerprint: the admin's "last used". */
  onTokenUsed?: (fingerprint: string) => void;
}

export interface Gateway {
  /** The `request` listener for the public HTTP server. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The `clientError` listener: requests Node could not parse still get an envelope. */
  onClientError(err: NodeJS.ErrnoException, socket: Socket): void;
  /** The `connect` listener: CONNECT gets a 405 envelope (without one, Node closes the connection silently). */
  onConnect(req: IncomingMessage, socket: Duplex): void;
  /** The `checkExpectation` listener: an `Expect` other than 100-continue gets an envelope, not Node's bare 417. */
  onCheckExpectation(req: IncomingMessage, res: ServerResponse): void;
  /** What /ready reports; also for the admin listener. */
  readiness(): { ready: boolean; checks: Record<string, boolean> };
  close(): void;
}

export function createGateway(deps: GatewayDeps): Gateway {
  const { config, logger, registry, metrics, rateLimits } = deps;
  const tickets = createTicketCache(createTicketCodec(config.cryptKey), config.ticketCacheMs);
  const proxy = createEntranceProxy({ registry, ...config.upstream });
  const security = helmetHeaders();
  const onError = createErrorResponder(logger, security);
  const sessions = createSessionCodec(deps.sessionSecret, config.session.timeoutMs);
  // Discovered publicservice instances may come and go: an empty set then means none available, not unset.
  const publicserviceDiscovered = config.discovery.mode !== 'static' && config.discovery.publicserviceService !== '';
  const locator = createTaskLocator({
    publicservice: deps.publicservice,
    publicserviceDiscovered,
    cookieFor: (user) => forwardedCookieHeader(undefined, config.ticketCookie, tickets.ticketFor(user)),
    cacheMs: config.taskCacheMs,
    // Discovered instances carry their registration time (jobInstanceKey's instanceRegistryTimestamp); configured ones 0.
    registryTimestamp: (instance) => registry.get(instance)?.registration?.registeredAt ?? 0,
    ...config.upstream,
  });
  const onRefusal = (req: IncomingMessage, o: { reason: string; fingerprint?: string; askedUser?: string }) =>
    logger.warn('auth refused', { event: 'auth.refused', requestId: req.gw?.id, reason: o.reason, askedUser: o.askedUser, token: o.fingerprint, client: req.gw?.clientAddress });

  // A client's request id, or a piece of its path, that is one of the configured tokens is never logged (see requestIdFrom, loggablePath).
  const isToken = (value: string) => deps.allowlist().decide(value, '') !== 'unknown-token';

  // Apply in order:
  const dataPlane = compose(
    [
      observeRequest(deps.accessLog, metrics, isToken), // 1. request id; one access line and metrics sample when done
      classifyRoute(), //                          2. which call (pure: execID → instance), for labels
      rateLimits.perClient, //                     3. per client address (trusted X-Forwarded-For only)
      createSessionEndpoints({ //                  4. user/login, user/proxy, user/logout: answered here
        allowlist: deps.allowlist, sessions, revoked: deps.revokedSessions, cookieSecure: config.session.cookieSecure, securityHeaders: security, onRefusal,
      }),
      createAuth({ //                              5. Proxy-User/Validation-Code, Token-User/Token-Code, or a session
        allowlist: deps.allowlist, sessions, revoked: deps.revokedSessions, onRefusal, onAllowed: deps.onTokenUsed,
      }),
      rateLimits.perUser, //                       6. per token and effective user
      refuseUnroutable({ prefixes: config.publicservice.prefixes, get configured() { return publicserviceDiscovered || deps.publicservice.all().length > 0; } }), // 7. bad ids, paths, prefixes
      createBodyReader(config.bodyLimitBytes, config.submissionLimitBytes), // 8. bounded; submissions checked, name the user only
      locateTask(locator), //                      9. a taskID: its instance and jobInstanceKey from the job history
      checkOwnJobs(locator), //                    10. the user's own jobs only: the execID's user, taskIDs in the query or a killJobs body
      actAsUser(tickets, config.ticketCookie), //  11. strip client identity, add the user's ticket cookie
      selectUpstream(registry, deps.publicservice, locator), // 12. the job's own instance, or a balancer
      createFairShare(config.upstream), //         13. in-flight upstream requests per token+user and per client: past the bound a fast 429
      proxy.forward, //                            14. over keep-alive pools (streams apart); answers checked and streamed
    ],
    onError,
  );

  const readiness = () => {
    const checks = {
      config: true,
      allowlist: deps.allowlistLoaded(),
      entrance: registry.all().some(takesSubmissions),
      ...(deps.publicservice.all().length > 0 ? { publicservice: deps.publicservice.all().some(takesSubmissions) } : {}),
    };
    // Reported, not required: with the registry unreachable the gateway serves the last known instances, and
    // every replica leaving the load balancer at once would be the very outage fail-static avoids.
    // The same for the shared store: a replica that cannot read Redis keeps its last rules (fail-static).
    const informational: Record<string, boolean> = {
      ...(deps.discovery ? { discovery: deps.discovery.healthy() } : {}),
      ...(deps.sharedStore ? { sharedStore: deps.sharedStore.healthy() } : {}),
    };
    return { ready: Object.values(checks).every(Boolean), checks: { ...checks, ...informational } };
  };

  const controlPlane = express();
  controlPlane.disable('x-powered-by');
  controlPlane.disable('etag');
  controlPlane.use((_req, res, next) => {
    res.set(security);
    next();
  });
  registerHealthRoutes(controlPlane, readiness);
  controlPlane.use((req, res) => {
    const id = contextOf(req).id;
    const err = new GatewayError('NOT_FOUND', req.path);
    sendEnvelope(res, err.http, errorEnvelope(req.path, err, id), { 'x-request-id': id });
  });


  return {
    handle(req, res) {
      const ctx = contextOf(req, isToken);
      // HTTP/1.1 requires Host (RFC 9112 §3.2); the listener lets such requests through (requireHostHeader:
      // false) so that they get an envelope here instead of Node's bare 400.
      if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
        const err = new GatewayError('BAD_HEADER', 'the Host header is missing');
        return sendEnvelope(res, err.http, errorEnvelope((req.url ?? '/').split('?')[0], err, ctx.id), { ...security, 'x-request-id': ctx.id, connection: 'close' });
      }
      if (req.url?.startsWith(API_PREFIX)) dataPlane(req, res);
      // Express calls back here for what its router cannot match at all (a target it reads no path from,
      // such as `//x`), instead of answering with its own HTML page.
      else controlPlane(req as express.Request, res as express.Response, (err?: unknown) => onError(err ?? new GatewayError('NOT_FOUND', (req.url ?? '/').split('?')[0]), req, res));
    },
    onClientError(err, socket) {
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') markTimedOut(socket);
      if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
      const [status, reason, detail] =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? [408, 'Request Timeout', 'the request was not received in time']
            : [400, 'Bad Request', 'the request could not be parsed as HTTP (e.g. a CR or LF inside a header)'];
      const body = errorEnvelope('/', new GatewayError(status === 408 ? 'REQUEST_TIMEOUT' : 'BAD_HEADER', detail));
      socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json;charset=UTF-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    },
    onConnect(req, socket) {
      // Node hands the socket over without its error listener: a client reset must not become uncaught.
      socket.on('error', () => socket.destroy());
      const id = contextOf(req, isToken).id;
      const body = errorEnvelope('/', new GatewayError('METHOD_NOT_ALLOWED', 'CONNECT: the gateway is not a forward proxy'), id);
      socket.end(`HTTP/1.1 405 Method Not Allowed\r\nallow: GET, POST\r\ncontent-type: application/json;charset=UTF-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${id}\r\nconnection: close\r\n\r\n${body}`);
    },
    onCheckExpectation(req, res) {
      const id = contextOf(req).id;
      const err = new GatewayError('BAD_HEADER', 'Expect: only "100-continue" is supported');
      sendEnvelope(res, err.http, errorEnvelope((req.url ?? '/').split('?')[0], err, id), { ...security, 'x-request-id': id, connection: 'close' });
    },
    readiness,
    close() {
      proxy.close();
      tickets.close();
      locator.close();
    },
  };
}
