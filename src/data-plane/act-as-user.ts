import { IDENTITY_HEADERS, forwardedCookieHeader } from '../linkis/identity';
import { JOB_INSTANCE_HEADER } from '../linkis/job-history';
import { ownUserQuery } from '../linkis/publicservice-query';
import { contextOf } from './context';
import type { Middleware } from './pipeline';
import type { TicketCache } from './ticket-cache';

/**
 * Where a client could claim a source address. Linkis records a job's source IP from the first of these
 * it finds (LinkisSpringUtils.getClientIP, JobHistoryHelper.getRequestIpAddr, the BML HttpRequestHelper:
 * X-Forwarded-For, Proxy-Client-IP, WL-Proxy-Client-IP, HTTP_CLIENT_IP, HTTP_X_FORWARDED_FOR, X-Real-IP);
 * `Forwarded` and `Via` carry the same claims for other readers. None passes: the gateway says instead.
 */
const CLIENT_ADDRESS_HEADERS = ['x-forwarded-for', 'x-real-ip', 'forwarded', 'proxy-client-ip', 'wl-proxy-client-ip', 'http_client_ip', 'http_x_forwarded_for', 'via'] as const;

/**
 * Removes every identity the client sent and adds the ticket of the authenticated user (and, for a taskID,
 * the `jobInstanceKey` the gateway looked up). A publicservice call that takes its user from the query
 * unchecked is asked for the authenticated user (see publicservice-query.ts).
 */
export function actAsUser(tickets: TicketCache, ticketCookie: string): Middleware {
  return (req, _res, next) => {
    const ctx = contextOf(req);
    const h = req.headers;
    for (const name of IDENTITY_HEADERS) delete h[name];
    // The gateway reads answers (envelope checks, error wrapping): a compressed one would be garbage to it.
    // "identity", not just no header: without one, a server may pick any coding.
    h['accept-encoding'] = 'identity';
    // Its trace id is a configured token (see requestIdFrom): it must not reach a Linkis service either.
    if (ctx.dropTraceparent) delete h.traceparent;
    for (const name of CLIENT_ADDRESS_HEADERS) delete h[name];
    // The address the gateway trusts (the socket's, or a trusted proxy's X-Forwarded-For: gateway.trust.proxy).
    const address = ctx.clientAddress ?? req.socket.remoteAddress;
    if (address) h['x-forwarded-for'] = address;
    h.cookie = forwardedCookieHeader(h.cookie, ticketCookie, tickets.ticketFor(ctx.user!));
    h['x-request-id'] = ctx.id;
    if (ctx.jobInstanceKey) h[JOB_INSTANCE_HEADER] = ctx.jobInstanceKey;
    if (ctx.route?.type === 'publicservice') req.url = ownUserQuery(req.url!, ctx.user!) ?? req.url;
    next();
  };
}
