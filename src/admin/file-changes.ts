/**
 * What the gateway does when proxy.properties changes on disk: reload, and say who changed it. A version
 * this process just wrote through the admin API was already applied (no second reload); a version the CLI
 * (or another worker process) wrote is the newest record of the audit file; anything else is a hand edit,
 * logged and audited as such, once, even when several worker processes watch the same file, with the
 * tokens it made appear, disappear or change users (compared with the rules in force before it).
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'winston';
import type { AllowlistStore } from '../control-plane/allowlist-store';
import type { AuditLog } from './audit';
import { acquireFileLock } from './lock-file';
import { etagOf } from './tokens-repo';
import { diffOffThread } from './tokens-worker';

export interface FileChanges {
  /** For watchFile: the file's identity changed. */
  onFileChange(): void;
  /**
   * For the repo's onWritten: this process wrote `etag` (`text`); apply it now, without waiting for the
   * watcher. Resolves once applied (the admin's answer waits for it); built in slices, so traffic keeps flowing.
   */
  noteWritten(etag: string, text: string): Promise<void>;
  /** Resolves when the change being handled (if any) is done; for tests and shutdown. */
  idle(): Promise<void>;
}

export function createFileChanges(deps: { file: string; store: AllowlistStore; logger: Logger; audit: AuditLog }): FileChanges {
  const { file, store, logger, audit } = deps;
  // This process's writes the watcher has not seen yet, oldest first. Seeing one settles all older ones.
  const pending: string[] = [];
  let chain: Promise<unknown> = Promise.resolve();

  function current(): Buffer | null {
    try {
      return readFileSync(file);
    } catch {
      return null;
    }
  }
  const first = current();
  /** The version this process last saw or wrote: a hand edit's etagBefore. */
  let seen: string | null = first ? etagOf(first) : null;
  /**
   * The text of the rules in force, to say what a hand edit changed. A diff of texts on the tokens worker,
   * not of the allowlists: listing 60,000 entries twice would hold the data plane's thread for ~50 ms.
   */
  let applied = first ? first.toString('utf8') : '';

  async function handle(): Promise<void> {
    const bytes = current();
    const etag = bytes === null ? null : etagOf(bytes);
    const own = etag === null ? -1 : pending.indexOf(etag);
    if (own !== -1) {
      pending.splice(0, own + 1);
      seen = etag;
      applied = bytes!.toString('utf8');
      logger.debug('proxy.properties change is the admin write already applied', { event: 'allowlist.change.own', etag });
      return;
    }
    pending.length = 0;
    if (etag === null) return void (await store.reloadInSlices('hand-edit')); // a deleted file: refused and logged by the store
    // The writers' lock makes "is it audited yet? then audit it" one step across processes; writers append
    // their record before they release it.
    const lock = await acquireFileLock(`${file}.lock`).catch(() => null);
    try {
      // Only the newest record can have made the version on disk (see AuditLog.latest).
      const latest = await audit.latest();
      const audited = latest?.etagAfter === etag; // by the CLI or another worker, or a hand edit another worker saw first
      const result = await store.reloadInSlices(audited && latest!.operation !== 'hand-edit' ? 'admin-write' : 'hand-edit');
      const text = bytes!.toString('utf8');
      // A touch, or an edit undone before anyone saw it, changes nothing to audit. A refused edit is compared
      // with the rules still in force: the record says what it would have changed.
      if (!audited && etag !== seen) {
        // Without the diff (the worker died) the record still says that the file was edited by hand.
        const diff = await diffOffThread(applied, text).catch(() => ({}));
        await audit.record({ admin: null, via: 'file', operation: 'hand-edit', token: null, usersBefore: null, usersAfter: null, etagBefore: seen, etagAfter: etag, applied: result.ok, ...diff });
      }
      seen = etag;
      if (result.ok) applied = text;
    } finally {
      await lock?.release();
    }
  }

  return {
    onFileChange() {
      chain = chain.then(handle).catch((err) => logger.error('handling a proxy.properties change failed', { event: 'allowlist.change.error', error: String(err) }));
    },
    async noteWritten(etag, text) {
      pending.push(etag);
      seen = etag;
      applied = text;
      if (pending.length > 32) pending.shift();
      // Not store.reload: its synchronous build of 60,000 tokens stalled every proxied request.
      await store.reloadInSlices('admin-write');
    },
    idle: () => chain.then(() => undefined),
  };
}
