/**
 * Per-request state the data-plane middleware share, hung on the request object (one property
 * assignment; cheaper than a WeakMap lookup on the hot path).
 */
import { randomUUID } from 'node:crypto';
import type { Envelope } from '../linkis/envelope';
import type { IncomingMessage } from 'node:http';
import type { Route } from '../linkis/routes';
import type { Upstream, UpstreamRegistry } from '../control-plane/upstreams';
import type { UpstreamFailure } from '../linkis/errors';

export interface RequestContext {
  id: string;
  startedAt: number;
  route?: Route;
  /** The client's address: the socket's, or from X-Forwarded-For when the hop is a trusted proxy. */
  clientAddress?: string;
  user?: string;
  /** A refused request's user, as asked for (sanitized, capped; never a token): see askedUserOf in auth.ts. */
  askedUser?: string;
  tokenFingerprint?: string;
  /** 'allowed' or the refusal reason; a metrics label. */
  authOutcome?: string;
  /** How the user authenticated: proxy-user, token-header, token-cookie or session. */
  authVia?: string;
  /** For a taskID follow-up: the `jobInstanceKey` header for the Entrance, and where it came from. */
  jobInstanceKey?: string;
  taskLookup?: 'cache' | 'jobhistory';
  /** The pool the upstream was chosen from (Entrances or publicservice): health marks and failover use it. */
  registry?: UpstreamRegistry;
  /** Called with a small successful answer read whole (submissions: teaches the task cache). */
  answerTap?: (answer: Envelope) => void;
  /** The body to forward when the gateway had to read it (submissions are rewritten). */
  body?: Buffer;
  upstream?: Upstream;
  /** Instances a submission already failed to connect to; failover never repeats one. */
  attempted?: Set<string>;
  upstreamStatus?: number;
  /** Set when the gateway made the answer itself. */
  envelopeStatus?: number;
  errorCode?: string;
  failure?: UpstreamFailure;
  /** The client's traceparent carries a configured token as its trace id: it is not forwarded. */
  dropTraceparent?: boolean;
}

declare module 'node:http' {
  interface IncomingMessage {
    gw?: RequestContext;
  }
}

// A request id a client may choose: short, printable, no separators that could split a log line or header.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
// W3C traceparent: version-traceid-parentid-flags; the trace id is what correlates across systems.
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * True for a value that is one of the configured tokens. The allowlist keeps only digests, so this is an
 * exact match: a client that pastes its token into X-Request-Id or traceparent must not see it logged,
 * echoed or forwarded (request ids go everywhere a token must not).
 */
export type SecretProbe = (value: string) => boolean;

const noSecrets: SecretProbe = () => false;

export function requestIdFrom(req: IncomingMessage, isSecret: SecretProbe = noSecrets): { id: string; dropTraceparent: boolean } {
  const given = req.headers['x-request-id'];
  const tp = req.headers.traceparent;
  const m = typeof tp === 'string' ? TRACEPARENT.exec(tp) : null;
  const trace = m && !/^0+$/.test(m[1]) ? m[1] : undefined;
  const dropTraceparent = trace !== undefined && isSecret(trace);
  if (typeof given === 'string' && SANE_REQUEST_ID.test(given) && !isSecret(given)) return { id: given, dropTraceparent };
  return { id: trace && !dropTraceparent ? trace : randomUUID(), dropTraceparent };
}

/** The request's context, created on first use; `isSecret` screens the client's request ids then. */
export function contextOf(req: IncomingMessage, isSecret?: SecretProbe): RequestContext {
  if (!req.gw) {
    const { id, dropTraceparent } = requestIdFrom(req, isSecret);
    req.gw = { id, startedAt: performance.now() };
    if (dropTraceparent) req.gw.dropTraceparent = true;
  }
  return req.gw;
}

const TIMED_OUT = Symbol('linkis-gateway.requestTimedOut');

/** Node timed the request out (gateway.server.request.timeout.ms): marked on the socket by the clientError handler. */
export function markTimedOut(socket: object): void {
  (socket as Record<symbol, boolean>)[TIMED_OUT] = true;
}

export function timedOut(socket: object | null | undefined): boolean {
  return !!socket && (socket as Record<symbol, boolean>)[TIMED_OUT] === true;
}
