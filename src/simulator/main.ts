/**
 * Runs one Entrance simulator from the command line (docker-compose, the demo, benchmarks):
 *
 *   node dist/src/simulator/main.js --port 9104 --instance entrance-1:9104 --format 1.x --crypt-key K
 *
 * Environment fallbacks: SIM_HOST, SIM_PORT, SIM_INSTANCE, SIM_FORMAT, LINKIS_CRYPT_KEY. Prints the URL
 * alone on stdout (so scripts can read it) and the details on stderr; closes on SIGTERM and SIGINT.
 */
import { createEntranceSimulator, type SimulatorOptions } from './entrance';

const USAGE = `usage: simulator [--host H] [--port P] [--instance host:port] [--format 1.x|0.x] [--crypt-key K]
                 [--ticket-cookie NAME] [--polls-per-state N] [--log-lines N] [--huge-log-bytes N]
                 [--no-inner-request-cookie]`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[0-9]+$/.test(value)) fail(`${name} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv): SimulatorOptions {
  const flags = new Map<string, string>();
  let noInner = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (arg === '--no-inner-request-cookie') {
      noInner = true;
      continue;
    }
    if (!arg.startsWith('--')) fail(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (i + 1 < argv.length) flags.set(arg.slice(2), argv[++i]);
    else fail(`${arg} needs a value`);
  }
  const known = ['host', 'port', 'instance', 'format', 'crypt-key', 'ticket-cookie', 'polls-per-state', 'log-lines', 'huge-log-bytes'];
  for (const k of flags.keys()) if (!known.includes(k)) fail(`unknown option --${k}`);

  const format = flags.get('format') ?? env.SIM_FORMAT ?? '1.x';
  if (format !== '1.x' && format !== '0.x') fail(`--format must be 1.x or 0.x, got "${format}"`);
  return {
    host: flags.get('host') ?? env.SIM_HOST ?? '127.0.0.1',
    // 9104 is the port a Linkis Entrance listens on by default.
    port: int('--port', flags.get('port') ?? env.SIM_PORT) ?? 9104,
    instance: flags.get('instance') ?? env.SIM_INSTANCE ?? undefined,
    execIdFormat: format,
    cryptKey: flags.get('crypt-key') ?? env.LINKIS_CRYPT_KEY ?? undefined,
    ticketCookie: flags.get('ticket-cookie'),
    pollsPerState: int('--polls-per-state', flags.get('polls-per-state')),
    logLines: int('--log-lines', flags.get('log-lines')),
    hugeLogBytes: int('--huge-log-bytes', flags.get('huge-log-bytes')),
    requireInnerRequestCookie: !noInner,
  };
}

async function main(): Promise<void> {
  const sim = await createEntranceSimulator(parseArgs(process.argv.slice(2), process.env));
  process.stdout.write(`${sim.url}\n`);
  process.stderr.write(`linkis entrance simulator: instance ${sim.instance}, execID format ${sim.execIdFormat}\n`);
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    process.stderr.write(`linkis entrance simulator: ${signal}, closing\n`);
    void sim.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`linkis entrance simulator failed to start: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
