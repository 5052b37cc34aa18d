/**
 * The second reference: the least a Node reverse proxy can do with undici 6. One `Pool` to the upstream
 * (one request per connection at a time, up to 256 connections: the gateway's pool size), `pool.dispatch`
 * with a handler that writes the answer straight into the client's response: no IncomingMessage for the
 * answer, no header object built, no stream pipe. No auth, no routing, no logging.
 * `node dist/bench/bare-undici.js http://127.0.0.1:9104` prints its port.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';

const upstream = process.argv[2] ?? 'http://127.0.0.1:9104';
const pool = new Pool(upstream, { connections: 256, pipelining: 1 });

// Hop-by-hop headers belong to one connection; undici also refuses to send most of them.
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'expect']);

function requestHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!HOP.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  return out;
}

function handler(req: IncomingMessage, res: ServerResponse): Dispatcher.DispatchHandlers {
  let abort: ((err?: Error) => void) | undefined;
  // The client left before the answer was complete: abort the upstream request, freeing its connection.
  res.once('close', () => {
    if (!res.writableFinished) abort?.();
  });
  return {
    onConnect: (a) => {
      abort = a;
      if (res.destroyed) a();
    },
    onHeaders(status, headers, resume) {
      if (status < 200) return true; // 1xx: the final answer follows
      // A flat [name, value, ...] array: Node writes it as is. Node validates strings only, hence latin1.
      res.writeHead(status, headers.map((b) => b.toString('latin1')));
      res.on('drain', resume);
      return true;
    },
    // false pauses the upstream socket until the client's socket drains (resume above): back-pressure.
    onData: (chunk) => res.write(chunk),
    onComplete: () => void res.end(),
    onError: () => (res.headersSent ? res.destroy() : void res.writeHead(502).end()),
  };
}

const server = createServer((req, res) => {
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  pool.dispatch(
    { path: req.url ?? '/', method: req.method as Dispatcher.HttpMethod, headers: requestHeaders(req.rawHeaders), body: hasBody ? req : null },
    handler(req, res),
  );
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => process.exit(0));
