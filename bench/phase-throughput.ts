/**
 * Throughput against one plain Entrance simulator: status polls (with every way a client authenticates,
 * and with two workers), the latency check at half the gateway's saturation, submissions; then 1 MB log
 * answers from a second simulator. Contestants: direct, the bare pipes, nginx, the gateway, the ladder.
 */
import { join } from 'node:path';
import { startSimulator, type Contestant } from './contestants';
import { sessionCookie, startGateway, tokenHeaders, type GatewaySetup } from './gateway-start';
import { logMix, statusMix, submitMix, type Cell } from './measure';
import { ALL_CORES, pinToCores } from './procs';
import { alternate, ladderGateways, referencesFor, stopAll, submitJob, type Ctx } from './phase-common';

export interface LatencyCheck {
  rate: number;
  direct: Cell;
  gateway: Cell;
  addedP99: number;
  /** The same with the gateway on core 1 and everything else (simulator, load, bench) on core 0. */
  ownCore?: { direct: Cell; gateway: Cell; addedP99: number };
}

export interface ThroughputResult {
  cells: Cell[];
  latency: LatencyCheck;
  features: string[];
}

export const LOG_BYTES = 1024 * 1024;

export async function throughputPhase(ctx: Ctx): Promise<ThroughputResult> {
  const simA = await startSimulator('sim-status');
  const { execId } = await submitJob(simA);
  const setupA: GatewaySetup = { name: 'gateway-a', instances: [{ name: simA.instance, url: simA.url }] };
  const gateway = await startGateway(setupA, join(ctx.dir, setupA.name));
  // gateway.workers=2: a supervising primary and two workers sharing the port; CPU of all three counts.
  const workers = await startGateway({ ...setupA, name: 'gateway-a-workers2', settings: { 'gateway.workers': '2' } }, join(ctx.dir, 'gateway-a-workers2'));
  const refs = await referencesFor(simA.url, ctx, 'a');
  const ladderA = await ladderGateways(setupA, ctx);
  // The same gateway process, reached as linkis-cli and the SDKs reach it: token headers, a login session.
  const variants = [gateway.variant('gateway Token-User', tokenHeaders(gateway)), gateway.variant('gateway session', await sessionCookie(gateway))];
  const all: Contestant[] = [simA, ...refs, gateway, ...variants, { ...workers, name: 'gateway workers=2' }, ...ladderA];
  ctx.log(`contestants: ${all.map((c) => c.name).join(', ')}; gateway features: ${gateway.features.join(', ') || 'auth, tickets, body rewrite, access log (no rate-limit/metrics keys in config)'}`);
  const status = await alternate(all, statusMix(execId), ctx.timing, ctx);

  // Added latency at half of the gateway's saturation throughput, open-loop at a fixed rate.
  const rate = Math.max(10, Math.round(status.find((c) => c.contestant === 'gateway')!.rps / 2));
  ctx.log(`latency check at ${rate} req/s`);
  const [direct, atRate] = await alternate([simA, gateway], statusMix(execId), { ...ctx.timing, overallRate: rate }, ctx);
  const latency: LatencyCheck = { rate, direct, gateway: atRate, addedP99: atRate.p99 - direct.p99 };
  // On two shared cores the simulator, the load and the gateway wait for each other's time slices, and that
  // wait, not the gateway's own work, dominates its p99. A gateway runs on a host of its own in production:
  // here it gets core 1 alone, and direct calls see exactly the same core 0 for simulator and load.
  if (pinToCores(process.pid, '0') && pinToCores(simA.processId, '0') && pinToCores(gateway.pid!, '1')) {
    ctx.log('latency check, the gateway on a core of its own');
    const [d, g] = await alternate([simA, gateway], statusMix(execId), { ...ctx.timing, overallRate: rate }, ctx);
    latency.ownCore = { direct: d, gateway: g, addedP99: g.p99 - d.p99 };
    for (const pid of [process.pid, simA.processId, gateway.pid!]) pinToCores(pid, ALL_CORES);
  }

  const submit = await alternate([simA, ...refs, gateway, ...ladderA], submitMix(), ctx.timing, ctx);
  await stopAll([...refs, gateway, workers, ...ladderA, simA]);

  const simB = await startSimulator('sim-log', LOG_BYTES);
  const logJob = await submitJob(simB);
  const setupB: GatewaySetup = { name: 'gateway-b', instances: [{ name: simB.instance, url: simB.url }] };
  const gatewayB = await startGateway(setupB, join(ctx.dir, setupB.name));
  const b = [simB, ...(await referencesFor(simB.url, ctx, 'b')), gatewayB, ...(await ladderGateways(setupB, ctx))];
  const log = await alternate(b, logMix(logJob.execId), ctx.timing, ctx);
  await stopAll(b);
  return { cells: [...status, ...submit, ...log], latency, features: gateway.features };
}
