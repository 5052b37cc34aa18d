#!/usr/bin/env node
/**
 * `linkis-gateway`: the command line. COMMANDS maps a command's words to its implementation, so adding a
 * subcommand (e.g. `check-config`) is one entry here. Exit codes: 0 done, 1 refused, 2 usage.
 */
import { TOKEN_COMMANDS } from './tokens-command';
import { CHECK_CONFIG_COMMAND } from './check-config-command';
import { ENTRANCE_COMMANDS } from './entrances-command';
import { ApiRefusal } from '../admin/tokens-backends';
import { FLAGS, UsageError, type CliContext, type Command } from './command';
import { ConfigError } from '../control-plane/config';
import { GatewayError } from '../linkis/errors';

export const COMMANDS: Record<string, Command> = {
  ...TOKEN_COMMANDS,
  ...ENTRANCE_COMMANDS,
  'check-config': CHECK_CONFIG_COMMAND,
};

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

function help(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  const lines = Object.values(COMMANDS).map((c) => `  linkis-gateway ${c.usage.padEnd(width)}  ${c.summary}`);
  return [
    'usage:',
    ...lines,
    '',
    'tokens options:',
    '  --admin-url URL      a running gateway\'s admin listener (or LINKIS_GATEWAY_ADMIN_URL), with',
    '  --admin-token TOKEN  an admin token from admin.properties (or LINKIS_GATEWAY_ADMIN_TOKEN)',
    '  --conf DIR           otherwise: edit DIR/proxy.properties directly (or LINKIS_GATEWAY_CONF; default conf)',
    '  --as NAME            the admin name for the audit in --conf mode (default: your OS user)',
    '  --if-match ETAG      refuse the change unless the file still has this version (default: the version just read)',
    '  --json               machine-readable output',
    '',
    'entrances options: --admin-url and --admin-token as above (always a running gateway), --json',
  ].join('\n');
}

/** The longest command name the positional words start with (`tokens add-users` before `tokens`). */
function findCommand(words: string[]): { command: Command; rest: string[] } | null {
  for (let n = Math.min(words.length, 3); n > 0; n--) {
    const command = COMMANDS[words.slice(0, n).join(' ')];
    if (command) return { command, rest: words.slice(n) };
  }
  return null;
}

function parseArgv(argv: string[]): { words: string[]; opts: Map<string, string> } {
  const words: string[] = [];
  const opts = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      words.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq === -1 ? undefined : eq);
    if (FLAGS.has(name)) {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      opts.set(name, 'true');
    } else if (eq !== -1) opts.set(name, a.slice(eq + 1));
    else if (i + 1 < argv.length) opts.set(name, argv[++i]!);
    else throw new UsageError(`--${name} needs a value`);
  }
  return { words, opts };
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: CliIO): Promise<number> {
  let usage = '';
  try {
    const { words, opts } = parseArgv(argv);
    const found = findCommand(words);
    if (!found) {
      if (opts.has('help') || words[0] === 'help') return io.out(help()), 0;
      throw new UsageError(words.length ? `unknown command "${words.join(' ')}"` : 'no command given');
    }
    usage = found.command.usage;
    if (opts.has('help')) return io.out(`usage: linkis-gateway ${usage}\n\n${found.command.summary}`), 0;
    for (const name of opts.keys()) if (!found.command.options.includes(name)) throw new UsageError(`unknown option --${name}`);
    const ctx: CliContext = { args: found.rest, opt: (n) => opts.get(n), flag: (n) => opts.has(n), env, out: io.out, err: io.err };
    return await found.command.run(ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`linkis-gateway: ${err.message}\n${usage ? `usage: linkis-gateway ${usage}` : help()}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      io.err(`linkis-gateway: configuration error\n${err.message}`);
      return 2;
    }
    if (err instanceof GatewayError || err instanceof ApiRefusal) {
      const code = err instanceof GatewayError ? err.code : err.code;
      const data = err instanceof ApiRefusal ? err.data : ((err as { data?: Record<string, unknown> }).data ?? {});
      const etag = code === 'ADMIN_CONFLICT' && typeof data.etag === 'string' ? ` (current version: ${data.etag})` : '';
      io.err(`linkis-gateway: refused: ${err.message}${etag}${code ? ` [${code}]` : ''}`);
      return 1;
    }
    io.err(`linkis-gateway: failed: ${(err as Error)?.stack ?? String(err)}`);
    return 1;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2), process.env, {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
  }).then((code) => {
    process.exitCode = code;
  });
}
