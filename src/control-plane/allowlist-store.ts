// Holds the allowlist in force and replaces it from proxy.properties on demand.
// Reloads are all-or-nothing: a file with any problem is refused as a whole and
// the last good allowlist stays, because a half-applied file could lock out or
// let in the wrong people. Unlike Linkis, a successful reload *replaces* the
// rules, so a removed token stops working at once.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'winston';
import { buildAllowlist, buildAllowlistInSlices, type Allowlist } from './allowlist';
import { parseProperties, type PropertyProblem } from '../linkis/properties';

export interface ReloadResult {
  ok: boolean;
  /** Tokens in the allowlist in force after this reload (the old one if it failed). */
  tokens: number;
  problems: PropertyProblem[];
  error?: string;
  durationMs: number;
}

export type LoadResult =
  | { ok: true; allowlist: Allowlist; problems: PropertyProblem[] }
  | { ok: false; problems: PropertyProblem[]; error: string };

export interface AllowlistStore {
  current(): Allowlist;
  reload(reason: 'start' | 'file-change' | 'admin-write' | string): ReloadResult;
  /** The same, with the build in slices so traffic keeps flowing; for file changes under load. */
  reloadInSlices(reason: string): Promise<ReloadResult>;
  close(): void;
}

export interface AllowlistStoreOptions {
  file: string;
  logger: Logger;
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
export function loadAllowlistFile(file: string): LoadResult {
  const read = readAllowlistText(file);
  if (!read.ok) return read;
  const parsed = parseProperties(read.text);
  return checked(parsed.problems, buildAllowlist(parsed.entries));
}

/** loadAllowlistFile with the build in slices (see buildAllowlistInSlices); for reloads under traffic. */
export async function loadAllowlistFileInSlices(file: string): Promise<LoadResult> {
  const read = readAllowlistText(file);
  if (!read.ok) return read;
  const parsed = parseProperties(read.text);
  return checked(parsed.problems, await buildAllowlistInSlices(parsed.entries));
}

function readAllowlistText(file: string): { ok: true; text: string } | { ok: false; problems: PropertyProblem[]; error: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    return { ok: false, problems: [], error: describeReadError(err) };
  }
  try {
    // fatal: a stray Latin-1 byte would otherwise become U+FFFD inside a token or name.
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { ok: false, problems: [], error: 'file is not valid UTF-8' };
  }
}

function checked(parseProblems: PropertyProblem[], built: { allowlist: Allowlist; problems: PropertyProblem[] }): LoadResult {
  const problems = [...parseProblems, ...built.problems].sort((a, b) => a.line - b.line);
  if (problems.length > 0) {
    const n = problems.length;
    return { ok: false, problems, error: `${n} problem${n === 1 ? '' : 's'} in file` };
  }
  return { ok: true, allowlist: built.allowlist, problems: [] };
}

/** Until the first successful reload nothing is allowed (fail closed). */
const EMPTY: Allowlist = buildAllowlist([]).allowlist;

export function createAllowlistStore(opts: AllowlistStoreOptions): AllowlistStore {
  const { file, logger, onReload } = opts;
  let active: Allowlist = EMPTY;
  let closed = false;

  function report(reason: string, result: ReloadResult): void {
    logger.log({
      level: result.ok ? 'info' : 'warn',
      message: result.ok ? 'allowlist reloaded' : 'allowlist reload refused; previous rules stay in force',
      event: 'allowlist.reload',
      reason,
      file,
      ok: result.ok,
      tokens: result.tokens,
      problemCount: result.problems.length,
      problems: result.problems.slice(0, MAX_LOGGED_PROBLEMS),
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
    const result: ReloadResult = {
      ok: loaded.ok,
      tokens: active.size,
      problems: loaded.problems,
      ...(loaded.ok ? {} : { error: loaded.error }),
      durationMs: performance.now() - started,
    };
    report(reason, result);
    return result;
  };
  const closedResult = (): ReloadResult => ({ ok: false, tokens: active.size, problems: [], error: 'store is closed', durationMs: 0 });

  return {
    current: () => active,
    reload(reason) {
      if (closed) return closedResult();
      generation++;
      const started = performance.now();
      return apply(reason, loadAllowlistFile(file), started);
    },
    async reloadInSlices(reason) {
      if (closed) return closedResult();
      const mine = ++generation;
      const started = performance.now();
      const loaded = await loadAllowlistFileInSlices(file);
      if (closed) return closedResult();
      if (mine !== generation) {
        return { ok: false, tokens: active.size, problems: [], error: 'superseded by a newer reload', durationMs: performance.now() - started };
      }
      return apply(reason, loaded, started);
    },
    close() {
      // Nothing to release (no watcher here: the caller wires watchFile to
      // reload), but later reloads are refused so a stale store cannot revive.
      closed = true;
    },
  };
}
