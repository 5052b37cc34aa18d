/**
 * Rewrites an append-only file of lines (one record per line, appended with O_APPEND by any number of
 * processes that take no lock) keeping only the lines `keep` accepts. Appenders are never blocked:
 * 1. the file is read through a descriptor that stays open, up to its last complete line;
 * 2. the kept lines go to a temp file beside it (same mode), which is renamed over the file;
 * 3. after a short settle, whatever reached the old file after step 1 (from a writer that opened it before
 *    the rename) is read through the descriptor and appended to the new file.
 * Compactors exclude each other with an O_EXCL lock file (`<file>.compact`); one that finds it held skips
 * (a lock older than 10 s was left by a dead compactor and is removed, for the next attempt).
 * What remains: a writer that opened the old file before the rename and writes only after step 3 (stalled
 * for the whole settle between its open and its write) writes to a file no longer in use.
 * Hand-written: no maintained package compacts a file that other processes append to without a lock.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const STALE_LOCK_MS = 10_000;
const NEWLINE = 0x0a;

export interface CompactionResult {
  /** False when another compactor held the lock, or there was no file. */
  compacted: boolean;
  linesBefore: number;
  linesAfter: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function compactLineFile(file: string, keep: (line: string) => boolean, opts: { settleMs?: number } = {}): Promise<CompactionResult> {
  const skipped: CompactionResult = { compacted: false, linesBefore: 0, linesAfter: 0 };
  const lock = `${file}.compact`;
  if (!(await takeLock(lock))) return skipped;
  let fh: FileHandle | undefined;
  try {
    fh = await open(file, 'r').catch(() => undefined);
    if (!fh) return skipped;
    const { mode } = await fh.stat();
    const bytes = await fh.readFile();
    const consumed = bytes.lastIndexOf(NEWLINE) + 1;
    const lines = bytes.subarray(0, consumed).toString('utf8').split('\n').filter(Boolean);
    const kept = lines.filter(keep);
    const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
    await writeNew(tmp, kept.length ? `${kept.join('\n')}\n` : '', mode & 0o777);
    await rename(tmp, file);
    await sleep(opts.settleMs ?? 100);
    const late = (await readFrom(fh, consumed)).toString('utf8');
    if (late) await appendFile(file, late.endsWith('\n') ? late : `${late}\n`);
    return { compacted: true, linesBefore: lines.length, linesAfter: kept.length };
  } finally {
    await fh?.close();
    await unlink(lock).catch(() => undefined);
  }
}

async function writeNew(tmp: string, text: string, mode: number): Promise<void> {
  const out = await open(tmp, 'wx', mode);
  try {
    await out.writeFile(text);
    await out.sync();
  } finally {
    await out.close();
  }
}

async function readFrom(fh: FileHandle, position: number): Promise<Buffer> {
  const { size } = await fh.stat();
  if (size <= position) return Buffer.alloc(0);
  const buf = Buffer.alloc(size - position);
  const { bytesRead } = await fh.read(buf, 0, buf.length, position);
  return buf.subarray(0, bytesRead);
}

async function takeLock(lock: string): Promise<boolean> {
  try {
    await (await open(lock, 'wx')).close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
    const held = await stat(lock).catch(() => undefined);
    if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) await unlink(lock).catch(() => undefined);
    return false;
  }
}
