import { IDENTITY_HEADERS, forwardedCookieHeader } from '../linkis/identity';
import { JOB_INSTANCE_HEADER } from '../linkis/job-history';
import { contextOf } from './context';
import type { Middleware } from './pipeline';
import type { TicketCache } from './ticket-cache';

/**
 * Removes every identity the client sent and adds the ticket of the authenticated user (and, for a taskID,
 * the `jobInstanceKey` the gateway looked up).
 */
export function actAsUser(tickets: TicketCache, ticketCookie: string): Middleware {
  return (req, _res, next) => {
    const ctx = contextOf(req);
    const h = req.headers;
    for (const name of IDENTITY_HEADERS) delete h[name];
    h.cookie = forwardedCookieHeader(h.cookie, ticketCookie, tickets.ticketFor(ctx.user!));
    h['x-request-id'] = ctx.id;
    if (ctx.jobInstanceKey) h[JOB_INSTANCE_HEADER] = ctx.jobInstanceKey;
    next();
  };
}
