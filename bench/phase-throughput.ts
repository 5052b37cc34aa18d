/**
 * Throughput against one plain Entrance simulator: status polls (with every way a client authenticates,
 * and with two workers), the latency check at half the gateway's saturation, submissions; then 1 MB log
 * answers from a second simulator. Contestants: direct, the bare pipes, nginx, the gateway, the ladder.
 */
import { join } from 'node:path';
import { startSimulator, type Contestant } from './contestants';
import { sessionCookie, startGateway, tokenHeaders, type GatewaySetup } from './gateway-start';
import { logMix, statusMix, submitMix, type Cell } from './measure';
import { alternate, ladderGateways, referencesFor, stopAll, submitJob, type Ctx } from './phase-common';

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
  const latency = { rate, direct, gateway: atRate, addedP99: atRate.p99 - direct.p99 };

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
