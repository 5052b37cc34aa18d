/**
 * Starting what is measured, each as its own child process on 127.0.0.1: the Entrance simulator, the
 * bare reference proxy, nginx (when on PATH) and the gateway with a generated conf directory. Each
 * returns how to reach it, which process's CPU counts, and which credentials a client sends.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { CONFIG_KEYS } from '../src/control-plane/config';
import { createTicketCodec } from '../src/linkis/ticket';
import { firstLine, freePort, logFile, sleep, startChild, stopChild, waitForLogLine } from './procs';

export const USER = 'alice';
const DIST = join(__dirname, '..');

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
  instance: string;
  child: ChildProcess;
}

export async function startSimulator(name: string, hugeLogBytes?: number): Promise<Simulator> {
  const args = [join(DIST, 'src/simulator/main.js'), '--port', '0'];
  if (hugeLogBytes !== undefined) args.push('--huge-log-bytes', String(hugeLogBytes));
  const child = startChild(name, process.execPath, args);
  const url = await firstLine(child).catch(explain(name));
  return { name: 'direct', url, instance: new URL(url).host, pid: undefined, auth: cookieAuth(), child, stop: () => stopChild(child) };
}

export async function startBare(upstream: string): Promise<Contestant> {
  const child = startChild('bare', process.execPath, [join(DIST, 'bench/bare-proxy.js'), upstream]);
  const port = await firstLine(child).catch(explain('bare'));
  return { name: 'bare', url: `http://127.0.0.1:${port}`, pid: child.pid, auth: cookieAuth(), stop: () => stopChild(child) };
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

async function waitForPort(port: number, child: ChildProcess, name = 'nginx', timeoutMs = 5000): Promise<void> {
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

export interface GatewaySetup {
  name: string;
  /** The real Entrances; `fakeInstances` more are configured under 10.1.x.y names but point at a closed loopback port. */
  instances: Array<{ name: string; url: string }>;
  fakeInstances?: number;
  tokens?: number;
  settings?: Record<string, string>;
  /** node flags for the gateway process (e.g. --cpu-prof). */
  nodeFlags?: string[];
}

export interface Gateway extends Contestant {
  proxyFile: string;
  logFile: string;
  /** Log line of the start-up allowlist load. */
  startReload?: Record<string, unknown>;
  /** Settings turned on because src/config.ts knows them (rate limit, metrics), as key=value. */
  features: string[];
}

/**
 * Rate limit and metrics are turned on when the gateway's config knows keys for them (metrics, when
 * there are no keys for them, are always on). Values are guesses by key name: limits far above what the
 * bench sends, so the limiter does all its work but never refuses. A value the gateway refuses is dropped
 * and the start retried, so the bench keeps working whatever shape those settings take.
 */
function featureSettings(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of CONFIG_KEYS) {
    if (!/rate|metric|throttl|quota/i.test(key) || /url|redis|file|path|host|port/i.test(key)) continue;
    if (/enable|enabled|on$/i.test(key)) out[key] = 'true';
    else if (/window|ms$|interval|seconds/i.test(key)) out[key] = '1000';
    else if (/max|limit|requests|rps|points|burst|per|rate|capacity/i.test(key)) out[key] = '1000000';
  }
  return out;
}

/** Every listener the gateway may open (admin, metrics) on loopback and a free port. */
function loopbackSettings(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of CONFIG_KEYS) {
    if (/\.host$/.test(key)) out[key] = '127.0.0.1';
    else if (/\.port$/.test(key)) out[key] = '0';
  }
  return out;
}

export function writeProxyProperties(file: string, tokens: number, token: string): void {
  const lines = ['# generated by the benchmark'];
  // The token in use sits in the middle: a lookup that scanned would show it.
  for (let i = 0; i < tokens - 1; i++) {
    lines.push(`${randomBytes(16).toString('hex')}=u${i},v${i}`);
    if (i === Math.floor(tokens / 2)) lines.push(`${token}=${USER},bob`);
  }
  if (tokens <= 2) lines.push(`${token}=${USER},bob`);
  writeFileSync(file, `${lines.join('\n')}\n`);
}

export async function startGateway(setup: GatewaySetup, dir: string): Promise<Gateway> {
  mkdirSync(dir, { recursive: true });
  const token = randomBytes(24).toString('hex');
  const proxyFile = join(dir, 'proxy.properties');
  writeProxyProperties(proxyFile, setup.tokens ?? 10, token);
  const fakes = Array.from({ length: setup.fakeInstances ?? 0 }, (_, i) => `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}:9104=http://127.0.0.1:1`);
  let settings: Record<string, string> = {
    ...loopbackSettings(),
    'gateway.server.host': '127.0.0.1',
    'gateway.server.port': '0',
    'gateway.entrance.instances': [...setup.instances.map((i) => `${i.name}=${i.url}`), ...fakes].join(','),
    'gateway.log.format': 'json',
    'gateway.log.level': 'info',
    ...featureSettings(),
    ...setup.settings,
  };
  for (let attempt = 0; ; attempt++) {
    writeFileSync(join(dir, 'gateway.properties'), Object.entries(settings).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    const child = startChild(setup.name, process.execPath, [...(setup.nodeFlags ?? []), join(DIST, 'src/main.js'), '--conf', dir], { stdoutToFile: true });
    const exited = new Promise<{ code: number | null }>((ok) => child.once('exit', (code) => ok({ code })));
    // The port from the 'listening' log line; with a fixed port (and a log level that hides that line), by connecting.
    const fixedPort = Number(settings['gateway.server.port']);
    const listening = fixedPort
      ? waitForPort(fixedPort, child, setup.name, 20_000).then(() => ({ line: { port: fixedPort } as Record<string, unknown> }))
      : waitForLogLine(logFile(setup.name, 'out'), (l) => l.message === 'listening', 20_000).then((line) => ({ line }));
    listening.catch(() => undefined); // when it exits first, the poll's later time-out is no error
    const first = await Promise.race([listening, exited]);
    if ('line' in first) {
      const startReload = (await waitForLogLine(logFile(setup.name, 'out'), (l) => l.event === 'allowlist.reload', 1000).catch(() => undefined)) ?? undefined;
      const features = Object.entries(settings).filter(([k]) => k in featureSettings()).map(([k, v]) => `${k}=${v}`);
      return {
        name: 'gateway',
        url: `http://127.0.0.1:${first.line.port}`,
        pid: child.pid,
        auth: { 'proxy-user': USER, 'validation-code': token },
        proxyFile,
        logFile: logFile(setup.name, 'out'),
        startReload,
        features,
        stop: () => stopChild(child, 10_000),
      };
    }
    // Refused configuration: drop the guessed feature values it names, keep the rest, try again.
    const err = tail(logFile(setup.name, 'err'));
    const refused = Object.keys(featureSettings()).filter((k) => err.includes(`${k}:`));
    if (first.code !== 2 || refused.length === 0 || attempt > 3) throw new Error(`gateway ${setup.name} did not start (exit ${first.code}): ${err}`);
    process.stderr.write(`bench: the gateway refused ${refused.join(', ')}; starting without them\n`);
    settings = Object.fromEntries(Object.entries(settings).filter(([k]) => !refused.includes(k)));
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}

const explain = (name: string) => (err: Error) => {
  throw new Error(`${err.message}\n${tail(logFile(name, 'err'))}`);
};
