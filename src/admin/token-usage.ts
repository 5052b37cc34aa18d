/**
 * When each token was last used. The data plane reports every request it lets through (note: one Map.set,
 * no I/O, no allocation beyond the first use of a token). At most every few seconds, and only after new
 * uses, the process merges what it saw into a small JSON file (fingerprint → ISO time), newest wins.
 *
 * A file rather than the cluster primary: the primary only supervises and knows no tokens; the file is
 * shared alike by node:cluster workers, by replicas on one conf directory and by the CLI (`tokens list
 * --conf`), and last use survives a restart (after a deploy every token would otherwise read "never").
 * Workers writing at the same moment may drop each other's merge (read, merge, rename): each writer reads
 * the file again on its next tick and writes once more until the file holds what it saw, so no use is lost
 * for longer than a tick or two. A file that cannot be written (read-only conf) leaves each process with
 * what it saw itself, with one warning.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'winston';

export interface TokenUsage {
  readonly file: string;
  /** The data plane's hook, per allowed request: keep it O(1). */
  note(fingerprint: string): void;
  /** Last use per fingerprint (ms since the epoch): this process's and the shared file's, newest wins. */
  lastUsed(): Promise<Map<string, number>>;
  /** Writes what is new now (tests, shutdown); the timer does it otherwise. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface TokenUsageOptions {
  file: string;
  logger?: Logger;
  /** How often at most the file is written; default 5 s. */
  flushMs?: number;
  /**
   * The tokens in force, so the file forgets deleted ones. Listed only when the file holds more entries
   * than there are tokens: listing 60,000 fingerprints costs the data plane's thread some 30 ms.
   */
  known?: () => { size: number; fingerprints(): ReadonlySet<string> };
  /** The CLI only reads the file. */
  readOnly?: boolean;
}

export const USAGE_FLUSH_MS = 5000;

/**
 * `token-usage.json` beside the audit file: what the admin side writes lives together, where the operator
 * made it writable (gateway.admin.audit.file may point out of a read-only conf directory).
 */
export function usageFileBeside(auditFile: string): string {
  return join(dirname(auditFile), 'token-usage.json');
}

/** The shared file: unreadable or garbled reads as empty (it is only a convenience). */
export async function readUsageFile(file: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    for (const [fp, iso] of Object.entries(data ?? {})) {
      const t = typeof iso === 'string' ? Date.parse(iso) : NaN;
      if (/^sha256:[0-9a-f]{12}$/.test(fp) && Number.isFinite(t)) out.set(fp, t);
    }
  } catch {
    // missing (nothing used yet), half-written by hand, or unreadable
  }
  return out;
}

export function createTokenUsage(opts: TokenUsageOptions): TokenUsage {
  const { file, logger } = opts;
  const seen = new Map<string, number>();
  let dirty = false;
  /** A write of ours may have crossed another process's: read back on the next tick. */
  let unverified = false;
  let warned = false;
  let chain: Promise<unknown> = Promise.resolve();

  async function write(): Promise<void> {
    if (opts.readOnly || (!dirty && !unverified)) return;
    dirty = false;
    const merged = await readUsageFile(file);
    let behind = false;
    for (const [fp, t] of seen) if ((merged.get(fp) ?? 0) < t) (merged.set(fp, t), (behind = true));
    const known = opts.known?.();
    if (known && merged.size > known.size) {
      const live = known.fingerprints();
      for (const fp of merged.keys()) if (!live.has(fp)) (merged.delete(fp), (behind = true));
    }
    unverified = behind;
    if (!behind) return;
    const out: Record<string, string> = {};
    for (const [fp, t] of merged) out[fp] = new Date(t).toISOString();
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(out), { mode: 0o600 });
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      unverified = false;
      if (!warned) logger?.warn('cannot write the token usage file; last use is kept per process only', { event: 'admin.usage.error', file, error: (err as NodeJS.ErrnoException).code ?? String(err) });
      warned = true;
    }
  }
  const flush = () => (chain = chain.then(write, write));
  const timer = opts.readOnly ? null : setInterval(() => void flush(), opts.flushMs ?? USAGE_FLUSH_MS);
  timer?.unref();

  return {
    file,
    note(fingerprint) {
      seen.set(fingerprint, Date.now());
      dirty = true;
    },
    async lastUsed() {
      const merged = await readUsageFile(file);
      for (const [fp, t] of seen) if ((merged.get(fp) ?? 0) < t) merged.set(fp, t);
      return merged;
    },
    flush: async () => void (await flush()),
    async close() {
      if (timer) clearInterval(timer);
      await flush();
    },
  };
}
