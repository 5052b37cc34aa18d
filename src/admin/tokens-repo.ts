/**
 * proxy.properties as the source of truth, with optimistic concurrency. The version (ETag) is the SHA-256
 * of the file's bytes, so any change made any way (the admin API, the CLI, `vi`, a ConfigMap) is a new
 * version. A write names the version it was based on; the file is re-read and re-checked *inside* the
 * locks, right before writing, which is what catches an edit made between the admin's read and write.
 * Writes are atomic: a temp file in the same directory, fsync, rename over the file, fsync the directory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chown, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AdminError } from './admin-error';
import { acquireFileLock, type LockOptions } from './lock-file';

export interface Snapshot {
  text: string;
  etag: string;
}

export interface Updated<T> {
  result: T;
  etagBefore: string;
  etagAfter: string;
}

export interface TokensRepoOptions {
  file: string;
  /** Called after each write, with the new ETag (the gateway reloads its allowlist here). */
  onWritten?: (etag: string) => void;
  lock?: LockOptions;
}

export interface TokensRepo {
  readonly file: string;
  read(): Promise<Snapshot>;
  /**
   * Applies `edit` to the file's text if the file still has the ETag `ifMatch`; otherwise ADMIN_CONFLICT
   * with the current ETag in `data.etag`. An edit that changes nothing writes nothing.
   */
  update<T extends { text: string; changed: boolean }>(ifMatch: string, edit: (text: string) => T): Promise<Updated<T>>;
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

async function atomicWrite(target: string, data: Buffer, mode: number, uid?: number, gid?: number): Promise<void> {
  const dir = dirname(target);
  // Starts with a single dot: the file watcher ignores it (it looks at the file's name and `..` entries).
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.chmod(mode); // the umask may have narrowed the mode given to open
    if (uid !== undefined && gid !== undefined) await chown(tmp, uid, gid).catch(() => undefined); // only root may; keeps ownership when it can
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  // The rename is durable only once the directory entry is; some filesystems refuse fsync on a directory.
  const d = await open(dir, 'r');
  await d.sync().catch(() => undefined);
  await d.close();
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
    update(ifMatch, edit) {
      return exclusive(async () => {
        if (closed) throw new AdminError('ADMIN_FILE_BUSY', 'the admin service is shutting down');
        const lock = await acquireFileLock(lockPath, opts.lock);
        let out: Updated<ReturnType<typeof edit>>;
        try {
          const cur = await readCurrent(file);
          const etagBefore = etagOf(cur.bytes);
          if (etagBefore !== ifMatch) throw new AdminError('ADMIN_CONFLICT', undefined, { etag: etagBefore });
          const result = edit(cur.text);
          if (!result.changed) return { result, etagBefore, etagAfter: etagBefore };
          const bytes = Buffer.from(result.text, 'utf8');
          // A symlinked file (e.g. into a shared config checkout) is replaced where it really lives.
          const target = await realpath(file).catch(() => file);
          try {
            await atomicWrite(target, bytes, cur.mode, cur.uid, cur.gid);
          } catch (err) {
            throw new AdminError('ADMIN_WRITE_FAILED', `${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
          }
          written = etagOf(bytes);
          out = { result, etagBefore, etagAfter: written };
        } finally {
          await lock.release();
        }
        opts.onWritten?.(out.etagAfter);
        return out;
      });
    },
    lastWrittenEtag: () => written,
    async close() {
      closed = true;
      await chain;
    },
  };
}
