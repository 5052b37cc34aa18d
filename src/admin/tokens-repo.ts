/**
 * proxy.properties as the source of truth, with optimistic concurrency. The version (ETag) is the SHA-256
 * of the file's bytes, so any change made any way (the admin API, the CLI, `vi`, a ConfigMap) is a new
 * version. A write names the version it was based on and is checked twice: at once (a stale If-Match
 * costs nothing), and again right before the rename, after the expensive work (validation, which takes
 * seconds at 60,000 tokens, and the temp file's fsync): an edit made in between, by any writer, locked or
 * not, refuses the write with 409 (replace-file.ts has the steps and what remains).
 * Writes are atomic: a temp file in the same directory, fsync, rename over the file, fsync the directory.
 */
import { createHash } from 'node:crypto';
import { readFile, realpath, stat, unlink } from 'node:fs/promises';
import { AdminError } from './admin-error';
import { acquireFileLock, type LockOptions } from './lock-file';
import { replaceIfUnchanged, writeTemp, type ReplaceOutcome } from './replace-file';

export interface Snapshot {
  text: string;
  etag: string;
}

export interface Updated<T> {
  result: T;
  etagBefore: string;
  etagAfter: string;
  /** Another writer replaced the file during our rename: its change may be lost (audit it for a person). */
  raced?: boolean;
}

export interface TokensRepoOptions {
  file: string;
  /** Called after each write, with the new ETag and text (the gateway reloads its allowlist here); awaited. */
  onWritten?: (etag: string, text: string) => unknown;
  lock?: LockOptions;
}

/**
 * Where the allowlist's text lives, with optimistic concurrency: this file (createTokensRepo) or the shared
 * store in Redis (control-plane/redis-allowlist.ts). The token service, the admin API and the CLI see only this.
 */
export interface TokensRepo {
  /** proxy.properties, or where the shared store is (for messages). */
  readonly file: string;
  /** `missingOk`: an empty shared store reads as empty text instead of a refusal (import, export). */
  read(opts?: { missingOk?: boolean }): Promise<Snapshot>;
  /**
   * Applies `edit` to the file's text if the file still has the ETag `ifMatch`; otherwise ADMIN_CONFLICT
   * with the current ETag in `data.etag`. An edit that changes nothing writes nothing. `edit` may take
   * its time (it runs before the final check, with no lock held). `onReplaced` runs right after the rename,
   * with the lock still held: the audit record is in the file before any other process can ask who wrote it.
   * `initialize`: an empty shared store may be written (import); a missing file always may.
   */
  update<T extends { text: string; changed: boolean }>(ifMatch: string, edit: (text: string) => T | Promise<T>, onReplaced?: (u: Updated<T>) => Promise<void>, opts?: { initialize?: boolean }): Promise<Updated<T>>;
  /** ETag of the last content this repo wrote, to tell its own writes from hand edits. */
  lastWrittenEtag(): string | null;
  close(): Promise<void>;
}

export function etagOf(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `"abc…"`, `W/"abc…"` or bare `abc…` → `abc…`; a weak or `*` match cannot protect an update. */
export function parseEtag(input: string): string | null {
  const m = /^\s*"?([0-9a-f]{64})"?\s*$/i.exec(input);
  return m ? m[1]!.toLowerCase() : null;
}

/** A missing file reads as empty, so the first token can be created in a new conf directory. */
async function readCurrent(file: string): Promise<{ bytes: Buffer; text: string; mode: number; uid?: number; gid?: number }> {
  let bytes: Buffer;
  let st: { mode: number; uid: number; gid: number } | undefined;
  try {
    [bytes, st] = await Promise.all([readFile(file), stat(file)]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new AdminError('ADMIN_WRITE_FAILED', `cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
    bytes = Buffer.alloc(0);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AdminError('ADMIN_VALIDATION', 'proxy.properties is not valid UTF-8; fix it by hand first');
  }
  return { bytes, text, mode: st ? st.mode & 0o7777 : 0o600, uid: st?.uid, gid: st?.gid };
}

export function createTokensRepo(opts: TokensRepoOptions): TokensRepo {
  const { file } = opts;
  const lockPath = `${file}.lock`;
  let chain: Promise<unknown> = Promise.resolve();
  let written: string | null = null;
  let closed = false;

  // In-process mutex: concurrent API requests queue here instead of spinning on the lock file.
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  }

  return {
    file,
    async read() {
      const { bytes, text } = await readCurrent(file);
      return { text, etag: etagOf(bytes) };
    },
    update(ifMatch, edit, onReplaced) {
      return exclusive(async () => {
        if (closed) throw new AdminError('ADMIN_FILE_BUSY', 'the admin service is shutting down');
        const cur = await readCurrent(file);
        const etagBefore = etagOf(cur.bytes);
        if (etagBefore !== ifMatch) throw new AdminError('ADMIN_CONFLICT', undefined, { etag: etagBefore });
        // The expensive part, before the final check and with no lock held: nothing after it is re-validated.
        const result = await edit(cur.text);
        if (!result.changed) return { result, etagBefore, etagAfter: etagBefore };
        const bytes = Buffer.from(result.text, 'utf8');
        // A symlinked file (e.g. into a shared config checkout) is replaced where it really lives.
        const target = await realpath(file).catch(() => file);
        const failed = (err: unknown) => new AdminError('ADMIN_WRITE_FAILED', `${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        const tmp = await writeTemp(target, bytes, cur).catch((err) => Promise.reject(failed(err)));
        let outcome: ReplaceOutcome;
        try {
          // The lock keeps the gateway and the CLI from interleaving; writers without it are caught by the check.
          const lock = await acquireFileLock(lockPath, opts.lock);
          try {
            outcome = await replaceIfUnchanged(target, tmp, etagBefore, cur, bytes).catch((err) => Promise.reject(failed(err)));
            if (outcome.ok) await onReplaced?.({ result, etagBefore, etagAfter: etagOf(bytes), raced: outcome.raced });
          } finally {
            await lock.release();
          }
        } finally {
          await unlink(tmp).catch(() => undefined); // gone already unless the write did not happen
        }
        if (!outcome.ok) throw new AdminError('ADMIN_CONFLICT', conflictMessage(outcome), { etag: outcome.etag });
        written = etagOf(bytes);
        await opts.onWritten?.(written, result.text);
        return { result, etagBefore, etagAfter: written, raced: outcome.raced };
      });
    },
    lastWrittenEtag: () => written,
    async close() {
      closed = true;
      await chain;
    },
  };
}

function conflictMessage(outcome: { restored: boolean; overwritten?: boolean }): string | undefined {
  if (outcome.restored) return 'an edit made while this change was written was kept';
  if (outcome.overwritten) return 'another writer replaced the file just after this change was written: this change is not on disk';
  return undefined;
}
