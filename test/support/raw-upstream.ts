/**
 * An "Entrance" that answers with exact bytes: statuses Node's own server refuses to send (`099`, `000`,
 * `700`), a TRACE-style echo of the request it got (cookies included), foreign error pages. One request
 * per connection; each answer is written whole and the connection closed.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { encodeExecId1x } from '../../src/linkis/execid';

export interface RawUpstream {
  url: string;
  /** Every request received, head and body, as text. */
  requests: string[];
  close(): Promise<void>;
}

/** `answer` gets the whole request text and returns the bytes to send back, after `delayMs`. */
export async function startRawUpstream(answer: (request: string) => string, opts: { delayMs?: number } = {}): Promise<RawUpstream> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket)).on('error', () => socket.destroy());
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const headEnd = buf.indexOf('\r\n\r\n');
      if (headEnd === -1) return;
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(buf.slice(0, headEnd))?.[1] ?? 0);
      if (buf.length < headEnd + 4 + length) return;
      const request = buf;
      requests.push(request);
      buf = '';
      const reply = () => socket.writable && socket.end(answer(request), 'latin1');
      if (opts.delayMs) setTimeout(reply, opts.delayMs);
      else reply();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}

/** The instance name the raw upstreams are configured under, and an execID that routes to it. */
export const RAW_INSTANCE = '127.0.0.1:9104';
export const RAW_EXEC_ID = encodeExecId1x('linkis-cg-entrance', [RAW_INSTANCE], 'IDE_alice_spark_0')!;
export const RAW_STATUS_PATH = `/api/rest_j/v1/entrance/${encodeURIComponent(RAW_EXEC_ID)}/status`;

/** An HTTP answer with a correct Content-Length. */
export function httpAnswer(statusLine: string, headers: Array<[string, string]>, body: string): string {
  const head = [statusLine, ...headers.map(([k, v]) => `${k}: ${v}`), `Content-Length: ${Buffer.byteLength(body, 'latin1')}`, 'Connection: close'];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

/** The request echoed back as a servlet container answers TRACE: `message/http`, status 200. */
export function traceEcho(request: string): string {
  return httpAnswer('HTTP/1.1 200 OK', [['Content-Type', 'message/http']], request);
}
