/**
 * Turns measurements into the markdown report (printed, and written to bench/RESULTS.md by a full run):
 * the contestants table with ratios to both bare pipes, the ladder, the latency check, memory,
 * configuration scale, and the targets of issue 14 with PASS/FAIL (targets.ts).
 */
import type { Cell, Timing } from './measure';
import type { LadderEntry } from './phase-common';
import type { MemoryResult } from './phase-memory';
import type { ScaleResult } from './phase-scale';
import type { ThroughputResult } from './phase-throughput';
import { f, targets } from './targets';

export interface Report {
  command: string;
  date: string;
  machine: string;
  settings: string;
  rounds: number;
  timing: Timing;
  ladder: LadderEntry[];
  throughput?: ThroughputResult;
  /** Follow-ups by execID and taskID, and publicservice calls, through a whole simulated Linkis. */
  linkis?: Cell[];
  memory?: MemoryResult;
  scale?: ScaleResult;
  elapsedSec: number;
}

const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !b ? '–' : `${(a / b).toFixed(2)}x`);
const errorsOf = (c: Cell) => (c.non2xx || c.errors || c.timeouts ? `${c.non2xx} non-2xx, ${c.errors} err, ${c.timeouts} t/o` : '0');
const kbPerAnswer = (c: Cell) => (c.requests ? f(c.bytes / c.requests / 1024, c.bytes / c.requests < 10_240 ? 1 : 0) : '–');

/** Markdown table; the first `textCols` columns are left-aligned, the numbers right-aligned. */
function table(head: string[], rows: string[][], textCols = 2): string {
  const align = head.map((_, i) => (i < textCols ? '---' : '---:'));
  return [head, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function contestantsTable(cells: Cell[]): string {
  const rows = cells.map((c) => {
    const ref = (name: string) => cells.find((b) => b.mix === c.mix && b.contestant === name);
    const rounds = c.cpuRounds && c.cpuRounds.length > 1 ? c.cpuRounds.map((x) => f(x)).join(', ') : '';
    return [c.mix, c.contestant, f(c.rps), f(c.p50, 2), f(c.p99, 2), kbPerAnswer(c), f(c.cpuUs), rounds, f(c.sysUs), ratio(c.cpuUs, ref('bare')?.cpuUs), ratio(c.cpuUs, ref('bare-undici')?.cpuUs), ratio(c.rps, ref('bare')?.rps), f(c.othersPct), errorsOf(c)];
  });
  const head = ['mix', 'contestant', 'req/s', 'p50 ms', 'p99 ms', 'KB/answer', 'proxy CPU µs/req', 'by round', 'of which kernel', 'CPU vs bare', 'CPU vs bare-undici', 'req/s vs bare', 'others %', 'errors'];
  return table(head, rows);
}

/** Each --ladder build next to this one, mix by mix: the lever-by-lever record. */
function ladderTable(cells: Cell[], ladder: LadderEntry[]): string {
  const rows: string[][] = [];
  const names = ladder.map((l) => `gateway@${l.name}`);
  for (const mix of [...new Set(cells.filter((c) => names.includes(c.contestant)).map((c) => c.mix))]) {
    const at = (who: string) => cells.find((c) => c.mix === mix && c.contestant === who);
    for (const who of ['gateway', ...names]) {
      const c = at(who);
      if (!c) continue;
      rows.push([mix, who === 'gateway' ? 'gateway (this build)' : who, f(c.rps), f(c.cpuUs), ratio(c.cpuUs, at('bare')?.cpuUs), ratio(c.cpuUs, at('bare-undici')?.cpuUs), ratio(c.cpuUs, at('gateway')?.cpuUs)]);
    }
  }
  return table(['mix', 'build', 'req/s', 'CPU µs/req', 'vs bare', 'vs bare-undici', 'vs this build'], rows);
}

export function renderReport(r: Report): string {
  const parts: string[] = [`# Benchmark results\n`, `- command: \`${r.command}\``, `- date: ${r.date}`, `- machine: ${r.machine}`, `- settings: ${r.settings}`, `- elapsed: ${f(r.elapsedSec)} s\n`];
  const t = r.throughput;
  const cells = [...(t?.cells ?? []), ...(r.linkis ?? [])];
  if (t) {
    parts.push(`## Contestants (medians over rounds)\n`, `Gateway features on: proxy-user auth (real proxy.properties), ticket minting, submission body rewrite, JSON access log to a file, per-user and per-client upstream caps (defaults), metrics listener${t.features.length ? `, ${t.features.join(', ')}` : ' (no rate-limit keys in config)'}; publicservice and the taskID cache in the whole-Linkis rows.\n`);
    parts.push(`\`gateway Token-User\` and \`gateway session\` are the \`gateway\` process reached with \`Token-User\`/\`Token-Code\` headers and with the session cookie of one \`user/login\`; \`gateway workers=2\` is another gateway with \`gateway.workers=2\` (CPU of the primary and both workers).\n`);
    parts.push(contestantsTable(cells), '');
    if (r.ladder.length) parts.push(`## Ladder (other builds, same rounds)\n`, r.ladder.map((l) => `- \`gateway@${l.name}\`: ${l.dist}`).join('\n'), '', ladderTable(cells, r.ladder), '');
    const l = t.latency;
    parts.push(`## Added latency at half of the gateway's saturation (${f(l.rate)} req/s, status polls, open loop)\n`);
    const rows = [l.direct, l.gateway].map((c) => [c.contestant, 'fixed rate, cores shared', f(c.rps), f(c.p50, 2), f(c.p99, 2), f(c.max, 1)]);
    if (l.ownCore) rows.push(...[l.ownCore.direct, l.ownCore.gateway].map((c) => [c.contestant, 'fixed rate, gateway on core 1, the rest on core 0', f(c.rps), f(c.p50, 2), f(c.p99, 2), f(c.max, 1)]));
    parts.push(table(['contestant', 'mode', 'req/s', 'p50 ms', 'p99 ms', 'max ms'], rows), '');
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
    const rows = s.cells.map((c) => [c.setup, f(c.rps), f(c.p99, 2), f(c.max, 1), f(c.cpuUs), (c.cpuRounds ?? []).map((x) => f(x)).join(', '), ratio(c.cpuUs, s.cells[0].cpuUs), f(c.startLoadMs, 0), f(c.othersPct)]);
    parts.push(table(['setup', 'req/s', 'p99 ms', 'max ms', 'CPU µs/req', 'by round', 'vs first', 'allowlist load at start, ms', 'others %'], rows, 1), '');
    parts.push(
      `Reload of the ${f(s.reload.tokens)}-token proxy.properties (touched while under load; kept at ${f(s.reload.tokens)} tokens, see the start-up load of a million above): ` +
        `${f(s.reload.durationMs, 1)} ms; during that window p99 ${f(s.reload.during.p99, 2)} ms, max ${f(s.reload.during.max, 1)} ms (without a reload: p99 ${f(s.reload.baseline.p99, 2)} ms, max ${f(s.reload.baseline.max, 1)} ms).\n`,
    );
  }
  const ts = targets(r);
  if (ts.length) {
    parts.push(`## Targets (issue 14)\n`);
    parts.push(table(['target', 'goal', 'measured', 'result'], ts.map((x) => [x.name, x.goal, x.measured, x.pass === undefined ? '–' : x.pass ? 'PASS' : '**FAIL**']), 4), '');
  }
  parts.push(notes(r));
  return parts.join('\n');
}

function notes(r: Report): string {
  return `## How these numbers are made

- CPU per request: user+system CPU of the proxy's process tree (\`/proc/<pid>/stat\`) over the measured window,
  divided by the requests completed in it; the proxy is idle just before and after the window. Closed loop at
  32 connections, so every contestant runs at its own saturation. On this kind of VM the CPU a request costs
  rises at lower load (wake-ups, cold caches), so contestants are compared at saturation only.
- References: \`bare\` pipes \`http.request\` on a keep-alive agent (bench/bare-proxy.ts); \`bare-undici\` dispatches
  on an undici 6 \`Pool\` (256 connections, no pipelining) straight into the response (bench/bare-undici.ts).
  Both do no auth, routing or logging, and drop the upstream request when the client leaves.
- Added latency: open loop, requests issued evenly (every millisecond, those due) over 32 keep-alive
  connections by the load worker itself. autocannon's \`overallRate\` lets each connection send its budget for
  the second back to back, which measures saturation latency, not latency at half load. Measured twice: on
  shared cores, where the simulator, the load and the gateway wait for each other's time slices; and with the
  gateway on core 1 alone and the simulator, the load and the bench on core 0 (taskset) for both contestants,
  which is the gateway's own added latency (in production it does not share two cores with its Entrance).
- Contestants alternate within each round (${r.rounds} rounds, the order rotated by one each round); the table
  shows medians over rounds and the CPU of each round, round 1 first. Cells are ${r.timing.warmupSec} s warm-up + ${r.timing.durationSec} s measured (shortened from 1 + 5 s so that a full
  run of five rounds fits in about a quarter of an hour on two cores). Before its first cell on a mix, each
  contestant runs one unmeasured cell (1 s + 1 s): a fresh process's first measured window costs 1.5-2x the
  later ones even after a 3-6 s warm-up, and one earlier cell removes that (a longer warm-up does not).
  autocannon samples every 100 ms (at its default of 1 s, a run ends only on the next whole second). "Other
  processes used N%" (and the "others %" column: median over a row's cells) is the machine's CPU that the
  bench's own processes did not use: when it is high, those numbers are noisier.
- Log answers: the simulator's \`--huge-log-bytes 1048576\` makes every \`/log\` answer exactly 1 MiB, streamed
  (the KB/answer column counts what the client received, headers included).
- Whole-Linkis rows: the simulator's \`--linkis\` (an Entrance and a publicservice over one job history). The job
  is submitted straight to the Entrance, so the gateway's first taskID request asks the job history and later ones
  hit its cache (\`gateway.task.cache.ms\`, 10 s: about one lookup per round). The publicservice call is
  \`jobhistory/list?pageNow=1&pageSize=10\`.
- nginx (one worker, upstream keep-alive, no access log, no auth) is a reference for raw proxying only.
`;
}
