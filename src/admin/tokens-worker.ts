/**
 * The admin's heavy, pure work on proxy.properties, off the data plane's thread. At 60,000 tokens one
 * edit (parse, validate before and after, fingerprint every token) takes most of a second of CPU and a
 * listing a third of one; on the gateway's one thread that stalled every proxied request as long. A
 * worker thread does it; the main thread only ships the text over and back.
 *
 * A listing comes back as columns (a few arrays of strings instead of 60,000 objects: structured clone
 * of objects costs the receiving thread 60-140 ms) and becomes TokenViews in slices of a few ms.
 *
 * One worker per process, started on first use and unref'd while idle, so a CLI run still exits when
 * done. If the worker dies, the jobs it held fail and the next job starts a new one. A small file (most
 * installations) is handled inline: a few milliseconds, less than the round trip to the worker.
 */
import { extname, join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { PropertyProblem } from '../linkis/properties';
import { AdminError } from './admin-error';
import { diffTokens, type TokenDiff } from './token-diff';
import type { LabelInfo } from './token-labels';
import { applyEdit, readTokens, type EditResult, type TokenEdit, type TokenRules, type TokenView } from './tokens-file';

const ROLE = 'linkis-gateway-tokens';
/** Below this many characters (about 500 tokens, a few ms of work) the work is done on the calling thread. */
const INLINE_CHARS = 32 * 1024;

type JobBody =
  | { kind: 'edit'; text: string; edit: TokenEdit; rules: TokenRules }
  | { kind: 'list'; text: string; rules: TokenRules }
  | { kind: 'diff'; before: string; after: string };
type Job = JobBody & { id: number };

interface Columns {
  fingerprint: string[];
  masked: string[];
  /** The raw value: `*` or comma-separated names, as readTokens splits them. */
  users: string[];
  line: number[];
  /** index → reason, for the few weak tokens. */
  weak: Array<[number, string]>;
  /** index → label, created, createdBy, for the tokens that have any. */
  labels: Array<[number, LabelInfo]>;
  problems: PropertyProblem[];
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { code?: string; detail?: string; data?: Record<string, unknown>; message: string } };

function toColumns(text: string, rules: TokenRules): Columns {
  const { tokens, problems } = readTokens(text, rules);
  const weak: Array<[number, string]> = [];
  const labels: Array<[number, LabelInfo]> = [];
  tokens.forEach((t, i) => {
    if (t.weak) weak.push([i, t.weak]);
    if (t.label !== undefined || t.created !== undefined) labels.push([i, { label: t.label, created: t.created, createdBy: t.createdBy }]);
  });
  return {
    fingerprint: tokens.map((t) => t.fingerprint),
    masked: tokens.map((t) => t.masked),
    users: tokens.map((t) => (t.users === '*' ? '*' : t.users.join(','))),
    line: tokens.map((t) => t.line),
    weak,
    labels,
    problems,
  };
}

if (!isMainThread && (workerData as { role?: string } | undefined)?.role === ROLE) {
  parentPort!.on('message', (job: Job) => {
    let reply: Reply;
    try {
      reply = { id: job.id, ok: true, value: job.kind === 'edit' ? applyEdit(job.text, job.edit, job.rules) : job.kind === 'diff' ? diffTexts(job.before, job.after) : toColumns(job.text, job.rules) };
    } catch (err) {
      const e = err as AdminError;
      reply = { id: job.id, ok: false, error: err instanceof AdminError ? { code: e.code, detail: e.detail, data: e.data, message: e.message } : { message: String((err as Error)?.stack ?? err) } };
    }
    parentPort!.postMessage(reply);
  });
}

/** Columns → TokenViews, yielding to the event loop every few ms. */
async function fromColumns(c: Columns, sliceMs = 4): Promise<TokenView[]> {
  const weak = new Map(c.weak);
  const labels = new Map(c.labels);
  const out: TokenView[] = new Array(c.fingerprint.length);
  let sliceStart = performance.now();
  for (let i = 0; i < out.length; i++) {
    const u = c.users[i]!;
    const view: TokenView = { fingerprint: c.fingerprint[i]!, masked: c.masked[i]!, users: u === '*' ? '*' : u.split(','), line: c.line[i]! };
    const l = labels.get(i);
    if (l) for (const k of ['label', 'created', 'createdBy'] as const) if (l[k] !== undefined) view[k] = l[k];
    const w = weak.get(i);
    out[i] = w ? { ...view, weak: w } : view;
    if ((i & 1023) === 1023 && performance.now() - sliceStart > sliceMs) {
      await new Promise((r) => setImmediate(r));
      sliceStart = performance.now();
    }
  }
  return out;
}

let worker: Worker | null = null;
let nextId = 0;
const pending = new Map<number, { ok: (v: unknown) => void; fail: (e: unknown) => void }>();

function start(): Worker {
  const entry = join(__dirname, `tokens-worker${extname(__filename)}`);
  // Tests and `tsx` runs load TypeScript; a worker does not inherit tsx's loader, so it is required first.
  const w = entry.endsWith('.ts')
    ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true, workerData: { role: ROLE } })
    : new Worker(entry, { workerData: { role: ROLE } });
  w.on('message', (reply: Reply) => {
    const job = pending.get(reply.id);
    if (!job) return;
    pending.delete(reply.id);
    if (pending.size === 0) w.unref();
    if (reply.ok) return job.ok(reply.value);
    const e = reply.error;
    job.fail(e.code ? new AdminError(e.code as AdminError['code'], e.detail, e.data) : new Error(`tokens worker: ${e.message}`));
  });
  const gone = (err: unknown) => {
    if (worker === w) worker = null;
    for (const [id, job] of pending) {
      pending.delete(id);
      job.fail(err instanceof Error ? err : new Error(`the tokens worker exited (${String(err)})`));
    }
  };
  w.on('error', gone).on('exit', gone);
  return w;
}

function run<T>(job: JobBody): Promise<T> {
  worker ??= start();
  worker.ref(); // a job in progress keeps the process alive
  const id = ++nextId;
  return new Promise<T>((ok, fail) => {
    pending.set(id, { ok: ok as (v: unknown) => void, fail });
    worker!.postMessage({ ...job, id });
  });
}

function diffTexts(before: string, after: string): TokenDiff {
  return diffTokens(readTokens(before).tokens, readTokens(after).tokens);
}

/** Which tokens appeared, disappeared or changed users between two versions of the file (token-diff.ts). */
export async function diffOffThread(before: string, after: string): Promise<TokenDiff> {
  if (before.length + after.length < INLINE_CHARS) return diffTexts(before, after);
  return run<TokenDiff>({ kind: 'diff', before, after });
}

/** applyEdit (tokens-file.ts) on the worker thread: the same result, or the same AdminError. */
export async function editOffThread(text: string, edit: TokenEdit, rules: TokenRules): Promise<EditResult> {
  if (text.length < INLINE_CHARS) return applyEdit(text, edit, rules);
  return run<EditResult>({ kind: 'edit', text, edit, rules });
}

/** readTokens (tokens-file.ts) on the worker thread; the views are built here in slices. */
export async function readTokensOffThread(text: string, rules: TokenRules): Promise<{ tokens: TokenView[]; problems: PropertyProblem[] }> {
  if (text.length < INLINE_CHARS) return readTokens(text, rules);
  const columns = await run<Columns>({ kind: 'list', text, rules });
  return { tokens: await fromColumns(columns), problems: columns.problems };
}
