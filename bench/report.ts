/**
 * Turns measurements into the markdown report (printed, and written to bench/RESULTS.md by a full run):
 * the contestants table with ratios to the bare pipe, the latency check, memory, configuration scale,
 * and the targets of issue 5 with PASS/FAIL.
 */
import type { Cell } from './measure';
import type { MemoryResult, ScaleResult, ThroughputResult } from './phases';

export interface Report {
  command: string;
  date: string;
  machine: string;
  settings: string;
  throughput?: ThroughputResult;
  memory?: MemoryResult;
  scale?: ScaleResult;
  elapsedSec: number;
}

const f = (n: number | undefined, digits = 0) => (n === undefined || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !b ? '–' : `${(a / b).toFixed(2)}x`);
const errorsOf = (c: Cell) => (c.non2xx || c.errors || c.timeouts ? `${c.non2xx} non-2xx, ${c.errors} err, ${c.timeouts} t/o` : '0');

/** Markdown table; the first `textCols` columns are left-aligned, the numbers right-aligned. */
function table(head: string[], rows: string[][], textCols = 2): string {
  const align = head.map((_, i) => (i < textCols ? '---' : '---:'));
  return [head, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function contestantsTable(cells: Cell[]): string {
  const rows = cells.map((c) => {
    const bare = cells.find((b) => b.mix === c.mix && b.contestant === 'bare');
    const rounds = c.cpuRounds && c.cpuRounds.length > 1 ? c.cpuRounds.map((x) => f(x)).join(', ') : '';
    return [c.mix, c.contestant, f(c.rps), f(c.p50, 2), f(c.p99, 2), f(c.cpuUs), rounds, f(c.sysUs), ratio(c.cpuUs, bare?.cpuUs), ratio(c.rps, bare?.rps), errorsOf(c)];
  });
  const head = ['mix', 'contestant', 'req/s', 'p50 ms', 'p99 ms', 'proxy CPU µs/req', 'by round', 'of which kernel', 'CPU vs bare', 'req/s vs bare', 'errors'];
  return table(head, rows);
}

interface Target {
  name: string;
  goal: string;
  measured: string;
  pass: boolean | undefined;
}

function targets(r: Report): Target[] {
  const out: Target[] = [];
  const cell = (mix: string, who: string) => r.throughput?.cells.find((c) => c.mix === mix && c.contestant === who);
  for (const [mix, limit] of [['status', 1.5], ['submit', 2]] as const) {
    const gw = cell(mix, 'gateway');
    const bare = cell(mix, 'bare');
    const x = gw?.cpuUs !== undefined && bare?.cpuUs ? gw.cpuUs / bare.cpuUs : undefined;
    out.push({ name: `CPU per ${mix === 'status' ? 'status poll' : 'submission'}`, goal: `≤ ${limit}x bare`, measured: x === undefined ? '–' : `${x.toFixed(2)}x (${f(gw!.cpuUs)} vs ${f(bare!.cpuUs)} µs)`, pass: x === undefined ? undefined : x <= limit });
  }
  const lat = r.throughput?.latency;
  if (lat) out.push({ name: 'added p99 at half saturation', goal: '≤ 2 ms', measured: `${f(lat.addedP99, 2)} ms (gateway ${f(lat.gateway.p99, 2)} vs direct ${f(lat.direct.p99, 2)} ms at ${f(lat.rate)} req/s)`, pass: lat.addedP99 <= 2 });
  const m = r.memory;
  if (m) {
    const growth = m.big.peak - m.big.before;
    const left = m.big.after - m.big.before;
    out.push({ name: `RSS growth streaming a ${m.bigLogBytes >> 20} MB log`, goal: '≤ 30 MB', measured: `${f(growth, 1)} MB (${f(m.big.before, 1)} → peak ${f(m.big.peak, 1)} MB)`, pass: growth <= 30 });
    out.push({ name: 'RSS after the log', goal: 'flat: ≤ 10 MB above before', measured: `${f(left, 1)} MB (after ${f(m.big.after, 1)} MB)`, pass: left <= 10 });
  }
  const s = r.scale;
  if (s) {
    const [base, inst, tok] = s.cells;
    for (const [name, other] of [['10 → 1,000 instances', inst], ['10 → 100,000 tokens', tok]] as const) {
      const d = other.cpuUs! / base.cpuUs! - 1;
      out.push({ name: `CPU per status poll, ${name}`, goal: 'within ±10%', measured: `${d >= 0 ? '+' : ''}${f(100 * d, 1)}% (${f(base.cpuUs)} → ${f(other.cpuUs)} µs)`, pass: Math.abs(d) <= 0.1 });
    }
    out.push({ name: '100,000-token reload', goal: '< 1 s', measured: `${f(s.reload.durationMs, 1)} ms under load (${f(s.reload.startDurationMs, 1)} ms at start-up)`, pass: s.reload.durationMs < 1000 });
    const stall = s.reload.during.max - s.reload.baseline.max;
    const failed = s.reload.during.non2xx + s.reload.during.errors + s.reload.during.timeouts;
    out.push({ name: 'traffic during that reload', goal: 'no failures; max latency ≤ baseline max + 50 ms', measured: `max ${f(s.reload.during.max, 1)} ms vs ${f(s.reload.baseline.max, 1)} ms without; p99 ${f(s.reload.during.p99, 2)} vs ${f(s.reload.baseline.p99, 2)} ms; ${failed} failed`, pass: failed === 0 && stall <= 50 });
  }
  return out;
}

export function renderReport(r: Report): string {
  const parts: string[] = [`# Benchmark results\n`, `- command: \`${r.command}\``, `- date: ${r.date}`, `- machine: ${r.machine}`, `- settings: ${r.settings}`, `- elapsed: ${f(r.elapsedSec)} s\n`];
  const t = r.throughput;
  if (t) {
    parts.push(`## Contestants (medians over rounds)\n`, `Gateway features on: proxy-user auth (real proxy.properties), ticket minting, submission body rewrite, JSON access log to a file${t.features.length ? `, ${t.features.join(', ')}` : ' (src/config.ts had no rate-limit or metrics keys at run time)'}.\n`);
    parts.push(contestantsTable(t.cells), '');
    const l = t.latency;
    parts.push(`## Added latency at half of the gateway's saturation (${f(l.rate)} req/s, status polls, open loop)\n`);
    parts.push(table(['contestant', 'mode', 'req/s', 'p50 ms', 'p99 ms', 'max ms'], [l.direct, l.gateway].map((c) => [c.contestant, 'fixed rate', f(c.rps), f(c.p50, 2), f(c.p99, 2), f(c.max, 1)])), '');
  }
  const m = r.memory;
  if (m) {
    parts.push(`## Gateway memory (RSS, MB)\n`);
    const row = (name: string, x: typeof m.big) => [name, f(x.before, 1), f(x.peak, 1), f(x.after, 1), f(x.peak - x.before, 1), `${x.clients.completed}/${x.clients.clients} done, ${f(x.clients.bytes / 2 ** 20, 0)} MB in ${f(x.clients.ms / 1000, 1)} s, ${x.clients.failed} failed`];
    parts.push(table(['case', 'before', 'peak', 'after', 'growth', 'clients'], [row(`one client, ${m.bigLogBytes >> 20} MB log`, m.big), row(`${m.slowClients} slow clients (${m.slowRate >> 10} KB/s each), 1 MB logs`, m.slow)], 1), '');
  }
  const s = r.scale;
  if (s) {
    parts.push(`## Scale of configuration (status polls)\n`);
    const rows = s.cells.map((c) => [c.setup, f(c.rps), f(c.p99, 2), f(c.max, 1), f(c.cpuUs), (c.cpuRounds ?? []).map((x) => f(x)).join(', '), ratio(c.cpuUs, s.cells[0].cpuUs)]);
    parts.push(table(['setup', 'req/s', 'p99 ms', 'max ms', 'CPU µs/req', 'by round', 'vs first'], rows, 1), '');
    parts.push(`Reload of the 100,000-token proxy.properties (touched while under load): ${f(s.reload.durationMs, 1)} ms; during that window p99 ${f(s.reload.during.p99, 2)} ms, max ${f(s.reload.during.max, 1)} ms (without a reload: p99 ${f(s.reload.baseline.p99, 2)} ms, max ${f(s.reload.baseline.max, 1)} ms).\n`);
  }
  const ts = targets(r);
  if (ts.length) {
    parts.push(`## Targets (issue 5)\n`);
    parts.push(table(['target', 'goal', 'measured', 'result'], ts.map((x) => [x.name, x.goal, x.measured, x.pass === undefined ? '–' : x.pass ? 'PASS' : '**FAIL**']), 4), '');
  }
  parts.push(NOTES);
  return parts.join('\n');
}

const NOTES = `## How these numbers are made

- CPU per request: user+system CPU of the proxy's process tree (\`/proc/<pid>/stat\`) over the measured window,
  divided by the requests completed in it; the proxy is idle just before and after the window. Closed loop at
  32 connections, so every contestant runs at its own saturation. On this kind of VM the CPU a request costs
  rises at lower load (wake-ups, cold caches), so contestants are compared at saturation only.
- Added latency: open loop, requests issued evenly (every millisecond, those due) over 32 keep-alive
  connections by the load worker itself. autocannon's \`overallRate\` lets each connection send its budget for
  the second back to back, which measures saturation latency, not latency at half load.
- Contestants alternate within each round; the table shows medians over rounds and the CPU of each round.
  "Other processes used N%" is CPU the bench did not use: when it is high, the numbers are noisier.
- nginx (one worker, upstream keep-alive, no access log, no auth) is a reference for raw proxying only.
`;
