/**
 * Child processes for the benchmark: every process the bench starts is spawned detached (its own process
 * group), tracked here, and killed as a group on exit, on Ctrl-C and on any error, so a failed run leaves
 * nothing behind. The /proc readers (CPU, memory) are in proc-stats.ts.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

const children = new Set<ChildProcess>();
let logDir = tmpdir();

/** Where children's stderr (and stdout, when asked) go: `<dir>/<name>.err` / `.out`. */
export function setLogDir(dir: string): void {
  logDir = dir;
}

export function logFile(name: string, ext: 'out' | 'err'): string {
  return join(logDir, `${name}.${ext}`);
}

/** stdout is a pipe unless `stdoutToFile` (the gateway logs there: a file costs it what a real log file does). */
export function startChild(name: string, cmd: string, args: string[], opts: { stdoutToFile?: boolean; stdin?: boolean } = {}): ChildProcess {
  const out = opts.stdoutToFile ? openSync(logFile(name, 'out'), 'w') : 'pipe';
  const err = openSync(logFile(name, 'err'), 'a');
  const spawnOpts: SpawnOptions = { detached: true, stdio: [opts.stdin ? 'pipe' : 'ignore', out, err] };
  const child = spawn(cmd, args, spawnOpts);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Kills a child's whole process group (nginx workers, cluster workers), then waits for the child to go. */
export async function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const gone = new Promise<void>((ok) => child.once('exit', () => ok()));
  signalGroup(child.pid, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
  signalGroup(child.pid, 'SIGKILL'); // stragglers in the group (a worker that outlived its master)
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

/** Synchronous, so it also works from 'exit' handlers. */
export function killAllChildren(): void {
  for (const c of children) if (c.pid !== undefined) signalGroup(c.pid, 'SIGKILL');
  children.clear();
}

let hooked = false;
export function installCleanupHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllChildren);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping children\n`);
      killAllChildren();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`bench: ${err.stack ?? err}\n`);
    killAllChildren();
    process.exit(1);
  });
}

/** The first `count` lines of a child's stdout (the simulator and the bare proxies print their URLs/port there). */
export function firstLines(child: ChildProcess, count: number, timeoutMs = 10_000): Promise<string[]> {
  return new Promise((ok, fail) => {
    let buf = '';
    const timer = setTimeout(() => fail(new Error(`no output from ${child.spawnfile} within ${timeoutMs} ms`)), timeoutMs);
    const onData = (c: Buffer) => {
      buf += c.toString();
      const lines = buf.split('\n');
      if (lines.length <= count) return; // the last element is an unfinished line
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.resume(); // keep draining: a full pipe would block the child
      ok(lines.slice(0, count).map((l) => l.trim()));
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => fail(new Error(`${child.spawnfile} ${child.spawnargs.slice(1).join(' ')} exited with ${code} before printing`)));
  });
}

export const firstLine = (child: ChildProcess, timeoutMs?: number): Promise<string> => firstLines(child, 1, timeoutMs).then((l) => l[0]);

/**
 * Polls a JSON-lines log file until `count` lines matching `pred` were written after byte `from` (several
 * workers each log their own 'listening'); returns the last of them.
 */
export async function waitForLogLine(file: string, pred: (line: Record<string, unknown>) => boolean, timeoutMs: number, from = 0, count = 1): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let text = '';
    try {
      text = readFileSync(file).subarray(from).toString('utf8');
    } catch {
      /* not created yet */
    }
    let seen = 0;
    for (const raw of text.split('\n')) {
      if (!raw.startsWith('{')) continue;
      try {
        const line = JSON.parse(raw) as Record<string, unknown>;
        if (pred(line) && ++seen === count) return line;
      } catch {
        /* a partly written last line */
      }
    }
    await sleep(50);
  }
  throw new Error(`no ${count > 1 ? `${count} matching lines` : 'matching line'} in ${file} within ${timeoutMs} ms`);
}

export const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

/** A free loopback port, for the processes that cannot report the one they bound (nginx). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail).listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

/** Every core of the machine, as taskset names them: what pinned processes go back to. */
export const ALL_CORES = `0-${cpus().length - 1}`;

/**
 * CPU affinity of a process and all its threads (Linux taskset), e.g. "1" or "0,1"; false where it cannot
 * be set (one core, no taskset). New children of a pinned process inherit its cores.
 */
export function pinToCores(pid: number, cores: string): boolean {
  // cpus(), not availableParallelism(): the latter is this process's own affinity, which pinning changes.
  if (cpus().length < 2) return false;
  // -a walks the threads one by one: a thread that ends meanwhile fails the call, so try again.
  for (let attempt = 0; attempt < 5; attempt++) {
    if (spawnSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' }).status === 0) return true;
  }
  process.stderr.write(`bench: could not set the CPU affinity of ${pid} to ${cores}\n`);
  return false;
}
