/**
 * Starting what is measured, each as its own child process on 127.0.0.1: the Entrance simulator (alone, or
 * a whole Linkis with a publicservice), the bare reference proxies and nginx (when on PATH); the gateway is
 * in gateway-start.ts. Each returns how to reach it, which process's CPU counts, and which credentials a
 * client sends.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createTicketCodec } from '../src/linkis/ticket';
import { firstLine, firstLines, freePort, logFile, sleep, startChild, stopChild } from './procs';

export const USER = 'alice';
/** The dist/ directory this bench was compiled into: the simulator, the bare proxies, the gateway under test. */
export const DIST = join(__dirname, '..');

export interface Contestant {
  name: string;
  url: string;
  /** Root of the process tree whose CPU is the proxy's cost; undefined for `direct`. */
  pid?: number;
  /** Request headers that authenticate as USER through this contestant. */
  auth: Record<string, string>;
  stop(): Promise<void>;
}

/** What an Entrance accepts from a trusted caller: the Linkis ticket of USER and the inner-request flag. */
export const cookieAuth = (): Record<string, string> => ({
  cookie: `linkis_user_session_ticket_id_v1=${createTicketCodec('bdp-for-server').mint(USER)}; dataworkcloud_inner_request=true`,
});

export interface Simulator extends Contestant {
  /** The registry name (host:port) the gateway is configured with. */
  instance: string;
  /** Its process (pid is undefined: direct calls have no proxy CPU to count), for CPU affinity. */
  processId: number;
}

export async function startSimulator(name: string, hugeLogBytes?: number): Promise<Simulator> {
  const args = [join(DIST, 'src/simulator/main.js'), '--port', '0'];
  if (hugeLogBytes !== undefined) args.push('--huge-log-bytes', String(hugeLogBytes));
  const child = startChild(name, process.execPath, args);
  const url = await firstLine(child).catch(explain(name));
  return { name: 'direct', url, instance: new URL(url).host, pid: undefined, processId: child.pid!, auth: cookieAuth(), stop: () => stopChild(child) };
}

/**
 * A whole simulated Linkis in one process (`--linkis`): one Entrance and a publicservice over one job
 * history, so taskID follow-ups and job-history calls have a real answer. It prints the two
 * gateway.properties lines that point a gateway at it; both services stop with the process.
 */
export async function startLinkisSimulator(name: string): Promise<{ entrance: Simulator; publicservice: Simulator; stop(): Promise<void> }> {
  const args = [join(DIST, 'src/simulator/main.js'), '--linkis', '--entrance-ports', '0', '--publicservice-port', '0'];
  const child = startChild(name, process.execPath, args);
  const lines = await firstLines(child, 2).catch(explain(name));
  // `gateway.entrance.instances=host:port=http://host:port`, then the same for gateway.publicservice.instances.
  const service = (line: string | undefined, key: string): Simulator => {
    const m = line && new RegExp(`^${key.replace(/\./g, '\\.')}=([^=,]+)=(\\S+)$`).exec(line);
    if (!m) throw new Error(`${name}: expected ${key}=..., got ${JSON.stringify(lines)}`);
    return { name: 'direct', url: m[2], instance: m[1], pid: undefined, processId: child.pid!, auth: cookieAuth(), stop: async () => undefined };
  };
  return {
    entrance: service(lines[0], 'gateway.entrance.instances'),
    publicservice: service(lines[1], 'gateway.publicservice.instances'),
    stop: () => stopChild(child),
  };
}

export type BareKind = 'bare' | 'bare-undici';

/** `bare`: http.request piped (bare-proxy.ts); `bare-undici`: an undici Pool dispatch (bare-undici.ts). */
export async function startBare(upstream: string, kind: BareKind = 'bare', tag = ''): Promise<Contestant> {
  const logName = `${kind}${tag ? `-${tag}` : ''}`;
  const child = startChild(logName, process.execPath, [join(DIST, `bench/${kind === 'bare' ? 'bare-proxy' : 'bare-undici'}.js`), upstream]);
  const port = await firstLine(child).catch(explain(logName));
  return { name: kind, url: `http://127.0.0.1:${port}`, pid: child.pid, auth: cookieAuth(), stop: () => stopChild(child) };
}

export function nginxBinary(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v nginx'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || undefined;
  } catch {
    return undefined;
  }
}

/** One worker, upstream keep-alive, no access log and no auth: a reference for raw proxying only. */
export async function startNginx(bin: string, upstream: string, dir: string): Promise<Contestant> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const up = new URL(upstream);
  const temp = (k: string) => `${k}_temp_path ${join(dir, k)};`;
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;\ndaemon off;\npid ${join(dir, 'nginx.pid')};\nerror_log ${join(dir, 'error.log')} warn;\n` +
      `events { worker_connections 4096; }\nhttp {\n  access_log off;\n  keepalive_requests 1000000;\n` +
      `  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}\n` +
      `  upstream entrance { server ${up.host}; keepalive 64; keepalive_requests 1000000; }\n` +
      `  server {\n    listen 127.0.0.1:${port};\n    location / {\n      proxy_pass http://entrance;\n` +
      `      proxy_http_version 1.1;\n      proxy_set_header Connection "";\n      proxy_max_temp_file_size 0;\n    }\n  }\n}\n`,
  );
  const child = startChild('nginx', bin, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')]);
  await waitForPort(port, child);
  return { name: 'nginx', url: `http://127.0.0.1:${port}`, pid: child.pid, auth: cookieAuth(), stop: () => stopChild(child) };
}

export async function waitForPort(port: number, child: ChildProcess, name = 'nginx', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${tail(logFile(name, 'err'))}`);
    const ok = await new Promise<boolean>((done) => {
      const s = connect(port, '127.0.0.1', () => (s.end(), done(true))).once('error', () => done(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${name} did not listen on ${port} within ${timeoutMs} ms`);
}

export function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}

export const explain = (name: string) => (err: Error) => {
  throw new Error(`${err.message}\n${tail(logFile(name, 'err'))}`);
};
