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
  /** Accepted `--options`; anything else is a usage error. Flags (no value) are listed in FLAGS. */
  options: string[];
  /** Exit code: 0 done, 1 refused (conflict, validation, unauthorized, unreachable), 2 usage. */
  run(ctx: CliContext): Promise<number>;
}

/** Options that take no value. */
export const FLAGS = new Set(['json', 'help']);

/** Wrong command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}
