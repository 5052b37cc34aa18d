/**
 * What sessions need from disk: the secret that seals session cookies, and the list of sessions ended by
 * logout. Both live in the conf directory, so workers, restarts and replicas sharing the directory agree.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { compactLineFile } from './line-file-compaction';

export const SESSION_SECRET_FILE = 'session.secret';
export const REVOKED_SESSIONS_FILE = 'sessions.revoked';

/**
 * `gateway.session.secret` when set; otherwise the secret in `<conf>/session.secret`, generated on first
 * start (O_EXCL, mode 0600: of several processes starting at once, one writes it and all read it).
 */
export function loadSessionSecret(configured: string, confDir: string): string {
  if (configured) return configured;
  const file = join(confDir, SESSION_SECRET_FILE);
  try {
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, `${randomBytes(32).toString('hex')}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new Error(`${file}: cannot create the session secret (${(err as NodeJS.ErrnoException).code ?? err}); set gateway.session.secret or make the conf directory writable`);
    }
  }
  // Another process may have created the file a moment ago and not written it yet.
  for (let i = 0; i < 50; i++) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length >= 32) return secret;
    if (secret.length > 0 && i > 10) break;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  throw new Error(`${file}: the session secret must be at least 32 characters; delete the file to have a new one generated`);
}

export interface RevokedSessionStore {
  has(id: string): boolean;
  revoke(claims: { id: string; expires: number }): void;
  /** Re-reads the file (another worker or replica revoked a session); main calls it when the file changes. */
  reload(): void;
  readonly file: string;
  /** Waits for a compaction of the file under way, if any. */
  close(): void | Promise<void>;
}

/** The file is rewritten without its expired lines once it is this large and at least half of them expired. */
export const COMPACT_FROM_BYTES = 64 * 1024;

function liveEntry(line: string, t: number): { id: string; expires: number } | null {
  try {
    const { id, expires } = JSON.parse(line) as { id: unknown; expires: unknown };
    return typeof id === 'string' && typeof expires === 'number' && expires > t ? { id, expires } : null;
  } catch {
    return null; // a torn or hand-mangled line revokes nothing
  }
}

/**
 * Ids of sessions ended by logout, until they would have expired anyway. One JSON line per logout,
 * appended with O_APPEND so concurrent writers never interleave; expired lines are skipped on read, and
 * dropped from the file once they are most of it (every change is read whole by every process).
 */
export function createRevokedSessionStore(confDir: string, now: () => number = Date.now): RevokedSessionStore {
  const file = join(confDir, REVOKED_SESSIONS_FILE);
  let revoked = new Map<string, number>();
  let compaction: Promise<unknown> | null = null;
  const reload = () => {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return; // no logout yet
    }
    const next = new Map<string, number>();
    const t = now();
    let lines = 0;
    for (const line of text.split('\n')) {
      if (!line) continue;
      lines++;
      const entry = liveEntry(line, t);
      if (entry) next.set(entry.id, entry.expires);
    }
    // Also what this process revoked: a line lost from the file is still known here.
    for (const [id, expires] of revoked) if (expires > t) next.set(id, expires);
    revoked = next;
    if (!compaction && text.length >= COMPACT_FROM_BYTES && next.size * 2 <= lines) {
      compaction = compactLineFile(file, (line) => liveEntry(line, now()) !== null)
        .catch(() => undefined) // not fatal: the file is only larger than it needs to be; the next reload tries again
        .finally(() => (compaction = null));
    }
  };
  reload();
  return {
    file,
    has: (id) => revoked.has(id),
    revoke({ id, expires }) {
      revoked.set(id, expires);
      appendFileSync(file, `${JSON.stringify({ id, expires })}\n`, { mode: 0o600 });
    },
    reload,
    async close() {
      await compaction;
      revoked.clear();
    },
  };
}
