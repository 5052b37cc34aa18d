/**
 * Child processes for the benchmark: every process the bench starts is spawned detached (its own process
 * group), tracked here, and killed as a group on exit, on Ctrl-C and on any error, so a failed run leaves
 * nothing behind. Also the /proc readers: CPU ticks of a process tree, and resident memory.
 * Not pidusage: it reads the same /proc/<pid>/stat but per pid, rounded to ms, and without the walk over
 * descendants (nginx and cluster workers) that the CPU-per-request figure needs.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
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

/** First line of a child's stdout (the simulator and the bare proxy print their URL/port there). */
export function firstLine(child: ChildProcess, timeoutMs = 10_000): Promise<string> {
  return new Promise((ok, fail) => {
    let buf = '';
    const timer = setTimeout(() => fail(new Error(`no output from ${child.spawnfile} within ${timeoutMs} ms`)), timeoutMs);
    const onData = (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.resume(); // keep draining: a full pipe would block the child
      ok(buf.slice(0, nl).trim());
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => fail(new Error(`${child.spawnfile} ${child.spawnargs.slice(1).join(' ')} exited with ${code} before printing`)));
  });
}

/** Polls a JSON-lines log file for the first line matching `pred` written after byte `from`. */
export async function waitForLogLine(file: string, pred: (line: Record<string, unknown>) => boolean, timeoutMs: number, from = 0): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let text = '';
    try {
      text = readFileSync(file).subarray(from).toString('utf8');
    } catch {
      /* not created yet */
    }
    for (const raw of text.split('\n')) {
      if (!raw.startsWith('{')) continue;
      try {
        const line = JSON.parse(raw) as Record<string, unknown>;
        if (pred(line)) return line;
      } catch {
        /* a partly written last line */
      }
    }
    await sleep(50);
  }
  throw new Error(`no matching line in ${file} within ${timeoutMs} ms`);
}

export const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

function descendants(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const kids = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').trim();
      if (kids) out.push(...kids.split(/\s+/).map(Number));
    } catch {
      /* exited */
    }
  }
  return out;
}

/** User and system CPU of a process and all its live descendants (nginx master+worker, cluster workers), in µs. */
export function treeCpuMicros(pid: number): { user: number; sys: number } {
  let user = 0;
  let sys = 0;
  for (const p of descendants(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // comm may contain spaces
      user += Number(fields[11]); // utime: field 14 of stat
      sys += Number(fields[12]); // stime: field 15
    } catch {
      /* exited */
    }
  }
  return { user: (user * 1e6) / CLK_TCK, sys: (sys * 1e6) / CLK_TCK };
}

/**
 * CPU seconds used so far by the whole machine and by this process with its exited (reaped) children.
 * Their difference over a run is what other processes took: a measure of how noisy the run was.
 */
export function cpuAccounting(): { machine: number; ours: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const busy = cpu.slice(0, 8).reduce((a, b) => a + b, 0) - cpu[3] - cpu[4]; // all but idle and iowait
  const self = readFileSync('/proc/self/stat', 'utf8');
  const f = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number);
  return { machine: busy / CLK_TCK, ours: (f[11] + f[12] + f[13] + f[14]) / CLK_TCK }; // utime stime cutime cstime
}

/** VmRSS of a process tree, in MB. */
export function treeRssMb(pid: number): number {
  let kb = 0;
  for (const p of descendants(pid)) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      /* exited */
    }
  }
  return kb / 1024;
}

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
