/**
 * Real processes for tests that need them: the gateway's own main process (its server options, signals,
 * shutdown), and a real redis-server. Everything on 127.0.0.1; every process is stopped by its test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DEFAULT_PROXY_PROPERTIES } from './harness';

const MAIN = join(__dirname, '..', '..', 'src', 'main.ts');

export interface MainProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** The JSON log lines written so far. */
  lines(): Array<Record<string, any>>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>;
  /**
   * Sends the signal (once) and waits for the exit code. A process still running after `killAfterMs`
   * is killed (SIGKILL) and reported as exit code null, so a hung shutdown fails a test instead of hanging it.
   */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<number | null>;
}

/** A conf directory with gateway.properties (loopback, port 0, JSON logs, plus `settings`) and proxy.properties. */
export function writeConf(settings: Record<string, string>, proxyProperties = DEFAULT_PROXY_PROPERTIES): string {
  const dir = mkdtempSync(join(tmpdir(), 'lgw-proc-'));
  const all = { 'gateway.server.host': '127.0.0.1', 'gateway.server.port': '0', 'gateway.log.format': 'json', ...settings };
  writeFileSync(join(dir, 'gateway.properties'), Object.entries(all).map(([k, v]) => `${k}=${v}\n`).join(''));
  writeFileSync(join(dir, 'proxy.properties'), proxyProperties);
  return dir;
}

export function startMain(confDir: string): Promise<MainProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--conf', confDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  const lines = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`gateway did not start within 20 s: ${out}${err}`));
    }, 20_000);
    void exited.then((code) => {
      clearTimeout(timer);
      clearInterval(poll);
      fail(new Error(`gateway exited with ${code} before listening: ${out}${err}`));
    });
    const poll = setInterval(() => {
      const listening = lines().find((l) => l.message === 'listening');
      if (!listening) return;
      clearInterval(poll);
      clearTimeout(timer);
      let signalled = false;
      ok({
        child,
        url: listening.url,
        port: listening.port,
        lines,
        stdout: () => out,
        stderr: () => err,
        exited,
        stop(signal = 'SIGTERM', killAfterMs = 15_000) {
          if (child.exitCode === null && child.signalCode === null && !signalled) {
            signalled = true;
            child.kill(signal);
          }
          const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
          return exited.finally(() => clearTimeout(timer));
        },
      });
    }, 25);
  });
}

/** A port that was free a moment ago (for servers that cannot listen on port 0, like redis-server). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => ok(port));
    });
  });
}

export interface RedisProcess {
  port: number;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * A throw-away redis-server (no persistence, unless `extraArgs` asks for it: later arguments override), on
 * `port` or a free one. Fails loudly when the Debian package is not installed.
 */
export async function startRedis(port?: number, extraArgs: string[] = []): Promise<RedisProcess> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    throw new Error(
      `redis-server is not installed (${(probe.error as NodeJS.ErrnoException).code}): the Redis rate-limit tests need a real one. ` +
        `Install the Debian package: apt-get install -y redis-server (.ci/run does this before npm test).`,
    );
  }
  for (let attempt = 0; ; attempt++) {
    const listenPort = port ?? (await freePort());
    const child = spawn('redis-server', ['--port', String(listenPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
    const ready = await new Promise<boolean>((ok) => {
      const started = Date.now();
      const tryPing = () => {
        if (child.exitCode !== null) return ok(false);
        const s = connect(listenPort, '127.0.0.1');
        s.once('connect', () => s.write('PING\r\n'));
        s.once('data', (d) => {
          s.destroy();
          if (d.toString().startsWith('+PONG')) ok(true);
          else retry();
        });
        s.once('error', retry);
      };
      const retry = () => (Date.now() - started > 10_000 ? ok(false) : setTimeout(tryPing, 50));
      tryPing();
    });
    if (ready) {
      return {
        port: listenPort,
        url: `redis://127.0.0.1:${listenPort}`,
        child,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      };
    }
    child.kill('SIGKILL');
    await exited;
    // Someone took the port between freePort() and the start: try another one (unless it was asked for).
    if (attempt >= 2 || port !== undefined) throw new Error(`redis-server did not start: ${out}`);
  }
}

export interface Blackhole {
  port: number;
  /** `http://127.0.0.1:<port>`: connections to it neither complete nor get refused. */
  url: string;
  close(): Promise<void>;
}

/**
 * A loopback address that accepts no connection and refuses none: a listening socket (backlog 1) whose
 * thread never accepts, with its accept queue filled. Linux then drops further SYNs, so a connect hangs
 * until the client gives up: what an Entrance host that is overloaded or behind a dropping firewall does.
 * The listener lives in a worker thread blocked in Atomics.wait, so this process's event loop runs on.
 */
export async function startBlackhole(): Promise<Blackhole> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const server = require('node:net').createServer();
     server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(workerData, 0, 0);
       server.close();
     });`,
    { eval: true, workerData: flag },
  );
  const port = await new Promise<number>((ok, fail) => worker.once('message', ok).once('error', fail));
  const fillers: ReturnType<typeof connect>[] = [];
  const completes = (ms: number) =>
    new Promise<boolean>((ok) => {
      const s = connect(port, '127.0.0.1');
      fillers.push(s);
      s.on('error', () => ok(false));
      const timer = setTimeout(() => ok(false), ms);
      s.once('connect', () => {
        clearTimeout(timer);
        ok(true);
      });
    });
  // Fill the accept queue until a connection no longer completes.
  for (let i = 0; ; i++) {
    if (!(await completes(200))) break;
    if (i > 64) throw new Error('the blackhole listener keeps accepting connections');
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const s of fillers) s.destroy();
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await worker.terminate();
    },
  };
}
