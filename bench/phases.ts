/**
 * The benchmark's phases. Each starts the processes it needs, measures, and stops them (the run's
 * cleanup hooks catch whatever an error leaves behind).
 */
import { utimesSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cookieAuth, nginxBinary, startBare, startGateway, startNginx, startSimulator, type Contestant, type Gateway, type Simulator } from './contestants';
import type { LogClientsResult } from './log-clients';
import { logMix, medianCell, runCell, runLogClients, statusMix, submitMix, submitBody, ENTRANCE, type Cell, type Mix, type Timing } from './measure';
import { sleep, treeRssMb, waitForLogLine } from './procs';

export interface Ctx {
  dir: string;
  quick: boolean;
  rounds: number;
  timing: Timing;
  useNginx: boolean;
  log: (msg: string) => void;
}

/** Submits one job straight to a simulator (as USER, with the ticket cookie) and returns its execID. */
async function submitJob(sim: Simulator): Promise<string> {
  const res = await fetch(`${sim.url}${ENTRANCE}/submit`, { method: 'POST', headers: { ...cookieAuth(), 'content-type': 'application/json' }, body: submitBody() });
  const answer = (await res.json()) as { data?: { execID?: string } };
  if (!answer.data?.execID) throw new Error(`submitting to ${sim.url} failed: ${JSON.stringify(answer)}`);
  return answer.data.execID;
}

/** direct, bare, gateway[, nginx] in front of one simulator. */
async function contestantsFor(sim: Simulator, ctx: Ctx, tag: string): Promise<{ all: Contestant[]; gateway: Gateway }> {
  const gateway = await startGateway({ name: `gateway-${tag}`, instances: [{ name: sim.instance, url: sim.url }] }, join(ctx.dir, `gateway-${tag}`));
  const all: Contestant[] = [sim, await startBare(sim.url), gateway];
  const bin = ctx.useNginx ? nginxBinary() : undefined;
  if (bin) all.push(await startNginx(bin, sim.url, join(ctx.dir, `nginx-${tag}`)));
  return { all, gateway };
}

/** Every contestant once per round, in the same order each round; medians over rounds. */
async function alternate(contestants: Contestant[], mix: Mix, timing: Timing, ctx: Ctx): Promise<Cell[]> {
  const byName = new Map<string, Cell[]>();
  for (let r = 1; r <= ctx.rounds; r++) {
    for (const c of contestants) {
      ctx.log(`  ${mix.name} round ${r}/${ctx.rounds}: ${c.name}`);
      const cell = await runCell(c, mix, timing);
      byName.set(c.name, [...(byName.get(c.name) ?? []), cell]);
    }
  }
  return [...byName.values()].map(medianCell);
}

export interface LatencyCheck {
  rate: number;
  direct: Cell;
  gateway: Cell;
  addedP99: number;
}

export interface ThroughputResult {
  cells: Cell[];
  latency: LatencyCheck;
  features: string[];
}

export async function throughputPhase(ctx: Ctx): Promise<ThroughputResult> {
  const simA = await startSimulator('sim-status');
  const execA = await submitJob(simA);
  const a = await contestantsFor(simA, ctx, 'a');
  ctx.log(`contestants: ${a.all.map((c) => c.name).join(', ')}; gateway features: ${a.gateway.features.join(', ') || 'auth, tickets, body rewrite, access log (no rate-limit/metrics keys in config)'}`);
  const status = await alternate(a.all, statusMix(execA), ctx.timing, ctx);

  // Added latency at half of the gateway's saturation throughput, open-loop at a fixed rate.
  const rate = Math.max(10, Math.round(status.find((c) => c.contestant === 'gateway')!.rps / 2));
  ctx.log(`latency check at ${rate} req/s`);
  const fixed = await alternate([simA, a.gateway], statusMix(execA), { ...ctx.timing, overallRate: rate }, ctx);
  const [direct, gateway] = fixed;
  const latency = { rate, direct, gateway, addedP99: gateway.p99 - direct.p99 };

  const submit = await alternate(a.all, submitMix(), ctx.timing, ctx);
  for (const c of a.all) if (c !== simA) await c.stop();
  await simA.stop();

  const simB = await startSimulator('sim-log', 1024 * 1024);
  const execB = await submitJob(simB);
  const b = await contestantsFor(simB, ctx, 'b');
  const log = await alternate(b.all, logMix(execB), ctx.timing, ctx);
  for (const c of b.all) await c.stop();
  return { cells: [...status, ...submit, ...log], latency, features: a.gateway.features };
}

export interface RssTrace {
  before: number;
  peak: number;
  after: number;
  clients: LogClientsResult;
}

export interface MemoryResult {
  bigLogBytes: number;
  big: RssTrace;
  slow: RssTrace;
  slowClients: number;
  /** Bytes per second each slow client reads. */
  slowRate: number;
}

/** Samples the gateway's RSS while `work` runs; `after` is read `settleMs` after it ends. */
async function traceRss(pid: number, work: () => Promise<LogClientsResult>, settleMs: number): Promise<RssTrace> {
  const before = treeRssMb(pid);
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, treeRssMb(pid))), 20);
  const clients = await work().finally(() => clearInterval(timer));
  peak = Math.max(peak, treeRssMb(pid));
  await sleep(settleMs);
  return { before, peak, after: treeRssMb(pid), clients };
}

export async function memoryPhase(ctx: Ctx): Promise<MemoryResult> {
  const bigLogBytes = ctx.quick ? 20 * 1024 * 1024 : 200 * 1024 * 1024;
  const slowClients = ctx.quick ? 200 : 1000;
  const slowRate = ctx.quick ? 512 * 1024 : 100 * 1024;
  const small = await startSimulator('sim-log-1m', 1024 * 1024);
  const big = await startSimulator('sim-log-big', bigLogBytes);
  const [execSmall, execBig] = [await submitJob(small), await submitJob(big)];
  // Room for every slow client's stream at once (the default pool of 256 would queue the rest).
  const gw = await startGateway(
    { name: 'gateway-mem', instances: [small, big].map((s) => ({ name: s.instance, url: s.url })), settings: { 'gateway.upstream.max.sockets': String(slowClients + 100), 'gateway.upstream.max.per.user': '0', 'gateway.upstream.max.per.client': '0' } },
    join(ctx.dir, 'gateway-mem'),
  );
  const logUrl = (execId: string) => gw.url + logMix(execId).path;
  // Warm the streaming path first, so "before" is a gateway that has already served logs.
  await runLogClients({ url: logUrl(execSmall), headers: gw.auth, clients: 20, bytesPerSec: 0, seconds: 10 });
  await sleep(ctx.quick ? 300 : 1000);
  ctx.log(`memory: one client reading a ${bigLogBytes >> 20} MB log`);
  const bigTrace = await traceRss(gw.pid!, () => runLogClients({ url: logUrl(execBig), headers: gw.auth, clients: 1, bytesPerSec: 0, seconds: 120 }), ctx.quick ? 1000 : 2000);
  ctx.log(`memory: ${slowClients} slow clients reading 1 MB logs`);
  const slowTrace = await traceRss(
    gw.pid!,
    () => runLogClients({ url: logUrl(execSmall), headers: gw.auth, clients: slowClients, bytesPerSec: slowRate, seconds: ctx.quick ? 8 : 20 }),
    ctx.quick ? 1000 : 3000,
  );
  await gw.stop();
  await Promise.all([small.stop(), big.stop()]);
  return { bigLogBytes, big: bigTrace, slow: slowTrace, slowClients, slowRate };
}

export interface ScaleResult {
  cells: Array<Cell & { setup: string }>;
  reload: { tokens: number; durationMs: number; startDurationMs: number; during: Cell; baseline: Cell };
}

export async function scalePhase(ctx: Ctx): Promise<ScaleResult> {
  const sim = await startSimulator('sim-scale');
  const execId = await submitJob(sim);
  const real = [{ name: sim.instance, url: sim.url }];
  const setups: Array<{ setup: string; gw: Gateway }> = [];
  for (const [setup, fakeInstances, tokens] of [['10 instances, 10 tokens', 9, 10], ['1,000 instances, 10 tokens', 999, 10], ['10 instances, 100,000 tokens', 9, 100_000]] as const) {
    const gw = await startGateway({ name: `gateway-scale-${setups.length}`, instances: real, fakeInstances, tokens }, join(ctx.dir, `gateway-scale-${setups.length}`));
    setups.push({ setup, gw });
  }
  // Differences of a few percent are the question here: one more round, of shorter cells, than elsewhere.
  const timing = { ...ctx.timing, durationSec: ctx.quick ? ctx.timing.durationSec : 3 };
  const rounds = ctx.quick ? ctx.rounds : ctx.rounds + 1;
  const raw = new Map<string, Cell[]>();
  for (let r = 1; r <= rounds; r++) {
    for (const { setup, gw } of setups) {
      ctx.log(`  scale round ${r}/${rounds}: ${setup}`);
      raw.set(setup, [...(raw.get(setup) ?? []), await runCell(gw, statusMix(execId), timing)]);
    }
  }
  const cells = setups.map(({ setup }) => ({ ...medianCell(raw.get(setup)!), setup }));

  // Reload of the 100,000-token file under the same load: touch it mid-window, read the reload's own timing.
  const big = setups[2].gw;
  let reloadLine: Record<string, unknown> | undefined;
  ctx.log('  reload of the 100,000-token file under load');
  const during = await runCell(big, statusMix(execId), timing, async () => {
    await sleep((timing.durationSec * 1000) / 3);
    const from = statSync(big.logFile).size;
    const now = new Date();
    utimesSync(big.proxyFile, now, now);
    reloadLine = await waitForLogLine(big.logFile, (l) => l.event === 'allowlist.reload', 10_000, from);
  });
  for (const { gw } of setups) await gw.stop();
  await sim.stop();
  return {
    cells,
    reload: {
      tokens: 100_000,
      durationMs: Number(reloadLine?.durationMs ?? NaN),
      startDurationMs: Number(big.startReload?.durationMs ?? NaN),
      during,
      baseline: cells[2],
    },
  };
}
