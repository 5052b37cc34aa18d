/**
 * Runs the simulator from the command line (docker-compose, the demo, benchmarks). Two modes:
 *
 *   one Entrance:   node dist/src/simulator/main.js --port 9104 --instance entrance-1:9104 --format 1.x --crypt-key K
 *   a whole Linkis: node dist/src/simulator/main.js --linkis --host 0.0.0.0 --instance-host linkis
 *                   (Entrances on 9104 and 9106, publicservice on 9105, one shared job history)
 *
 * Environment fallbacks: SIM_HOST, SIM_PORT, SIM_INSTANCE, SIM_FORMAT, LINKIS_CRYPT_KEY. One Entrance prints
 * its URL alone on stdout (scripts read it); a whole Linkis prints the two gateway.properties lines that
 * point a gateway at it. Details go to stderr; both close on SIGTERM and SIGINT.
 */
import { createEntranceSimulator, type SimulatorOptions } from './entrance';
import { startSimulatedLinkis, type SimulatedLinkisOptions } from './linkis';

const USAGE = `usage: simulator [--host H] [--port P] [--instance host:port] [--format 1.x|0.x] [--crypt-key K]
                 [--ticket-cookie NAME] [--polls-per-state N] [--log-lines N] [--huge-log-bytes N]
                 [--no-inner-request-cookie]
       simulator --linkis [--host H] [--instance-host NAME] [--entrance-ports 9104,9106] [--publicservice-port 9105]
                 [--crypt-key K] [--ticket-cookie NAME] [--polls-per-state N] [--log-lines N] [--result-rows N]
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

const ENTRANCE_FLAGS = ['host', 'port', 'instance', 'format', 'crypt-key', 'ticket-cookie', 'polls-per-state', 'log-lines', 'huge-log-bytes'];
const LINKIS_FLAGS = ['host', 'instance-host', 'entrance-ports', 'publicservice-port', 'crypt-key', 'ticket-cookie', 'polls-per-state', 'log-lines', 'result-rows'];

function readFlags(argv: string[]): { flags: Map<string, string>; noInner: boolean; linkis: boolean } {
  const flags = new Map<string, string>();
  let noInner = false;
  let linkis = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (arg === '--no-inner-request-cookie' || arg === '--linkis') {
      if (arg === '--linkis') linkis = true;
      else noInner = true;
      continue;
    }
    if (!arg.startsWith('--')) fail(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (i + 1 < argv.length) flags.set(arg.slice(2), argv[++i]);
    else fail(`${arg} needs a value`);
  }
  const known = linkis ? LINKIS_FLAGS : ENTRANCE_FLAGS;
  for (const k of flags.keys()) if (!known.includes(k)) fail(`unknown option --${k}${linkis ? ' (with --linkis)' : ''}`);
  return { flags, noInner, linkis };
}

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv): SimulatorOptions {
  const { flags, noInner } = readFlags(argv);
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

/** `--linkis`: Entrances on 9104 and 9106 and the publicservice on 9105 unless told otherwise (0: any free port). */
export function parseLinkisArgs(argv: string[], env: NodeJS.ProcessEnv): SimulatedLinkisOptions {
  const { flags, noInner } = readFlags(argv);
  const host = flags.get('host') ?? env.SIM_HOST ?? '127.0.0.1';
  // The name each service registers under (and the Entrances write into execIDs): how the gateway reaches them.
  const named = flags.get('instance-host');
  const ports = (flags.get('entrance-ports') ?? '9104,9106').split(',').map((p) => int('--entrance-ports', p.trim()));
  if (ports.length === 0 || ports.some((p) => p === undefined || p > 65535)) fail('--entrance-ports must be a comma-separated list of ports');
  const publicservicePort = int('--publicservice-port', flags.get('publicservice-port')) ?? 9105;
  const logLines = int('--log-lines', flags.get('log-lines'));
  return {
    host,
    cryptKey: flags.get('crypt-key') ?? env.LINKIS_CRYPT_KEY ?? undefined,
    ticketCookie: flags.get('ticket-cookie'),
    pollsPerState: int('--polls-per-state', flags.get('polls-per-state')),
    entrances: ports.map((port) => ({
      port,
      instance: named && port ? `${named}:${port}` : undefined,
      logLines,
      requireInnerRequestCookie: !noInner,
    })),
    publicservice: {
      port: publicservicePort,
      instance: named && publicservicePort ? `${named}:${publicservicePort}` : undefined,
      requireInnerRequestCookie: !noInner,
    },
    history: { resultRows: int('--result-rows', flags.get('result-rows')) },
  };
}

function onSignals(what: string, close: () => Promise<void>): void {
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    process.stderr.write(`${what}: ${signal}, closing\n`);
    void close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (!argv.includes('--linkis')) {
    const sim = await createEntranceSimulator(parseArgs(argv, process.env));
    process.stdout.write(`${sim.url}\n`);
    process.stderr.write(`linkis entrance simulator: instance ${sim.instance}, execID format ${sim.execIdFormat}\n`);
    onSignals('linkis entrance simulator', () => sim.close());
    return;
  }
  const linkis = await startSimulatedLinkis(parseLinkisArgs(argv, process.env));
  const ps = linkis.publicservice;
  process.stdout.write(
    `gateway.entrance.instances=${linkis.entrances.map((e) => `${e.instance}=${e.url}`).join(',')}\n` +
      `gateway.publicservice.instances=${ps.instance}=${ps.url}\n`,
  );
  for (const e of linkis.entrances) process.stderr.write(`linkis simulator: entrance ${e.instance} at ${e.url}, execID format ${e.execIdFormat}\n`);
  process.stderr.write(`linkis simulator: publicservice ${ps.instance} at ${ps.url}\n`);
  onSignals('linkis simulator', () => linkis.close());
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`linkis simulator failed to start: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
