/**
 * What the gateway does when proxy.properties changes on disk: reload, and say who changed it. A version
 * this process just wrote through the admin API was already applied (no second reload); a version the CLI
 * (or another worker process) wrote is in the audit file; anything else is a hand edit, logged and audited
 * as such, once, even when several worker processes watch the same file.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'winston';
import type { AllowlistStore } from '../control-plane/allowlist-store';
import type { AuditLog } from './audit';
import { acquireFileLock } from './lock-file';
import { etagOf } from './tokens-repo';

export interface FileChanges {
  /** For watchFile: the file's identity changed. */
  onFileChange(): void;
  /**
   * For the repo's onWritten: this process wrote `etag`; apply it now, without waiting for the watcher.
   * Resolves once applied (the admin's answer waits for it); built in slices, so traffic keeps flowing.
   */
  noteWritten(etag: string): Promise<void>;
  /** Resolves when the change being handled (if any) is done; for tests and shutdown. */
  idle(): Promise<void>;
}

/** How recent a CLI's audit line must be for its write to count as an admin write, not a hand edit. */
const CLI_WRITE_WINDOW_MS = 30_000;
/** Workers see one hand edit within about a second of each other; the first one audits it. */
const HAND_EDIT_SEEN_MS = 10_000;

export function createFileChanges(deps: { file: string; store: AllowlistStore; logger: Logger; audit: AuditLog }): FileChanges {
  const { file, store, logger, audit } = deps;
  // This process's writes the watcher has not seen yet, oldest first. Seeing one settles all older ones.
  const pending: string[] = [];
  let chain: Promise<unknown> = Promise.resolve();

  function currentEtag(): string | null {
    try {
      return etagOf(readFileSync(file));
    } catch {
      return null;
    }
  }

  async function handle(): Promise<void> {
    const etag = currentEtag();
    const own = etag === null ? -1 : pending.indexOf(etag);
    if (own !== -1) {
      pending.splice(0, own + 1);
      logger.debug('proxy.properties change is the admin write already applied', { event: 'allowlist.change.own', etag });
      return;
    }
    pending.length = 0;
    if (etag === null) return void (await store.reloadInSlices('hand-edit')); // a deleted file: refused and logged by the store
    // The writers' lock makes "is it audited yet? then audit it" one step across processes.
    const lock = await acquireFileLock(`${file}.lock`).catch(() => null);
    try {
      const known = await audit.recentRecord(etag, CLI_WRITE_WINDOW_MS);
      const byAdmin = known !== null && known.operation !== 'hand-edit';
      const result = await store.reloadInSlices(byAdmin ? 'admin-write' : 'hand-edit');
      const audited = known !== null && (byAdmin || Date.now() - Date.parse(known.time) < HAND_EDIT_SEEN_MS);
      if (!audited) await audit.record({ admin: null, via: 'file', operation: 'hand-edit', token: null, usersBefore: null, usersAfter: null, etagBefore: null, etagAfter: etag, applied: result.ok });
    } finally {
      await lock?.release();
    }
  }

  return {
    onFileChange() {
      chain = chain.then(handle).catch((err) => logger.error('handling a proxy.properties change failed', { event: 'allowlist.change.error', error: String(err) }));
    },
    async noteWritten(etag) {
      pending.push(etag);
      if (pending.length > 32) pending.shift();
      // Not store.reload: its synchronous build of 60,000 tokens stalled every proxied request.
      await store.reloadInSlices('admin-write');
    },
    idle: () => chain.then(() => undefined),
  };
}
