/**
 * `npm run bench [-- --quick | --profile [--profile-mix status|submit|log]] [--rounds N] [--no-nginx] [--out FILE]`
 *
 * Measures the gateway against direct calls, a bare Node pipe proxy and nginx (when on PATH), in one run,
 * alternating contestants round by round; then its memory under big and slow log reads and the cost of a
 * large configuration. Prints a markdown report; a full run also writes it to bench/RESULTS.md.
 * `--profile` instead runs one mix (status polls by default) against a gateway under `node --cpu-prof`
 * and summarises where its CPU goes. Every process runs on 127.0.0.1 and is killed (by process group) on exit.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { nginxBinary, startGateway, startSimulator, cookieAuth } from './contestants';
import { ENTRANCE, logMix, runCell, statusMix, submitBody, submitMix } from './measure';
import { memoryPhase, scalePhase, throughputPhase, type Ctx } from './phases';
import { cpuAccounting, installCleanupHooks, killAllChildren, setLogDir } from './procs';
import { formatProfile, summarizeProfile } from './profile';
import { renderReport, type Report } from './report';

function parseArgs(argv: string[]) {
  const has = (flag: string) => argv.includes(flag);
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i === -1 ? undefined : argv[i + 1];
  };
  const quick = has('--quick');
  return {
    quick,
    profile: has('--profile'),
    profileMix: (value('--profile-mix') ?? 'status') as 'status' | 'submit' | 'log',
    useNginx: !has('--no-nginx'),
    rounds: Number(value('--rounds') ?? (quick ? 1 : 2)),
    out: value('--out') ?? (quick ? undefined : join(__dirname, '..', '..', 'bench', 'RESULTS.md')),
  };
}

function machine(): string {
  const model = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?';
  const bin = nginxBinary();
  const nginx = bin ? spawnSync(bin, ['-v']).stderr.toString().trim().replace('nginx version: ', '') : 'nginx not on PATH';
  return `${availableParallelism()} cores (nproc), ${model}, node ${process.version}, ${nginx}`;
}

/** CPU affinity (Linux taskset): the profiled gateway gets a core of its own, so that the profiler's
 * wall-clock samples are its CPU time and not time it spent preempted by the simulator or the load. */
function pin(pid: number, cpu: number): boolean {
  return availableParallelism() > 1 && spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' }).status === 0;
}

async function profile(ctx: Ctx, mixName: 'status' | 'submit' | 'log'): Promise<void> {
  const pinned = pin(process.pid, 0); // children inherit core 0; the gateway moves to core 1 below
  const sim = await startSimulator('sim-profile', mixName === 'log' ? 1024 * 1024 : undefined);
  const res = await fetch(`${sim.url}${ENTRANCE}/submit`, { method: 'POST', headers: { ...cookieAuth(), 'content-type': 'application/json' }, body: submitBody() });
  const execId = ((await res.json()) as { data: { execID: string } }).data.execID;
  const mix = mixName === 'status' ? statusMix(execId) : mixName === 'log' ? logMix(execId) : submitMix();
  const profDir = join(ctx.dir, 'cpuprofile');
  const gw = await startGateway(
    { name: 'gateway-profile', instances: [{ name: sim.instance, url: sim.url }], nodeFlags: ['--cpu-prof', '--cpu-prof-dir', profDir] },
    join(ctx.dir, 'gateway-profile'),
  );
  if (pinned) pin(gw.pid!, 1);
  const cell = await runCell(gw, mix, { connections: 32, warmupSec: 1, durationSec: 8 });
  await gw.stop(); // SIGTERM: the gateway exits normally and V8 writes the profile
  await sim.stop();
  const file = join(profDir, readdirSync(profDir).find((n) => n.endsWith('.cpuprofile'))!);
  const text =
    `# Gateway CPU profile: ${mixName} mix\n\n${Math.round(cell.rps)} req/s, ${Math.round(cell.cpuUs!)} µs CPU per request under the profiler ` +
    `(which adds overhead; the profile also covers start-up, warm-up and shutdown)${pinned ? '; the gateway had core 1 to itself, everything else shared core 0' : ''}. ` +
    `Profile: ${file}\n\n${formatProfile(summarizeProfile(file))}`;
  writeFileSync(join(ctx.dir, 'profile.md'), text);
  process.stdout.write(`${text}\nwritten to ${join(ctx.dir, 'profile.md')}\n`);
}

async function main(): Promise<void> {
  installCleanupHooks();
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'linkis-gateway-bench-'));
  setLogDir(dir);
  const ctx: Ctx = {
    dir,
    quick: args.quick,
    rounds: args.rounds,
    timing: args.quick ? { connections: 32, warmupSec: 0.3, durationSec: 1 } : { connections: 32, warmupSec: 1, durationSec: 5 },
    useNginx: args.useNginx,
    log: (msg) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${msg}\n`),
  };
  ctx.log(`bench: ${args.quick ? 'quick' : 'full'} run, work files and logs in ${dir}`);
  if (args.profile) return profile(ctx, args.profileMix);

  const report: Report = {
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    date: new Date().toISOString(),
    machine: machine(),
    settings: `${ctx.timing.connections} connections, ${ctx.timing.warmupSec} s warm-up + ${ctx.timing.durationSec} s measured per cell, ${ctx.rounds} round(s), autocannon in its own process`,
    elapsedSec: 0,
  };
  const cpuAtStart = cpuAccounting();
  ctx.log('throughput: status polls, latency check, submissions, log reads');
  report.throughput = await throughputPhase(ctx);
  ctx.log('memory');
  report.memory = await memoryPhase(ctx);
  ctx.log('scale of configuration');
  report.scale = await scalePhase(ctx);
  report.elapsedSec = (Date.now() - started) / 1000;
  // Every child has exited and been reaped by now, so `ours` covers them all.
  const cpuAtEnd = cpuAccounting();
  const others = cpuAtEnd.machine - cpuAtStart.machine - (cpuAtEnd.ours - cpuAtStart.ours);
  report.machine += `; other processes used ${Math.max(0, (100 * others) / (report.elapsedSec * availableParallelism())).toFixed(0)}% of the machine's CPU during the run`;

  const text = renderReport(report);
  process.stdout.write(`\n${text}\n`);
  writeFileSync(join(dir, 'results.json'), JSON.stringify(report, null, 2));
  if (args.out) {
    writeFileSync(args.out, `${text}\n`);
    ctx.log(`written to ${args.out}`);
  }
}

main()
  .then(() => {
    killAllChildren();
    process.exit(0);
  })
  .catch((err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? err}\n`);
    killAllChildren();
    process.exit(1);
  });
