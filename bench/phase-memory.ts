/**
 * The gateway's memory: one client reading a 200 MB log as fast as it can (streamed, never held), then a
 * thousand slow clients reading 1 MB logs (back-pressure, not buffering). RSS of its process tree.
 */
import { join } from 'node:path';
import { startSimulator } from './contestants';
import { startGateway } from './gateway-start';
import type { LogClientsResult } from './log-clients';
import { logMix, runLogClients } from './measure';
import { submitJob, type Ctx } from './phase-common';
import { treeRssMb } from './proc-stats';
import { sleep } from './procs';

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
  const [execSmall, execBig] = [(await submitJob(small)).execId, (await submitJob(big)).execId];
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
