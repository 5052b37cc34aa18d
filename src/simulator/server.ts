/**
 * What every simulated Linkis service does the same way before its REST handlers run: read the user from
 * the ticket cookie as SecurityFilter does, record what it received (tests assert which service got what,
 * with which headers), listen, and close without waiting for hung requests. Shared so that the Entrance
 * and publicservice simulators cannot drift apart on authentication.
 */
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TicketCodec } from '../linkis/ticket';
import { firstCookie, parseCookies } from './wire';

export interface ReceivedRequest {
  method: string;
  /** The request target as sent, query included. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The user the ticket cookie decrypts to, whatever else the request lacks. */
  ticketUser: string | null;
  at: number;
}

const INNER_REQUEST_COOKIE = 'dataworkcloud_inner_request';

/**
 * SecurityFilter's view of a request: the first ticket cookie of the configured name, decrypted. The
 * ticket is in no session map of this service, so Linkis only takes it with the inner-request cookie.
 */
export function readUser(
  codec: TicketCodec,
  ticketCookie: string,
  headers: IncomingHttpHeaders,
  requireInnerRequestCookie: boolean,
): { ticketUser: string | null; authorized: boolean } {
  const cookies = parseCookies(headers);
  const ticket = firstCookie(cookies, ticketCookie);
  const ticketUser = ticket ? (codec.read(ticket)?.user ?? null) : null;
  const inner = firstCookie(cookies, INNER_REQUEST_COOKIE) === 'true';
  return { ticketUser, authorized: ticketUser !== null && (inner || !requireInnerRequestCookie) };
}

/** Appends a request, dropping the oldest beyond `max` so a long benchmark does not grow without bound. */
export function record(received: ReceivedRequest[], max: number, entry: ReceivedRequest): void {
  received.push(entry);
  if (received.length > max) received.splice(0, received.length - max);
}

export interface Serving {
  port: number;
  url: string;
  /** Stops listening and destroys open sockets: hung requests and keep-alive connections would hold it open. */
  close(): Promise<void>;
}

export async function serve(server: Server, host: string, port: number): Promise<Serving> {
  const sockets = new Set<Socket>();
  // Node's 5 s default would race a client's pooled keep-alive sockets far sooner than a Jetty-run service does.
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        // An already closed server calls back with an error: closing twice resolves too.
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
