// Holds the allowlist in force and replaces it from proxy.properties on demand.
// Reloads are all-or-nothing: a file with any problem is refused as a whole and
// the last good allowlist stays, because a half-applied file could lock out or
// let in the wrong people. Unlike Linkis, a successful reload *replaces* the
// rules, so a removed token stops working at once. Weak tokens are warnings
// (they work, and every load reports them) unless the token policy is strict,
// where they are problems like any other.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'winston';
import { buildAllowlist, buildAllowlistInSlices, type Allowlist, type BuildResult } from './allowlist';
import { DEFAULT_TOKEN_POLICY, type TokenPolicy } from './token-policy';
import { parsePropertiesBytes, type PropertyProblem } from '../linkis/properties';

export interface ReloadResult {
  ok: boolean;
  /** Tokens in the allowlist in force after this reload (the old one if it failed). */
  tokens: number;
  problems: PropertyProblem[];
  /** Weak tokens of the file just read (policy `warn`): they work; line and reason, never the token. */
  warnings: PropertyProblem[];
  error?: string;
  durationMs: number;
}

export type LoadResult =
  | { ok: true; allowlist: Allowlist; problems: PropertyProblem[]; warnings: PropertyProblem[] }
  | { ok: false; problems: PropertyProblem[]; warnings: PropertyProblem[]; error: string };

export interface LoadOptions {
  /** `warn` (default): weak tokens work and are reported in `warnings`; `strict`: they are problems. */
  tokenPolicy?: TokenPolicy;
}

export interface AllowlistStore {
  current(): Allowlist;
  reload(reason: 'start' | 'file-change' | 'admin-write' | string): ReloadResult;
  /** The same, with the build in slices so traffic keeps flowing; for file changes under load. */
  reloadInSlices(reason: string): Promise<ReloadResult>;
  /** The same from bytes already read (the shared store in Redis hands over its text); built in slices. */
  applyBytes(reason: string, bytes: Buffer): Promise<ReloadResult>;
  close(): void;
}

export interface AllowlistStoreOptions {
  /** proxy.properties; with the shared store, where its text comes from (for the log only). */
  file: string;
  logger: Logger;
  /** config.tokenPolicy; default `warn`. */
  tokenPolicy?: TokenPolicy;
  onReload?: (r: ReloadResult) => void;
}

/** Problems carried in one log line; the result itself keeps all of them. */
const MAX_LOGGED_PROBLEMS = 20;

function describeReadError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EACCES' || code === 'EPERM') return 'file not readable (permission denied)';
  if (code === 'EISDIR') return 'path is a directory';
  return `cannot read file (${code ?? (err instanceof Error ? err.message : String(err))})`;
}

/** Read, decode, parse and build; never throws. Reusable by a config checker. */
export function loadAllowlistFile(file: string, opts: LoadOptions = {}): LoadResult {
  const read = readAllowlistBytes(file);
  if (!read.ok) return read;
  const parsed = parsePropertiesBytes(read.bytes);
  return checked(parsed.problems, buildAllowlist(parsed.entries, { tokenPolicy: opts.tokenPolicy ?? DEFAULT_TOKEN_POLICY }));
}

/** loadAllowlistFile with the build in slices (see buildAllowlistInSlices); for reloads under traffic. */
export async function loadAllowlistFileInSlices(file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const read = readAllowlistBytes(file);
  if (!read.ok) return read;
  return loadAllowlistBytesInSlices(read.bytes, opts);
}

/** Parse and build bytes from anywhere (the shared store's text), in slices; never throws. */
export async function loadAllowlistBytesInSlices(bytes: Buffer, opts: LoadOptions = {}): Promise<LoadResult> {
  const parsed = parsePropertiesBytes(bytes);
  return checked(parsed.problems, await buildAllowlistInSlices(parsed.entries, { tokenPolicy: opts.tokenPolicy ?? DEFAULT_TOKEN_POLICY }));
}

// Bytes, not text: parsePropertiesBytes names each line that is not valid UTF-8 (a stray Latin-1 byte would
// otherwise become U+FFFD inside a token or name).
function readAllowlistBytes(file: string): { ok: true; bytes: Buffer } | { ok: false; problems: PropertyProblem[]; warnings: PropertyProblem[]; error: string } {
  try {
    return { ok: true, bytes: readFileSync(file) };
  } catch (err) {
    return { ok: false, problems: [], warnings: [], error: describeReadError(err) };
  }
}

function checked(parseProblems: PropertyProblem[], built: BuildResult): LoadResult {
  const problems = [...parseProblems, ...built.problems].sort((a, b) => a.line - b.line);
  const { warnings } = built;
  if (problems.length > 0) {
    const n = problems.length;
    return { ok: false, problems, warnings, error: `${n} problem${n === 1 ? '' : 's'} in file` };
  }
  return { ok: true, allowlist: built.allowlist, problems: [], warnings };
}

/** Until the first successful reload nothing is allowed (fail closed). */
const EMPTY: Allowlist = buildAllowlist([]).allowlist;

export function createAllowlistStore(opts: AllowlistStoreOptions): AllowlistStore {
  const { file, logger, onReload } = opts;
  const loadOptions: LoadOptions = { tokenPolicy: opts.tokenPolicy ?? DEFAULT_TOKEN_POLICY };
  let active: Allowlist = EMPTY;
  // Until a load succeeds there are no previous rules to keep: a refused file leaves nothing allowed.
  let loadedOnce = false;
  let closed = false;

  function report(reason: string, result: ReloadResult): void {
    const weak = result.warnings.length;
    logger.log({
      level: result.ok && weak === 0 ? 'info' : 'warn',
      message: !result.ok
        ? loadedOnce
          ? 'allowlist reload refused; previous rules stay in force'
          : 'allowlist refused; no rules were loaded before it, so nothing is allowed'
        : weak > 0
          ? `allowlist reloaded with ${weak} weak token${weak === 1 ? '' : 's'} (they work; replace them, or gateway.token.policy=strict refuses the file)`
          : 'allowlist reloaded',
      event: 'allowlist.reload',
      reason,
      file,
      ok: result.ok,
      tokens: result.tokens,
      problemCount: result.problems.length,
      problems: result.problems.slice(0, MAX_LOGGED_PROBLEMS),
      warningCount: weak,
      warnings: result.warnings.slice(0, MAX_LOGGED_PROBLEMS),
      ...(result.error !== undefined ? { error: result.error } : {}),
      durationMs: Math.round(result.durationMs * 10) / 10,
    });
    if (!onReload) return;
    try {
      onReload(result);
    } catch (err) {
      // A faulty listener must not turn a good reload into a crash.
      logger.error({
        message: 'allowlist onReload listener failed',
        event: 'allowlist.reload.listener-error',
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  // Every reload takes a number; a sliced reload that finishes after a newer one started must not
  // replace the newer rules with what it read earlier.
  let generation = 0;
  const apply = (reason: string, loaded: LoadResult, started: number): ReloadResult => {
    // The new list is complete before this single assignment, so a request never sees a half-built allowlist.
    if (loaded.ok) active = loaded.allowlist;
    loadedOnce ||= loaded.ok;
    const result: ReloadResult = {
      ok: loaded.ok,
      tokens: active.size,
      problems: loaded.problems,
      warnings: loaded.warnings,
      ...(loaded.ok ? {} : { error: loaded.error }),
      durationMs: performance.now() - started,
    };
    report(reason, result);
    return result;
  };
  const closedResult = (): ReloadResult => ({ ok: false, tokens: active.size, problems: [], warnings: [], error: 'store is closed', durationMs: 0 });

  return {
    current: () => active,
    reload(reason) {
      if (closed) return closedResult();
      generation++;
      const started = performance.now();
      return apply(reason, loadAllowlistFile(file, loadOptions), started);
    },
    reloadInSlices: (reason) => inSlices(reason, () => loadAllowlistFileInSlices(file, loadOptions)),
    applyBytes: (reason, bytes) => inSlices(reason, () => loadAllowlistBytesInSlices(bytes, loadOptions)),
    close() {
      // Nothing to release (no watcher here: the caller wires watchFile to
      // reload), but later reloads are refused so a stale store cannot revive.
      closed = true;
    },
  };

  async function inSlices(reason: string, load: () => Promise<LoadResult>): Promise<ReloadResult> {
    if (closed) return closedResult();
    const mine = ++generation;
    const started = performance.now();
    const loaded = await load();
    if (closed) return closedResult();
    if (mine !== generation) {
      return { ok: false, tokens: active.size, problems: [], warnings: [], error: 'superseded by a newer reload', durationMs: performance.now() - started };
    }
    return apply(reason, loaded, started);
  }
}
