/**
 * `npm run bench -- --profile [--profile-mix status|submit|log]`: one mix against a gateway under
 * `node --cpu-prof`, and a summary of where its CPU goes (profile.ts).
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator } from './contestants';
import { startGateway } from './gateway-start';
import { logMix, runCell, statusMix, submitMix } from './measure';
import { submitJob, type Ctx } from './phase-common';
import { formatProfile, summarizeProfile } from './profile';
import { pinToCores } from './procs';

// The profiled gateway gets a core of its own, so that the profiler's wall-clock samples are its CPU time
// and not time it spent preempted by the simulator or the load.
const pin = (pid: number, cpu: number) => pinToCores(pid, String(cpu));

export async function profile(ctx: Ctx, mixName: 'status' | 'submit' | 'log'): Promise<void> {
  const pinned = pin(process.pid, 0); // children inherit core 0; the gateway moves to core 1 below
  const sim = await startSimulator('sim-profile', mixName === 'log' ? 1024 * 1024 : undefined);
  const { execId } = await submitJob(sim);
  const mix = mixName === 'status' ? statusMix(execId) : mixName === 'log' ? logMix(execId) : submitMix();
  const profDir = join(ctx.dir, 'cpuprofile');
  const gw = await startGateway(
    { name: 'gateway-profile', instances: [{ name: sim.instance, url: sim.url }], nodeFlags: ['--cpu-prof', '--cpu-prof-dir', profDir], dist: ctx.ladder[0]?.dist },
    join(ctx.dir, 'gateway-profile'),
  );
  if (pinned) pin(gw.pid!, 1);
  const cell = await runCell(gw, mix, { connections: 32, warmupSec: 1, durationSec: 8 });
  await gw.stop(); // SIGTERM: the gateway exits normally and V8 writes the profile
  await sim.stop();
  const file = join(profDir, readdirSync(profDir).find((n) => n.endsWith('.cpuprofile'))!);
  const text =
    `# Gateway CPU profile: ${mixName} mix${ctx.ladder[0] ? ` (build ${ctx.ladder[0].name}: ${ctx.ladder[0].dist})` : ''}\n\n` +
    `${Math.round(cell.rps)} req/s, ${Math.round(cell.cpuUs!)} µs CPU per request under the profiler ` +
    `(which adds overhead; the profile also covers start-up, warm-up and shutdown)${pinned ? '; the gateway had core 1 to itself, everything else shared core 0' : ''}. ` +
    `Profile: ${file}\n\n${formatProfile(summarizeProfile(file))}`;
  writeFileSync(join(ctx.dir, 'profile.md'), text);
  process.stdout.write(`${text}\nwritten to ${join(ctx.dir, 'profile.md')}\n`);
}
