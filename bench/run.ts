/**
 * `npm run bench [-- --quick | --profile [--profile-mix status|submit|log]] [--rounds N] [--no-nginx]
 *                   [--ladder name=distDir,name2=distDir2] [--out FILE]`
 *
 * Measures the gateway against direct calls, two bare Node pipes (http.request and undici) and nginx (when
 * on PATH), in one run, alternating contestants round by round; the route kinds of a whole Linkis (taskID
 * follow-ups, publicservice); then its memory under big and slow log reads and the cost of a large
 * configuration. Prints a markdown report; a full run also writes it to bench/RESULTS.md.
 * `--ladder` adds gateways started from other builds (each a compiled dist/ of this repo) to the status,
 * submit and log rounds, for a lever-by-lever record in one run.
 * `--profile` instead runs one mix (status polls by default) against a gateway under `node --cpu-prof`
 * (the first --ladder build, if given) and summarises where its CPU goes.
 * Every process runs on 127.0.0.1 and is killed (by process group) on exit.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { nginxBinary } from './contestants';
import { type LadderEntry, type Ctx } from './phase-common';
import { linkisPhase } from './phase-linkis';
import { memoryPhase } from './phase-memory';
import { scalePhase } from './phase-scale';
import { throughputPhase } from './phase-throughput';
import { cpuAccounting } from './proc-stats';
import { installCleanupHooks, killAllChildren, setLogDir } from './procs';
import { profile } from './profile-run';
import { renderReport, type Report } from './report';

function parseLadder(spec: string | undefined): LadderEntry[] {
  if (!spec) return [];
  return spec.split(',').map((part) => {
    const eq = part.indexOf('=');
    if (eq < 1) throw new Error(`--ladder: expected name=distDir, got "${part}"`);
    const dist = resolve(part.slice(eq + 1));
    if (!existsSync(join(dist, 'src/main.js'))) throw new Error(`--ladder ${part}: no src/main.js in ${dist} (build that checkout with npx tsc -p .)`);
    return { name: part.slice(0, eq), dist };
  });
}

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
    // Medians over five rounds (issue 14); a quick run checks that everything works, once.
    rounds: Number(value('--rounds') ?? (quick ? 1 : 5)),
    ladder: parseLadder(value('--ladder')),
    out: value('--out') ?? (quick ? undefined : join(__dirname, '..', '..', 'bench', 'RESULTS.md')),
  };
}

function machine(): string {
  const model = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?';
  const bin = nginxBinary();
  const nginx = bin ? spawnSync(bin, ['-v']).stderr.toString().trim().replace('nginx version: ', '') : 'nginx not on PATH';
  return `${availableParallelism()} cores (nproc), ${model}, node ${process.version}, ${nginx}`;
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
    // 0.5 + 3 s cells (not 1 + 5): five rounds of every contestant must fit in ~15 minutes on two cores.
    timing: args.quick ? { connections: 32, warmupSec: 0.3, durationSec: 1 } : { connections: 32, warmupSec: 0.5, durationSec: 3 },
    useNginx: args.useNginx,
    ladder: args.ladder,
    log: (msg) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${msg}\n`),
  };
  ctx.log(`bench: ${args.quick ? 'quick' : 'full'} run, work files and logs in ${dir}`);
  if (args.profile) return profile(ctx, args.profileMix);

  const report: Report = {
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    date: new Date().toISOString(),
    machine: machine(),
    settings: `${ctx.timing.connections} connections, ${ctx.timing.warmupSec} s warm-up + ${ctx.timing.durationSec} s measured per cell, ${ctx.rounds} round(s), autocannon in its own process`,
    rounds: ctx.rounds,
    timing: ctx.timing,
    ladder: ctx.ladder,
    elapsedSec: 0,
  };
  const cpuAtStart = cpuAccounting();
  ctx.log('throughput: status polls (all auth kinds, workers=2), latency check, submissions, 1 MB log answers');
  report.throughput = await throughputPhase(ctx);
  ctx.log('whole Linkis: follow-ups by execID and taskID, publicservice calls');
  report.linkis = await linkisPhase(ctx);
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
