/**
 * The access log: one line per request, the busiest log there is. In JSON mode the lines are written
 * directly, in batches (every 50 ms or 64 KB, and on shutdown), instead of through winston: winston's
 * format chain and one synchronous write per line measured ~30 µs per request, more than the proxying
 * itself (bench/). The lines have winston's JSON shape (`level`, `message`, `timestamp` and the fields),
 * so the two kinds of line read the same to a log shipper. In pretty mode (a person at a terminal)
 * winston writes them.
 */
import type { Logger } from 'winston';

export interface AccessLog {
  write(fields: Record<string, unknown>): void;
  /** Writes what is batched; nothing is lost on shutdown. */
  flush(): void;
  close(): void;
}

const FLUSH_BYTES = 64 * 1024;
// Writing to stdout (a file or a pipe) is a system call each time; under load, flushing once per
// event-loop turn still meant about one write per request. A line is at most this late.
const FLUSH_MS = 50;
const LEVELS: Record<string, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/**
 * The JSON of one field value, as JSON.stringify writes it. Most values are short printable strings
 * (ids, paths, names) that need no escaping: those skip the serializer (it was the line's main cost).
 */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/; // printable ASCII but `"` and `\`
function jsonValue(v: unknown): string | undefined {
  if (typeof v === 'string') return PLAIN.test(v) ? `"${v}"` : JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? `${v}` : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return JSON.stringify(v); // undefined (and functions) give undefined: the field is left out, as JSON.stringify does
}

/** `,"name":value` for each field with a value, in the object's order: the tail of the line's JSON object. */
export function jsonFields(fields: Record<string, unknown>): string {
  let out = '';
  for (const name in fields) {
    const json = jsonValue(fields[name]);
    if (json !== undefined) out += `,${PLAIN.test(name) ? `"${name}"` : JSON.stringify(name)}:${json}`;
  }
  return out;
}

/** The line's fixed start, with the timestamp; rebuilt at most once per millisecond. */
function lineHead(): () => string {
  let ms = -1;
  let head = '';
  return () => {
    const now = Date.now();
    if (now !== ms) {
      ms = now;
      head = `{"level":"info","message":"access","timestamp":"${new Date(now).toISOString()}"`;
    }
    return head;
  };
}

/** `worker`: the same worker id the logger writes (logger.ts); the JSON lines bypass winston, so they add it here. */
export function createAccessLog(opts: { logger: Logger; level: string; pretty: boolean; stream?: NodeJS.WritableStream; flushMs?: number; worker?: number }): AccessLog {
  if ((LEVELS[opts.level] ?? 2) < LEVELS.info) return { write() {}, flush() {}, close() {} };
  if (opts.pretty) {
    return { write: (fields) => opts.logger.info('access', fields), flush() {}, close() {} };
  }
  const stream = opts.stream ?? process.stdout;
  const worker = opts.worker; // undefined is left out by JSON.stringify: a single process writes no worker
  const head = lineHead();
  let pending = '';
  let scheduled: NodeJS.Timeout | undefined;
  const flush = () => {
    if (scheduled) clearTimeout(scheduled);
    scheduled = undefined;
    if (!pending) return;
    const chunk = pending;
    pending = '';
    stream.write(chunk);
  };
  return {
    write(fields) {
      pending += `${head()}${worker === undefined ? '' : `,"worker":${worker}`}${jsonFields(fields)}}\n`;
      if (pending.length >= FLUSH_BYTES) flush();
      else if (!scheduled) (scheduled = setTimeout(flush, opts.flushMs ?? FLUSH_MS)).unref();
    },
    flush,
    close: flush,
  };
}
