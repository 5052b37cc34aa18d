/**
 * The audit trail of proxy.properties: one JSON line per change, appended (O_APPEND, so lines from the
 * gateway and the CLI never interleave mid-line), and the same record in the winston log. Tokens appear
 * only as fingerprints. Hand edits are recorded too, so the trail explains every version of the file.
 */
import { appendFile, open } from 'node:fs/promises';
import type { Logger } from 'winston';
import type { Users } from './tokens-file';

export type AuditOperation = 'create' | 'add-users' | 'remove-users' | 'set-users' | 'delete' | 'hand-edit';

export interface AuditRecord {
  time: string;
  /** The admin's name from admin.properties, or the CLI's `--as`/OS user; null for a hand edit. */
  admin: string | null;
  via: 'api' | 'cli' | 'file';
  operation: AuditOperation;
  /** Fingerprint; null for a hand edit (which may touch any number of tokens). */
  token: string | null;
  usersBefore: Users | null;
  usersAfter: Users | null;
  etagBefore: string | null;
  etagAfter: string;
  /** Hand edits only: whether the gateway accepted the file (false: the previous rules stay). */
  applied?: boolean;
  /**
   * A hand edit that landed in the instant an admin write replaced the file, so its bytes were overwritten
   * (`etagAfter` is the admin write's version). Re-apply it by hand.
   */
  lost?: true;
}

export interface AuditLog {
  readonly file: string;
  record(entry: Omit<AuditRecord, 'time'>): Promise<void>;
  /** The newest record (any process) whose change produced this ETag within `withinMs`; reads the file's tail. */
  recentRecord(etag: string, withinMs: number): Promise<AuditRecord | null>;
  close(): Promise<void>;
}

const TAIL_BYTES = 64 * 1024;

export function createAuditLog(opts: { file: string; logger: Logger; now?: () => Date }): AuditLog {
  const { file, logger } = opts;
  const now = opts.now ?? (() => new Date());
  let chain: Promise<unknown> = Promise.resolve();
  let warned = false;

  return {
    file,
    record(entry) {
      const rec: AuditRecord = { time: now().toISOString(), ...entry };
      logger.log({
        level: rec.lost ? 'error' : rec.operation === 'hand-edit' && rec.applied === false ? 'warn' : 'info',
        message: rec.lost
          ? 'a hand edit of proxy.properties was overwritten by an admin write made at the same instant; re-apply it'
          : rec.operation === 'hand-edit'
            ? 'proxy.properties was edited by hand'
            : 'proxy.properties changed by an admin',
        event: 'admin.audit',
        ...rec,
      });
      // Serialized so the file's order is the order of the changes.
      const run = chain.then(() => appendFile(file, JSON.stringify(rec) + '\n', { flag: 'a', mode: 0o600 }));
      chain = run.catch((err: NodeJS.ErrnoException) => {
        // The change itself is done and logged above; a read-only conf dir must not turn it into a failure.
        // A hand edit with a read-only conf dir (e.g. a ConfigMap) is common: warn once, not an error each time.
        if (!warned || rec.operation !== 'hand-edit') {
          logger.log(rec.operation === 'hand-edit' ? 'warn' : 'error', 'cannot append to the audit file; set gateway.admin.audit.file to a writable file', { event: 'admin.audit.error', file, error: err.code ?? err.message });
        }
        warned = true;
      });
      return chain.then(() => undefined);
    },
    async recentRecord(etag, withinMs) {
      let tail: string;
      try {
        const fh = await open(file, 'r');
        try {
          const { size } = await fh.stat();
          const start = Math.max(0, size - TAIL_BYTES);
          const buf = Buffer.alloc(size - start);
          await fh.read(buf, 0, buf.length, start);
          tail = buf.toString('utf8');
        } finally {
          await fh.close();
        }
      } catch {
        return null;
      }
      const since = now().getTime() - withinMs;
      for (const line of tail.split('\n').reverse()) {
        let rec: AuditRecord;
        try {
          rec = JSON.parse(line) as AuditRecord;
        } catch {
          continue; // the first, cut-off line of the tail, or a blank one
        }
        if (Date.parse(rec.time) < since) return null;
        if (rec.etagAfter === etag && !rec.lost) return rec; // a lost edit's etagAfter is the admin write's
      }
      return null;
    },
    async close() {
      await chain;
    },
  };
}
