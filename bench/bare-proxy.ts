/**
 * The reference the gateway is measured against: the least a Node reverse proxy can do. One
 * `http.request` per client request on a keep-alive agent, headers copied, bodies piped both ways;
 * no auth, no routing, no logging. `node dist/bench/bare-proxy.js http://127.0.0.1:9104` prints its port.
 *
 * The least includes not leaking: a client that leaves mid-answer must free the upstream socket, or after
 * `maxSockets` abandoned large answers (each paused by back-pressure forever) the proxy serves nothing more.
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

const upstream = new URL(process.argv[2] ?? 'http://127.0.0.1:9104');
// Same pool shape as the gateway's (src/proxy.ts), so the comparison is about per-request work.
const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' });

const server = createServer((req, res) => {
  const out = request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      // pipe() forwards no errors: an upstream that breaks off mid-answer must not leave the client waiting.
      answer.once('error', () => res.destroy());
    },
  );
  out.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
  // The client left before the answer was complete: drop the upstream request (and its socket) too.
  res.once('close', () => {
    if (!res.writableFinished) out.destroy();
  });
  req.pipe(out);
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => process.exit(0));
