// Notices when a config file's content may have changed, however it was changed:
// in-place writes, editors' and `mv tmp file` atomic renames, delete+recreate, and
// Kubernetes ConfigMap updates (which swap a `..data` symlink, never touching the
// file's own name). Hence we watch the directory, not the file (a watch on the
// file follows the old inode after a rename), and also poll, because fs.watch is
// allowed to miss or coalesce events (network filesystems, some containers).
// Not chokidar: it watches the file's own name, so a ConfigMap `..data` swap goes unseen unless it polls
// every file, and one file needs neither its globbing nor its dependency tree; this is the poll it would do.
import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface WatchOptions {
  /** Quiet time before acting on events, and how long content must stay unchanged. */
  debounceMs?: number;
  /** Safety-net poll interval. */
  pollMs?: number;
}

export interface FileWatch {
  close(): void;
}

/** mtime+size+inode: changes on every write and on every replacement. */
function identityOf(file: string): string {
  try {
    const st = statSync(file); // follows symlinks, so a ConfigMap swap shows as a new ino
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return 'missing';
  }
}

export function watchFile(file: string, onChange: () => void, opts: WatchOptions = {}): FileWatch {
  const debounceMs = opts.debounceMs ?? 100;
  const pollMs = opts.pollMs ?? 1000;
  const dir = dirname(file);
  const name = basename(file);

  let closed = false;
  let reported = identityOf(file);
  // An identity seen once but not yet confirmed stable: a writer may still be busy.
  let candidate: string | null = null;
  let debounce: NodeJS.Timeout | null = null;
  let watcher: FSWatcher | null = null;

  function schedule(): void {
    if (closed) return;
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(check, debounceMs);
  }

  // Fires only once the new identity has held for debounceMs, so a reload does
  // not read a half-written file (which might parse as a valid but shorter list).
  function check(): void {
    debounce = null;
    if (closed) return;
    const now = identityOf(file);
    if (now === reported) {
      candidate = null;
      return;
    }
    if (now !== candidate) {
      candidate = now;
      schedule();
      return;
    }
    candidate = null;
    reported = now;
    try {
      onChange();
    } catch {
      // The listener owns its errors; a throw must not stop the watching.
    }
  }

  function relevant(filename: string | Buffer | null): boolean {
    if (filename === null) return true; // platform did not say which: check anyway
    const f = filename.toString();
    return f === name || f.startsWith('..'); // '..data', '..data_tmp', '..2024_…'
  }

  function startWatcher(): void {
    try {
      watcher = watch(dir, { persistent: true }, (_event, filename) => {
        if (relevant(filename)) schedule();
      });
      watcher.on('error', () => {
        // e.g. the directory was removed; polling carries on and re-arms us.
        watcher?.close();
        watcher = null;
      });
    } catch {
      watcher = null; // directory missing for now; polling will retry
    }
  }

  startWatcher();
  const poll = setInterval(() => {
    if (closed) return;
    if (!watcher) startWatcher();
    // Skip while a debounced check is pending: it will look anyway.
    if (!debounce && identityOf(file) !== reported) schedule();
  }, pollMs);

  return {
    close() {
      if (closed) return;
      closed = true;
      clearInterval(poll);
      if (debounce) clearTimeout(debounce);
      debounce = null;
      watcher?.close();
      watcher = null;
    },
  };
}
