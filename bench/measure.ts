/**
 * One measured cell: a contestant under one request mix. The load worker warms up, then waits while we
 * read the proxy's CPU counters (the proxy is idle in that gap), runs the measured window, and we read
 * the counters again: CPU per request is that delta over the requests completed in the window.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Contestant } from './contestants';
import type { LoadResult, LoadSpec } from './load-worker';
import type { LogClientsResult, LogClientsSpec } from './log-clients';
import { cpus } from 'node:os';
import { cpuAccounting, treeCpuMicros } from './proc-stats';
import { sleep, startChild } from './procs';

export const ENTRANCE = '/api/rest_j/v1/entrance';

export interface Mix {
  /** The report's row group: contestants are compared within a mix. */
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

export interface Timing {
  connections: number;
  warmupSec: number;
  durationSec: number;
  overallRate?: number;
}

export interface Cell extends LoadResult {
  contestant: string;
  mix: string;
  /** Proxy CPU per completed request, µs; undefined for `direct` (no proxy). */
  cpuUs?: number;
  /** The kernel's part of cpuUs (syscalls: socket and log writes). */
  sysUs?: number;
  /** cpuUs of each round, when this is a median over rounds: how noisy the machine was. */
  cpuRounds?: number[];
  /** Share of the machine's CPU that processes outside the bench used during the window, %. */
  othersPct?: number;
}

/** A ~2 KB submission, shaped like what Linkis clients send to /submit. */
export function submitBody(): string {
  const code = `SELECT region, count(*) AS n, sum(amount) AS total FROM sales.orders WHERE dt >= '2024-01-01' GROUP BY region -- `;
  return JSON.stringify({
    executionContent: { code: code.padEnd(1500, 'x'), runType: 'sql' },
    params: { variable: { dt: '2024-01-01' }, configuration: { startup: { 'spark.executor.memory': '4g', 'spark.executor.cores': '2' }, runtime: {} } },
    source: { scriptPath: '/home/alice/reports/sales_by_region.sql' },
    labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' },
  });
}

export const statusMix = (execId: string, name = 'status'): Mix => ({ name, method: 'GET', path: `${ENTRANCE}/${encodeURIComponent(execId)}/status` });
export const submitMix = (): Mix => ({ name: 'submit', method: 'POST', path: `${ENTRANCE}/submit`, body: submitBody() });
/** The whole log at once; against a simulator started with `--huge-log-bytes N`, an N-byte answer. */
export const logMix = (execId: string): Mix => ({ name: 'log 1 MB', method: 'GET', path: `${ENTRANCE}/${encodeURIComponent(execId)}/log?fromLine=0&size=-1` });
/** A follow-up by numeric taskID: the gateway finds the Entrance in the job history (cached after the first). */
export const taskStatusMix = (taskId: string | number, name = 'status by taskID'): Mix => ({ name, method: 'GET', path: `${ENTRANCE}/${taskId}/status` });
/** A publicservice call: the first page of the user's job history, as the web console and SDKs list it. */
export const jobHistoryMix = (): Mix => ({ name: 'publicservice', method: 'GET', path: '/api/rest_j/v1/jobhistory/list?pageNow=1&pageSize=10' });

function headersFor(c: Contestant, mix: Mix): Record<string, string> {
  return mix.body ? { ...c.auth, 'content-type': 'application/json' } : { ...c.auth };
}

/** Hooks run inside the measured window, e.g. touching proxy.properties to time a reload under load. */
export type DuringWindow = () => Promise<void> | void;

/** A worker process whose stdout is JSON lines; next() fails if the worker dies first. */
function startWorker(script: string, spec: unknown, stdin = false): { child: ChildProcess; next(): Promise<Record<string, unknown>> } {
  const child = startChild(script.replace(/\.js$/, ''), process.execPath, [join(__dirname, script), JSON.stringify(spec)], { stdin });
  const lines = jsonLines(child.stdout!);
  const died = new Promise<never>((_, fail) => child.once('exit', (code) => code !== 0 && fail(new Error(`${script} exited with ${code}`))));
  died.catch(() => undefined); // a death after the last line is no error
  return { child, next: () => Promise.race([lines.next(), died]) };
}

export async function runCell(c: Contestant, mix: Mix, timing: Timing, during?: DuringWindow): Promise<Cell> {
  const spec: LoadSpec = { url: c.url + mix.path, method: mix.method, headers: headersFor(c, mix), body: mix.body, ...timing };
  const worker = startWorker('load-worker.js', spec, true);
  await worker.next(); // {"ready":true}: warm-up done
  await sleep(100); // let the proxy finish closing the warm-up connections outside the window
  const cpu0 = c.pid ? treeCpuMicros(c.pid) : undefined;
  const [acc0, t0] = [cpuAccounting(), performance.now()];
  worker.child.stdin!.write('go\n');
  const hook = during?.();
  const result = (await worker.next()) as unknown as LoadResult;
  const cpu1 = c.pid ? treeCpuMicros(c.pid) : undefined;
  const [acc1, t1] = [cpuAccounting(), performance.now()];
  await hook;
  const n = Math.max(result.requests, 1);
  const others = acc1.machine - acc0.machine - (acc1.ours - acc0.ours);
  const cell: Cell = { contestant: c.name, mix: mix.name, ...result, othersPct: Math.max(0, (100 * others) / (((t1 - t0) / 1000) * cpus().length)) };
  if (cpu0 && cpu1) {
    cell.cpuUs = (cpu1.user + cpu1.sys - cpu0.user - cpu0.sys) / n;
    cell.sysUs = (cpu1.sys - cpu0.sys) / n;
  }
  if (result.non2xx || result.errors || result.timeouts) {
    process.stderr.write(`bench: ${c.name}/${mix.name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts\n`);
  }
  return cell;
}

export async function runLogClients(spec: LogClientsSpec): Promise<LogClientsResult> {
  return (await startWorker('log-clients.js', spec).next()) as unknown as LogClientsResult;
}

/** Successive JSON lines of a stream, one per next(). */
function jsonLines(stream: NodeJS.ReadableStream): { next(): Promise<Record<string, unknown>> } {
  let buf = '';
  const ready: Array<Record<string, unknown>> = [];
  const waiting: Array<(v: Record<string, unknown>) => void> = [];
  stream.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const value = JSON.parse(line) as Record<string, unknown>;
      const w = waiting.shift();
      if (w) w(value);
      else ready.push(value);
    }
  });
  return { next: () => (ready.length ? Promise.resolve(ready.shift()!) : new Promise((ok) => waiting.push(ok))) };
}

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Medians of every numeric field over the rounds of one contestant × mix. */
export function medianCell(cells: Cell[]): Cell {
  const first = cells[0];
  const pick = (k: keyof LoadResult) => median(cells.map((c) => c[k] as number));
  return {
    contestant: first.contestant,
    mix: first.mix,
    requests: pick('requests'),
    rps: pick('rps'),
    p50: pick('p50'),
    p99: pick('p99'),
    max: pick('max'),
    non2xx: Math.max(...cells.map((c) => c.non2xx)),
    errors: Math.max(...cells.map((c) => c.errors)),
    timeouts: Math.max(...cells.map((c) => c.timeouts)),
    bytes: pick('bytes'),
    cpuUs: first.cpuUs === undefined ? undefined : median(cells.map((c) => c.cpuUs!)),
    sysUs: first.sysUs === undefined ? undefined : median(cells.map((c) => c.sysUs!)),
    cpuRounds: first.cpuUs === undefined ? undefined : cells.map((c) => c.cpuUs!),
    othersPct: median(cells.map((c) => c.othersPct ?? NaN)),
  };
}
