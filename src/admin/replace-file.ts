/**
 * Replaces proxy.properties with new bytes only if it still holds the version the change was based on,
 * for every other writer, including those that take no lock (`sed -i`, an editor, `echo >>`).
 *
 * The expensive work (validation, the temp file and its fsync) is done before; then:
 * 1. the file is read and hashed through an open descriptor, stat'ed before and after the read;
 * 2. synchronously, with nothing else running in between, its stat is compared once more and the temp
 *    file renamed over it: the window left for another writer is two system calls;
 * 3. after the rename, the replaced file is read again through the descriptor still open on it: a write
 *    into it (an in-place edit that landed in that window, or by a writer that had it open) shows here.
 *    Its bytes are put back once they are stable, and the change is refused (the hand edit wins);
 * 4. a directory watch, started before step 1, reports any other event on the file's name besides our
 *    own rename: a writer that renamed its file in during step 2 was overwritten. Its bytes are gone; the
 *    caller logs and audits it so a person re-applies it;
 * 5. a writer that read the file before our rename and renames its copy in after it (`sed -i`, an editor's
 *    save) replaces our change. Such a writer needs about as long to copy the file as we needed to read
 *    it; after ten times that (at least 25 ms) the name must still be our file, or hold our change (a
 *    copy read from our version: every line we added there, none we removed), else the change is refused
 *    (409: it is not on disk; the other writer's version is the file).
 *
 * What remains (POSIX has no compare-and-swap on a path): a rename by another writer inside step 2 is
 * detected (when inotify works on the filesystem), not prevented; a writer that keeps the old file open
 * and writes to it after step 3 writes to a file no longer in use; one that read the file before our
 * rename and renames after step 5 (an editor left open for minutes) overwrites a change answered 200.
 */
import { createHash, randomBytes } from 'node:crypto';
import { renameSync, statSync, watch, type BigIntStats } from 'node:fs';
import { chown, link, open, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { changeSurvives } from './line-change';

/** The ETag: SHA-256 of the bytes (the same as tokens-repo's etagOf; not imported, to keep the modules acyclic). */
const etagOf = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

export type ReplaceOutcome =
  | { ok: true; /** Another writer touched the file's name while it was replaced: its change may be lost. */ raced: boolean }
  | {
      ok: false;
      /** The version on disk now (the ETag for the 409). */
      etag: string;
      /** A concurrent in-place edit was put back. */
      restored: boolean;
      /** Another writer's copy, read before our rename, was renamed in after it (step 5). */
      overwritten?: boolean;
    };

export interface FileMeta {
  mode: number;
  uid?: number;
  gid?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const same = (a: BigIntStats, b: BigIntStats) => a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

/** Writes `data` to a new temp file beside `target` (same directory: the rename stays atomic), fsync'ed. */
export async function writeTemp(target: string, data: Buffer, meta: FileMeta): Promise<string> {
  // Starts with a single dot: the file watcher ignores it (it looks at the file's name and `..` entries).
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', meta.mode);
  try {
    await fh.writeFile(data);
    await fh.chmod(meta.mode); // the umask may have narrowed the mode given to open
    if (meta.uid !== undefined && meta.gid !== undefined) await chown(tmp, meta.uid, meta.gid).catch(() => undefined); // only root may
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  return tmp;
}

async function readAll(fh: FileHandle): Promise<Buffer> {
  const { size } = await fh.stat();
  const chunks: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(Math.max(Number(size) - pos, 64 * 1024));
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    chunks.push(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return Buffer.concat(chunks);
}

/** Events on `name` in its directory, from now until stop(). */
function watchName(target: string): { events: () => number; stop: () => void } {
  const name = basename(target);
  let n = 0;
  try {
    const w = watch(dirname(target), { persistent: false }, (_e, f) => (f === null || f.toString() === name ? n++ : undefined));
    w.on('error', () => undefined);
    return { events: () => n, stop: () => w.close() };
  } catch {
    return { events: () => 1, stop: () => undefined }; // no watch here (e.g. some network filesystems): nothing to tell
  }
}

/** `tmp` becomes `target` only if `target` still hashes to `expected` (a missing file hashes as empty). */
/** `written`: the bytes in `tmp` (step 5 looks for their change in a later writer's copy). */
export async function replaceIfUnchanged(target: string, tmp: string, expected: string, meta: FileMeta, written: Buffer): Promise<ReplaceOutcome> {
  const watcher = watchName(target);
  const refuse = async (etag: string, restored = false): Promise<ReplaceOutcome> => {
    watcher.stop();
    await unlink(tmp).catch(() => undefined);
    return { ok: false, etag, restored };
  };
  let fh: FileHandle;
  try {
    fh = await open(target, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (expected !== etagOf(Buffer.alloc(0))) return refuse(etagOf(Buffer.alloc(0)));
    // No file: link() creates the name only if nobody else did meanwhile.
    try {
      await link(tmp, target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return refuse(await currentEtag(target));
      throw e;
    }
    await unlink(tmp);
    await fsyncDir(target);
    watcher.stop();
    return { ok: true, raced: false };
  }
  try {
    const before = await fh.stat({ bigint: true });
    const readStarted = performance.now();
    const bytes = await readAll(fh);
    const readMs = performance.now() - readStarted;
    const checked = await fh.stat({ bigint: true });
    if (etagOf(bytes) !== expected || !same(before, checked)) return await refuse(etagOf(bytes));
    // Step 2: no await between the last look and the rename.
    if (!same(statSync(target, { bigint: true }), checked)) return await refuse(await currentEtag(target));
    renameSync(tmp, target);
    const ours = statSync(target, { bigint: true });
    await fsyncDir(target);
    // Step 3: the file just replaced, as it is now.
    let after = await readAll(fh);
    if (etagOf(after) !== expected) {
      // An in-place edit: wait until its writer is done, then it wins (if the file is still ours).
      for (let i = 0; i < 20; i++) {
        await sleep(50);
        const again = await readAll(fh);
        if (again.equals(after)) break;
        after = again;
      }
      const back = await writeTemp(target, after, meta);
      // Only over our own version: if a third writer replaced it meanwhile, theirs stays (and this edit is lost).
      if (same(statSync(target, { bigint: true }), ours)) renameSync(back, target);
      else await unlink(back);
      await fsyncDir(target);
      watcher.stop();
      return { ok: false, etag: await currentEtag(target), restored: true };
    }
    // Step 4: our rename is one event; wait for it (briefly), then count.
    for (let i = 0; i < 20 && watcher.events() < 1; i++) await sleep(5);
    await new Promise((r) => setImmediate(r));
    const raced = watcher.events() > 1;
    // Step 5: our file still in place (an in-place append to it keeps our change), or a later copy that
    // was read from our version and so still has our change; otherwise the change is gone.
    await sleep(Math.min(1000, Math.max(25, readMs * 10)));
    if (!isFile(target, ours)) {
      const now = await currentBytes(target);
      if (!changeSurvives(bytes, written, now)) return { ok: false, etag: etagOf(now), restored: false, overwritten: true };
    }
    watcher.stop();
    return { ok: true, raced };
  } finally {
    watcher.stop(); // also when a system call failed (the caller answers ADMIN_WRITE_FAILED)
    await fh.close();
  }
}

function isFile(target: string, ours: BigIntStats): boolean {
  try {
    const now = statSync(target, { bigint: true });
    return now.ino === ours.ino && now.dev === ours.dev;
  } catch {
    return false;
  }
}

async function currentEtag(file: string): Promise<string> {
  return etagOf(await currentBytes(file));
}

async function currentBytes(file: string): Promise<Buffer> {
  const fh = await open(file, 'r').catch(() => null);
  if (!fh) return Buffer.alloc(0);
  try {
    return await readAll(fh);
  } finally {
    await fh.close();
  }
}

/** The rename is durable only once the directory entry is; some filesystems refuse fsync on a directory. */
async function fsyncDir(target: string): Promise<void> {
  const d = await open(dirname(target), 'r');
  await d.sync().catch(() => undefined);
  await d.close();
}
