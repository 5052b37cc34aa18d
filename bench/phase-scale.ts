/**
 * The cost of a large configuration: status polls through gateways configured with 10 or 10,000 instances
 * and 10, 100,000 or 1,000,000 tokens, alternating; then a reload of the 100,000-token file under load.
 * The reload stays at 100,000 tokens: a million take several seconds to load (the table shows how many at
 * start-up), which would make a stall measurement of a different kind; the per-request figure is the
 * million's.
 */
import { rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator } from './contestants';
import { startGateway, type Gateway } from './gateway-start';
import { medianCell, runCell, statusMix, type Cell } from './measure';
import { prime, rotate, submitJob, type Ctx } from './phase-common';
import { sleep, waitForLogLine } from './procs';
import { dropGenerated } from './tokens-file';

export interface ScaleCell extends Cell {
  setup: string;
  instances: number;
  tokens: number;
  /** The allowlist load at start-up, ms (the gateway's allowlist.reload line). */
  startLoadMs: number;
}

export interface ScaleResult {
  cells: ScaleCell[];
  reload: { tokens: number; durationMs: number; startDurationMs: number; during: Cell; baseline: Cell };
}

const SETUPS: Array<[instances: number, tokens: number]> = [
  [10, 10],
  [10_000, 10],
  [10, 100_000],
  [10, 1_000_000],
];
const RELOAD_TOKENS = 100_000;

export async function scalePhase(ctx: Ctx): Promise<ScaleResult> {
  const sim = await startSimulator('sim-scale');
  const { execId } = await submitJob(sim);
  const real = [{ name: sim.instance, url: sim.url }];
  const setups: Array<{ setup: string; instances: number; tokens: number; gw: Gateway }> = [];
  for (const [instances, tokens] of SETUPS) {
    const setup = `${instances.toLocaleString('en-US')} instances, ${tokens.toLocaleString('en-US')} tokens`;
    ctx.log(`  starting a gateway with ${setup}`);
    const name = `gateway-scale-${setups.length}`;
    setups.push({ setup, instances, tokens, gw: await startGateway({ name, instances: real, fakeInstances: instances - 1, tokens }, join(ctx.dir, name)) });
  }
  const raw = new Map<string, Cell[]>();
  for (let r = 1; r <= ctx.rounds; r++) {
    for (const { setup, gw } of rotate(setups, r - 1)) {
      ctx.log(`  scale round ${r}/${ctx.rounds}: ${setup}`);
      await prime(gw, statusMix(execId), ctx.timing);
      raw.set(setup, [...(raw.get(setup) ?? []), await runCell(gw, statusMix(execId), ctx.timing)]);
    }
  }
  const cells = setups.map(({ setup, instances, tokens, gw }) => ({ ...medianCell(raw.get(setup)!), setup, instances, tokens, startLoadMs: Number(gw.startReload?.durationMs ?? NaN) }));

  // A reload under the same load: touch the file a third into the window, read the reload's own timing.
  const i = setups.findIndex((s) => s.tokens === RELOAD_TOKENS && s.instances === 10);
  const big = setups[i].gw;
  let reloadLine: Record<string, unknown> | undefined;
  ctx.log(`  reload of the ${RELOAD_TOKENS.toLocaleString('en-US')}-token file under load`);
  const during = await runCell(big, statusMix(execId), ctx.timing, async () => {
    await sleep((ctx.timing.durationSec * 1000) / 3);
    const from = statSync(big.logFile).size;
    const now = new Date();
    utimesSync(big.proxyFile, now, now);
    reloadLine = await waitForLogLine(big.logFile, (l) => l.event === 'allowlist.reload', 10_000, from);
  });
  for (const { gw } of setups) await gw.stop();
  await sim.stop();
  // The big allowlists are 5 and 50 MB each, twice (the generated file and the gateway's copy): not kept.
  for (const { gw, tokens } of setups) if (tokens >= RELOAD_TOKENS) rmSync(gw.proxyFile, { force: true });
  dropGenerated(RELOAD_TOKENS);
  return {
    cells,
    reload: { tokens: RELOAD_TOKENS, durationMs: Number(reloadLine?.durationMs ?? NaN), startDurationMs: cells[i].startLoadMs, during, baseline: cells[i] },
  };
}
