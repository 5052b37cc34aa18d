/**
 * A lock file shared by every writer of proxy.properties: the gateway's admin API and the CLI working on
 * the conf directory directly are different processes, so an in-process mutex alone cannot keep them from
 * interleaving. O_EXCL creation is atomic on local filesystems. A holder that died (its pid is gone on
 * this host, or the lock is older than `staleMs`) is broken, carefully, so a crash never locks admins out.
 * Not proper-lockfile: it judges a holder only by the lock's mtime (a crashed CLI blocks admins for the
 * whole stale period) and keeps a timer refreshing it; a dead pid frees this lock at once.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { AdminError } from './admin-error';

export interface FileLock {
  release(): Promise<void>;
}

export interface LockOptions {
  /** A lock older than this is taken to belong to a dead writer (a write holds it for milliseconds). */
  staleMs?: number;
  /** How long to wait for a live holder before giving up with ADMIN_FILE_BUSY. */
  waitMs?: number;
}

interface Holder {
  pid: number;
  host: string;
  nonce: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parseHolder(text: string): Holder | null {
  try {
    const h = JSON.parse(text) as Holder;
    return typeof h.pid === 'number' && typeof h.nonce === 'string' ? h : null;
  } catch {
    return null; // a holder that died between creating and writing the file: judged by age only
  }
}

function isDead(h: Holder | null): boolean {
  if (!h || h.host !== hostname()) return false;
  try {
    process.kill(h.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export async function acquireFileLock(path: string, opts: LockOptions = {}): Promise<FileLock> {
  const staleMs = opts.staleMs ?? 10_000;
  const waitMs = opts.waitMs ?? 5_000;
  const me: Holder = { pid: process.pid, host: hostname(), nonce: randomBytes(8).toString('hex') };
  const mine = JSON.stringify(me);
  const started = Date.now();
  for (;;) {
    try {
      const fh = await open(path, 'wx', 0o600);
      try {
        await fh.writeFile(mine);
      } finally {
        await fh.close();
      }
      return { release: () => releaseIfMine(path, mine) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let seen: string;
    let ageMs: number;
    try {
      [seen, ageMs] = await Promise.all([readFile(path, 'utf8'), stat(path).then((s) => Date.now() - s.mtimeMs)]);
    } catch {
      continue; // released meanwhile: try again at once
    }
    if (ageMs > staleMs || isDead(parseHolder(seen))) {
      await breakStale(path, seen);
      continue;
    }
    if (Date.now() - started > waitMs) {
      const h = parseHolder(seen);
      throw new AdminError('ADMIN_FILE_BUSY', `${path} is held${h ? ` by pid ${h.pid} on ${h.host}` : ''}`);
    }
    await sleep(20 + Math.random() * 30);
  }
}

/**
 * Moves the stale lock aside instead of unlinking it: if another process broke it first and already holds
 * a fresh lock, what we moved is not what we judged stale, and we put it back.
 */
async function breakStale(path: string, seen: string): Promise<void> {
  const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch {
    return; // gone already
  }
  const moved = await readFile(aside, 'utf8').catch(() => seen);
  if (moved !== seen) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

async function releaseIfMine(path: string, mine: string): Promise<void> {
  const now = await readFile(path, 'utf8').catch(() => null);
  if (now === mine) await unlink(path).catch(() => undefined);
}
