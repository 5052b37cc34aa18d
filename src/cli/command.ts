/**
 * What a `linkis-gateway` subcommand is, apart from the dispatcher (src/cli/main.ts), so command modules can
 * be imported (and tested) without running the CLI.
 */

export interface CliContext {
  /** Positional words after the command's own name. */
  args: string[];
  /** An option's value (`--name value` or `--name=value`), or undefined. */
  opt(name: string): string | undefined;
  /** Whether a flag (`--json`) was given. */
  flag(name: string): boolean;
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
}

export interface Command {
  usage: string;
  summary: string;
  /**
   * Accepted `--options`; anything else is a usage error. Each must also be in VALUE_OPTIONS (takes a
   * value) or NO_VALUE_OPTIONS (a flag): the parser meets options before it knows the command.
   */
  options: string[];
  /** Exit code: 0 done, 1 refused (conflict, validation, unauthorized, unreachable), 2 usage. */
  run(ctx: CliContext): Promise<number>;
}

/** Options that take no value, for every command. */
export const NO_VALUE_OPTIONS: ReadonlySet<string> = new Set(['json', 'help']);
/** Options that take a value (`--name value` or `--name=value`), for every command. */
export const VALUE_OPTIONS: ReadonlySet<string> = new Set(['conf', 'admin-url', 'admin-token', 'as', 'if-match', 'label']);

/**
 * For the parser (src/cli/main.ts): whether `--name` takes no value. An option no command knows is a usage
 * error right here: taken for a value option, `tokens list --bogus` said "--bogus needs a value", and
 * `--bogus x` swallowed the next word.
 */
export const FLAGS = {
  has(name: string): boolean {
    if (NO_VALUE_OPTIONS.has(name)) return true;
    if (VALUE_OPTIONS.has(name)) return false;
    throw new UsageError(`unknown option --${name}`);
  },
};

/** Wrong command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}
