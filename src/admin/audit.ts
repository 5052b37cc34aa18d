/**
 * The audit trail of proxy.properties: one JSON line per change, appended (O_APPEND, so lines from the
 * gateway and the CLI never interleave mid-line), and the same record in the winston log. Tokens appear
 * only as fingerprints. Hand edits are recorded too, so the trail explains every version of the file.
 */
import { appendFile, open } from 'node:fs/promises';
import type { Logger } from 'winston';
import type { DrainCoordinator } from '../control-plane/draining';
import { describeDiff, type TokenDiff } from './token-diff';
import type { Users } from './tokens-file';

export type AuditOperation = 'create' | 'add-users' | 'remove-users' | 'set-users' | 'set-label' | 'delete' | 'hand-edit' | 'import';

/** `appeared`, `disappeared`, `usersChanged` (token-diff.ts): what the change did, whoever made it. */
export interface AuditRecord extends Partial<TokenDiff> {
  time: string;
  /** The replica (gateway.replica.name, or the host name) whose admin API or CLI made the change. */
  replica?: string;
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
  /** create: the label given; set-label: before and after ('' for none). */
  label?: string;
  labelBefore?: string;
  labelAfter?: string;
  /** Hand edits only: whether the gateway accepted the file (false: the previous rules stay). */
  applied?: boolean;
  /**
   * A hand edit that landed in the instant an admin write replaced the file, so its bytes were overwritten
   * (`etagAfter` is the admin write's version). Re-apply it by hand.
   */
  lost?: true;
}

/**
 * An Entrance drained or undrained by an admin: state of the running gateway, not a change of
 * proxy.properties, so no token and no ETag (`latest()` skips it). Only changes are recorded, not repeats.
 */
export interface DrainAuditRecord {
  time: string;
  replica?: string;
  admin: string;
  via: 'api';
  operation: 'drain' | 'undrain';
  instance: string;
  /** Workers of this gateway that confirmed the new state (all of them unless one did not answer in time). */
  workers: number;
}

/** Wraps a draining coordinator (see UpstreamRegistry.drain) so each change is audited once, by the process that took the request. */
export function auditedDraining(coordinator: DrainCoordinator, audit: AuditLog): DrainCoordinator {
  return async (change) => {
    const outcome = await coordinator(change);
    if (outcome.changed) await audit.recordDrain({ admin: change.admin, via: 'api', operation: change.draining ? 'drain' : 'undrain', instance: change.name, workers: outcome.applied });
    return outcome;
  };
}

export interface AuditLog {
  readonly file: string;
  record(entry: Omit<AuditRecord, 'time'>): Promise<void>;
  /** Appends a DrainAuditRecord to the same file, in the same order as the other records. */
  recordDrain(entry: Omit<DrainAuditRecord, 'time'>): Promise<void>;
  /**
   * The newest record (any process) that names a version of the file: the version on disk was made by its
   * writer only if it is that record's `etagAfter`. Not any record with that version: a hand edit that
   * restores an earlier version has the ETag of an older record. A lost edit's record names none.
   */
  latest(): Promise<AuditRecord | null>;
  /** The newest `limit` records, newest first (for the page and the API). */
  recent(limit: number): Promise<AuditRecord[]>;
  close(): Promise<void>;
}

const TAIL_BYTES = 64 * 1024;
/** A tail this long holds the last record even after a hand edit listing 300 tokens with many users. */
const LONG_TAIL_BYTES = 1024 * 1024;

/** The complete records in the last `bytes` of the file, oldest first (the first, cut line is skipped). */
async function tailRecords(file: string, bytes: number): Promise<{ records: AuditRecord[]; whole: boolean }> {
  let tail: string;
  let whole: boolean;
  try {
    const fh = await open(file, 'r');
    try {
      const { size } = await fh.stat();
      const start = Math.max(0, size - bytes);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      tail = buf.toString('utf8');
      whole = start === 0;
    } finally {
      await fh.close();
    }
  } catch {
    return { records: [], whole: true };
  }
  const records: AuditRecord[] = [];
  for (const line of tail.split('\n')) {
    try {
      records.push(JSON.parse(line) as AuditRecord);
    } catch {
      // the first, cut-off line of the tail, or a blank one
    }
  }
  return { records, whole };
}

export function createAuditLog(opts: { file: string; logger: Logger; now?: () => Date; replica?: string }): AuditLog {
  const { file, logger } = opts;
  // With several replicas each keeps its own audit file: every record says which one made the change.
  const replica = opts.replica !== undefined ? { replica: opts.replica } : {};
  const now = opts.now ?? (() => new Date());
  let chain: Promise<unknown> = Promise.resolve();
  let warned = false;

  return {
    file,
    record(entry) {
      const rec: AuditRecord = { time: now().toISOString(), ...replica, ...entry };
      logger.log({
        level: rec.lost ? 'error' : rec.operation === 'hand-edit' && rec.applied === false ? 'warn' : 'info',
        message: rec.lost
          ? 'a hand edit of proxy.properties was overwritten by an admin write made at the same instant; re-apply it'
          : rec.operation === 'hand-edit'
            ? `proxy.properties was edited by hand (${rec.appeared ? describeDiff(rec as TokenDiff) : 'changes unknown'})`
            : rec.operation === 'import'
              ? `the allowlist was replaced by an import (${rec.appeared ? describeDiff(rec as TokenDiff) : 'changes unknown'})`
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
    recordDrain(entry) {
      const rec: DrainAuditRecord = { time: now().toISOString(), ...replica, ...entry };
      logger.info(`Entrance ${rec.instance} ${rec.operation === 'drain' ? 'drained' : 'undrained'} by an admin`, { event: 'admin.audit', ...rec });
      const run = chain.then(() => appendFile(file, JSON.stringify(rec) + '\n', { flag: 'a', mode: 0o600 }));
      chain = run.catch((err: NodeJS.ErrnoException) => {
        logger.error('cannot append to the audit file; set gateway.admin.audit.file to a writable file', { event: 'admin.audit.error', file, error: err.code ?? err.message });
      });
      return chain.then(() => undefined);
    },
    async latest() {
      for (const bytes of [TAIL_BYTES, LONG_TAIL_BYTES]) {
        const { records, whole } = await tailRecords(file, bytes);
        const found = records.reverse().find((r) => !r.lost && typeof r.etagAfter === 'string');
        if (found || whole) return found ?? null;
      }
      return null;
    },
    async recent(limit) {
      const { records } = await tailRecords(file, LONG_TAIL_BYTES);
      return records.slice(-limit).reverse();
    },
    async close() {
      await chain;
    },
  };
}
