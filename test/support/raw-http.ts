/**
 * HTTP over a raw socket, for requests no well-behaved client sends: CR/LF inside headers, duplicate
 * headers, oversized or trickled headers, pipelined requests. Answers are parsed by hand.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** Header names as they appeared, lower-cased, repeats included. */
  headerList: Array<[string, string]>;
  body: Buffer;
}

export interface RawExchange {
  /** Every byte the server sent. */
  raw: Buffer;
  /** The responses found in `raw`, in order (a truncated last one is left out). */
  responses: RawResponse[];
  /** True when the server closed the connection (rather than the wait running out). */
  closedByServer: boolean;
  /** Milliseconds from the first byte written to the close (or the end of the wait). */
  ms: number;
}

/** Parses consecutive HTTP/1.1 responses (content-length or chunked bodies). */
export function parseResponses(raw: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  while (at < raw.length) {
    const headEnd = raw.indexOf('\r\n\r\n', at);
    if (headEnd === -1) break;
    const lines = raw.subarray(at, headEnd).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1]);
    if (!status) break;
    const headerList = lines.slice(1).map((l) => {
      const c = l.indexOf(':');
      return [l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim()] as [string, string];
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of headerList) headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
    let pos = headEnd + 4;
    if (status < 200) {
      // An interim answer (100 Continue) has no body; the real one follows.
      at = pos;
      continue;
    }
    let body: Buffer;
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = raw.indexOf('\r\n', pos);
        if (lineEnd === -1) return out;
        const size = parseInt(raw.subarray(pos, lineEnd).toString('latin1'), 16);
        if (Number.isNaN(size)) return out;
        pos = lineEnd + 2;
        if (size === 0) {
          const trailerEnd = raw.indexOf('\r\n', pos);
          if (trailerEnd === -1) return out;
          pos = trailerEnd + 2;
          break;
        }
        if (pos + size + 2 > raw.length) return out;
        parts.push(raw.subarray(pos, pos + size));
        pos += size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (pos + length > raw.length) return out;
      body = raw.subarray(pos, pos + length);
      pos += length;
    }
    out.push({ status, headers, headerList, body });
    at = pos;
  }
  return out;
}

export interface RawOptions {
  /** Longest wait for the server to close; default 5000 ms. */
  waitMs?: number;
  /** Stop waiting once this many complete responses arrived (the server may keep the connection open). */
  responses?: number;
  /** Called with the open socket after `data` is written, e.g. to trickle more bytes. */
  onOpen?: (socket: Socket) => void;
}

/** Writes `data` on a fresh connection and collects the answer. Never rejects on socket errors. */
export function rawRequest(port: number, data: string | Buffer, opts: RawOptions = {}): Promise<RawExchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const started = performance.now();
    let done = false;
    const socket = connect(port, '127.0.0.1');
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks);
      resolve({ raw, responses: parseResponses(raw), closedByServer, ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish(false), opts.waitMs ?? 5000);
    socket.on('connect', () => {
      socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
      opts.onOpen?.(socket);
    });
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (opts.responses && parseResponses(Buffer.concat(chunks)).length >= opts.responses) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

/** A request head with CRLF line ends; `headers` are written verbatim (any bytes), in order. */
export function rawHead(method: string, target: string, headers: Array<[string, string]>, body = ''): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...headers.map(([k, v]) => `${k}: ${v}`)];
  if (body) lines.push(`Content-Length: ${Buffer.byteLength(body, 'latin1')}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** A keep-alive connection whose reader is slow: it pauses `pauseMs` after every chunk (back-pressure on the server). */
export interface SlowReader {
  socket: Socket;
  chunks: Buffer[];
  /** Bytes read so far. */
  readonly received: number;
  connected: Promise<void>;
  closed: Promise<void>;
}

export function slowReader(port: number, pauseMs: number): SlowReader {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  let received = 0;
  const closed = new Promise<void>((ok) => socket.once('close', () => ok()));
  const connected = new Promise<void>((ok) => socket.once('connect', () => ok()));
  socket.on('error', () => undefined);
  socket.on('data', (d: Buffer) => {
    chunks.push(d);
    received += d.length;
    socket.pause();
    setTimeout(() => socket.resume(), pauseMs);
  });
  return { socket, chunks, get received() { return received; }, connected, closed };
}
