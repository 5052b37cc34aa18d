/**
 * The targets of issue 14 with PASS/FAIL, from the report's measurements; two reload rows of issue 5
 * that issue 14 does not replace follow them. A target whose measurement is missing shows "–".
 */
import type { Cell } from './measure';
import { FOLLOW_UP } from './phase-linkis';
import type { Report } from './report';

export interface Target {
  name: string;
  goal: string;
  measured: string;
  pass: boolean | undefined;
}

export const f = (n: number | undefined, digits = 0) => (n === undefined || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const pct = (d: number) => `${d >= 0 ? '+' : ''}${f(100 * d, 1)}%`;

/** `a` costs at most `limit` times `b` (CPU per request). */
function cpuRatio(name: string, a: Cell | undefined, b: Cell | undefined, limit: number, vs: string): Target {
  const x = a?.cpuUs !== undefined && b?.cpuUs ? a.cpuUs / b.cpuUs : undefined;
  return { name, goal: `≤ ${limit.toFixed(limit % 1 ? 2 : 1)}x ${vs}`, measured: x === undefined ? '–' : `${x.toFixed(2)}x (${f(a!.cpuUs)} vs ${f(b!.cpuUs)} µs)`, pass: x === undefined ? undefined : x <= limit };
}

/** `b` costs within ±`band` of `a`. */
function flat(name: string, a: Cell | undefined, b: Cell | undefined, band: number): Target {
  if (a?.cpuUs === undefined || b?.cpuUs === undefined) return { name, goal: `within ±${band * 100}%`, measured: '–', pass: undefined };
  const d = b.cpuUs / a.cpuUs - 1;
  return { name, goal: `within ±${band * 100}%`, measured: `${pct(d)} (${f(a.cpuUs)} → ${f(b.cpuUs)} µs)`, pass: Math.abs(d) <= band };
}

export function targets(r: Report): Target[] {
  const out: Target[] = [];
  const cells = [...(r.throughput?.cells ?? []), ...(r.linkis ?? [])];
  const cell = (mix: string, who: string) => cells.find((c) => c.mix.startsWith(mix) && c.contestant === who);
  if (r.throughput) {
    out.push(cpuRatio('CPU per status poll', cell('status', 'gateway'), cell('status', 'bare'), 1, 'bare'));
    out.push(cpuRatio('CPU per status poll', cell('status', 'gateway'), cell('status', 'bare-undici'), 1.6, 'bare-undici'));
    out.push(cpuRatio('CPU per submission', cell('submit', 'gateway'), cell('submit', 'bare'), 1.2, 'bare'));
    out.push(cpuRatio('CPU per 1 MB log answer', cell('log', 'gateway'), cell('log', 'bare'), 1.15, 'bare'));
    const lat = r.throughput.latency;
    out.push({ name: 'added p99 at half saturation, cores shared', goal: '≤ 1 ms', measured: `${f(lat.addedP99, 2)} ms (gateway ${f(lat.gateway.p99, 2)} vs direct ${f(lat.direct.p99, 2)} ms at ${f(lat.rate)} req/s)`, pass: lat.addedP99 <= 1 });
    const own = lat.ownCore;
    if (own) out.push({ name: 'added p99 at half saturation, gateway on a core of its own', goal: '≤ 1 ms', measured: `${f(own.addedP99, 2)} ms (gateway ${f(own.gateway.p99, 2)} vs direct ${f(own.direct.p99, 2)} ms)`, pass: own.addedP99 <= 1 });
    out.push(flat('gateway.workers=2: CPU per status poll vs one worker', cell('status', 'gateway'), cell('status', 'gateway workers=2'), 0.1));
  }
  if (r.linkis) out.push(cpuRatio('taskID follow-up (cached) vs execID follow-up', cell(FOLLOW_UP, 'gateway by taskID'), cell(FOLLOW_UP, 'gateway by execID'), 1, 'execID'));
  const m = r.memory;
  if (m) {
    const growth = m.big.peak - m.big.before;
    out.push({ name: `RSS growth streaming a ${m.bigLogBytes >> 20} MB log`, goal: '≤ 10 MB', measured: `${f(growth, 1)} MB (${f(m.big.before, 1)} → peak ${f(m.big.peak, 1)} MB, after ${f(m.big.after, 1)} MB)`, pass: growth <= 10 });
  }
  const s = r.scale;
  if (s) {
    const base = s.cells.find((c) => c.instances === 10 && c.tokens === 10);
    const most = (key: 'instances' | 'tokens') => s.cells.filter((c) => (key === 'instances' ? c.tokens === 10 : c.instances === 10)).sort((a, b) => b[key] - a[key])[0];
    for (const key of ['instances', 'tokens'] as const) {
      const other = most(key);
      out.push(flat(`CPU per status poll, 10 → ${f(other?.[key])} ${key}`, base, other, 0.1));
    }
    out.push({ name: `${f(s.reload.tokens)}-token reload (issue 5)`, goal: '< 1 s', measured: `${f(s.reload.durationMs, 1)} ms under load (${f(s.reload.startDurationMs, 1)} ms at start-up)`, pass: s.reload.durationMs < 1000 });
    const stall = s.reload.during.max - s.reload.baseline.max;
    const failed = s.reload.during.non2xx + s.reload.during.errors + s.reload.during.timeouts;
    out.push({ name: 'traffic during that reload (issue 5)', goal: 'no failures; max latency ≤ baseline max + 50 ms', measured: `max ${f(s.reload.during.max, 1)} ms vs ${f(s.reload.baseline.max, 1)} ms without; p99 ${f(s.reload.during.p99, 2)} vs ${f(s.reload.baseline.p99, 2)} ms; ${failed} failed`, pass: failed === 0 && stall <= 50 });
  }
  return out;
}
