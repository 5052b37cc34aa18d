/**
 * What every phase shares: the run's settings, one job submitted straight to a simulator, the reference
 * contestants in front of an upstream, and the alternation of contestants round by round.
 */
import { join } from 'node:path';
import { cookieAuth, nginxBinary, startBare, startNginx, type Contestant, type Simulator } from './contestants';
import { startGateway, type Gateway, type GatewaySetup } from './gateway-start';
import { ENTRANCE, medianCell, runCell, submitBody, type Cell, type Mix, type Timing } from './measure';

/** An extra gateway contestant from another build (--ladder name=distDir). */
export interface LadderEntry {
  name: string;
  dist: string;
}

export interface Ctx {
  dir: string;
  quick: boolean;
  rounds: number;
  timing: Timing;
  useNginx: boolean;
  ladder: LadderEntry[];
  log: (msg: string) => void;
}

/** Submits one job straight to an Entrance (as USER, with the ticket cookie); its execID and taskID. */
export async function submitJob(sim: Simulator): Promise<{ execId: string; taskId: number }> {
  const res = await fetch(`${sim.url}${ENTRANCE}/submit`, { method: 'POST', headers: { ...cookieAuth(), 'content-type': 'application/json' }, body: submitBody() });
  const answer = (await res.json()) as { data?: { execID?: string; taskID?: number } };
  if (!answer.data?.execID) throw new Error(`submitting to ${sim.url} failed: ${JSON.stringify(answer)}`);
  return { execId: answer.data.execID, taskId: Number(answer.data.taskID) };
}

/** bare, bare-undici[, nginx] in front of one upstream. */
export async function referencesFor(upstream: string, ctx: Ctx, tag: string): Promise<Contestant[]> {
  const refs = [await startBare(upstream, 'bare', tag), await startBare(upstream, 'bare-undici', tag)];
  const bin = ctx.useNginx ? nginxBinary() : undefined;
  if (bin) refs.push(await startNginx(bin, upstream, join(ctx.dir, `nginx-${tag}`)));
  return refs;
}

/** One gateway per --ladder entry, set up like `setup` but running that build; named `gateway@<name>`. */
export async function ladderGateways(setup: GatewaySetup, ctx: Ctx): Promise<Gateway[]> {
  const out: Gateway[] = [];
  for (const l of ctx.ladder) {
    const name = `${setup.name}@${l.name}`;
    const gw = await startGateway({ ...setup, name, dist: l.dist }, join(ctx.dir, name));
    out.push({ ...gw, name: `gateway@${l.name}` });
  }
  return out;
}

const primed = new Set<string>();

/**
 * Before the first measured cell of a contestant on a mix, one cell (1 s warm-up + 1 s) whose numbers are
 * thrown away. Measured here: a fresh process's first measured window costs 1.5-2x the later ones even after
 * a 3-6 s warm-up, while one earlier cell of any length removes that; a longer warm-up does not.
 */
export async function prime(c: Contestant, mix: Mix, timing: Timing): Promise<void> {
  const key = `${c.name}|${c.url}|${mix.method} ${mix.path}`;
  if (primed.has(key)) return;
  primed.add(key);
  await runCell(c, mix, { ...timing, warmupSec: 1, durationSec: 1 });
}

/**
 * Every contestant once per round; medians over rounds. The order rotates by one each round, so that no
 * contestant always runs right after the same one (or first, on a simulator fresh from another mix).
 * `mix` may differ by contestant (the same job followed up by execID and by taskID, alternating).
 */
export async function alternate(contestants: Contestant[], mix: Mix | ((c: Contestant) => Mix), timing: Timing, ctx: Ctx, rounds = ctx.rounds): Promise<Cell[]> {
  const mixOf = typeof mix === 'function' ? mix : () => mix;
  const byName = new Map<string, Cell[]>();
  for (let r = 1; r <= rounds; r++) {
    for (const c of rotate(contestants, r - 1)) {
      const m = mixOf(c);
      ctx.log(`  ${m.name} round ${r}/${rounds}: ${c.name}`);
      await prime(c, m, timing);
      const cell = await runCell(c, m, timing);
      byName.set(c.name, [...(byName.get(c.name) ?? []), cell]);
    }
  }
  return [...byName.values()].map(medianCell);
}

export const rotate = <T>(xs: T[], by: number): T[] => xs.map((_, i) => xs[(i + by) % xs.length]);

export async function stopAll(cs: Array<{ stop(): Promise<void> }>): Promise<void> {
  for (const c of cs) await c.stop();
}
