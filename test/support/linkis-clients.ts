/**
 * Replays of what stock Linkis clients send, call by call (Linkis 1.8.0 source; /tmp research notes are
 * summarised in README "Clients"): linkis-cli's InteractiveJob / LogRetriever / ResultRetriever / JobKiller,
 * the Java SDK's UJESClient actions with TokenAuthenticationStrategy or StaticAuthenticationStrategy, and
 * linkis-python-sdk's LinkisClient.execute_code. Same paths, query parameters, headers, bodies and cookie
 * handling; the clients' sleeps are shortened. Each replay returns what the client would report.
 */
import assert from 'node:assert/strict';

export const API = '/api/rest_j/v1';
const FINISHED = ['Succeed', 'Failed', 'Cancelled', 'Timeout'];

/** What a cookie jar (Apache HttpClient's BasicCookieStore, requests.Session) keeps and sends back. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const set of res.headers.getSetCookie()) {
      const [pair, ...attrs] = set.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const gone = attrs.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a)) || pair!.slice(eq + 1).trim() === '';
      if (gone) this.cookies.delete(name);
      else this.cookies.set(name, pair!.slice(eq + 1).trim());
    }
  }
  header(): string | undefined {
    return this.cookies.size ? [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }
  has(name: string): boolean {
    return this.cookies.has(name);
  }
  /** The same cookies in another client (a browser tab, another process holding the cookie file). */
  copyTo(other: CookieJar): void {
    for (const [k, v] of this.cookies) other.cookies.set(k, v);
  }
}

export interface Call {
  method: string;
  path: string;
  http: number;
  status: number | undefined;
}

/** An HTTP client the way the Linkis clients use one: JSON envelopes, a cookie jar, per-request headers. */
export class LinkisHttp {
  readonly calls: Call[] = [];
  readonly jar = new CookieJar();
  constructor(
    readonly gateway: string,
    private readonly headers: () => Record<string, string> = () => ({}),
  ) {}

  async send(method: 'GET' | 'POST', path: string, query?: Record<string, string | number | undefined>, body?: unknown): Promise<{ http: number; env: any }> {
    const q = query ? Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&') : '';
    const cookie = this.jar.header();
    const res = await fetch(`${this.gateway}${API}/${path}${q ? `?${q}` : ''}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(cookie ? { cookie } : {}), ...this.headers() },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(15_000),
    });
    this.jar.take(res);
    const text = await res.text();
    let env: any;
    try {
      env = JSON.parse(text);
    } catch {
      env = undefined;
    }
    this.calls.push({ method, path: `${API}/${path}`, http: res.status, status: env?.status });
    return { http: res.status, env };
  }

  /** Like DWSResult: a status other than 0 is an exception carrying the body. */
  async ok(method: 'GET' | 'POST', path: string, query?: Record<string, string | number | undefined>, body?: unknown): Promise<any> {
    const { http, env } = await this.send(method, path, query, body);
    assert.ok(env && env.status === 0, `${method} ${path}: HTTP ${http} ${JSON.stringify(env)}`);
    return env.data;
  }
}

export interface JobOutcome {
  taskID: string;
  execID: string;
  status: string;
  /** The job's whole log as the client printed it. */
  log: string;
  /** Result rows in order (every page of every result file). */
  rows: string[][];
  /** Column names of the first result set. */
  columns: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** linkis-cli's submit body (InteractiveJobDescBuilder + JobSubmitAction). */
export function linkisCliSubmitBody(user: string, code: string, proxyUser = user): Record<string, unknown> {
  return {
    executeUser: proxyUser,
    executionContent: { code },
    params: { configuration: { startup: {}, runtime: { 'hive.resultset.use.unique.column.names': true } }, variable: {} },
    source: { scriptPath: 'LinkisCli' },
    labels: { engineType: 'spark-3.2.1', codeType: 'sql', userCreator: `${proxyUser}-LINKISCLI`, executeOnce: '' },
  };
}

/** Pages one result file the way linkis-cli does: pageSize 5000 until a page comes back empty. */
async function cliResultPages(http: LinkisHttp, path: string, into: { rows: string[][]; columns: string[] }): Promise<void> {
  for (let page = 1; ; page++) {
    const data = await http.ok('GET', 'filesystem/openFile', { path, page, pageSize: 5000, charset: 'utf-8', nullValue: 'LINKIS_NULL' });
    if (page === 1 && !into.columns.length && Array.isArray(data.metadata)) into.columns.push(...data.metadata.map((m: any) => m.columnName));
    if (!Array.isArray(data.fileContent) || data.fileContent.length === 0 || data.totalLine === 0) return;
    into.rows.push(...data.fileContent);
  }
}

/**
 * linkis-cli's synchronous job (InteractiveJob): `static` logs in first with --authKey as the user and
 * --authVal as the password; `token` sends Token-User / Token-Code on every call.
 */
export async function linkisCliJob(gateway: string, opts: { strategy: 'token' | 'static'; user: string; token: string; code: string; proxyUser?: string }): Promise<JobOutcome & { http: LinkisHttp }> {
  const http = new LinkisHttp(gateway, (): Record<string, string> => (opts.strategy === 'token' ? { 'Token-User': opts.user, 'Token-Code': opts.token } : {}));
  if (opts.strategy === 'static') await http.ok('POST', 'user/login', undefined, { userName: opts.user, password: opts.token });
  const submitted = await http.ok('POST', 'entrance/submit', undefined, linkisCliSubmitBody(opts.user, opts.code, opts.proxyUser));
  const taskID = String(submitted.taskID);
  const execID: string = submitted.execID;
  let task = (await http.ok('GET', `jobhistory/${taskID}/get`)).task;
  await http.ok('GET', `entrance/${execID}/status`);
  let log = '';
  let fromLine = 0;
  // waitJobComplete and the LogRetriever thread, interleaved: jobhistory is the only source of job state.
  for (let i = 0; i < 50 && !FINISHED.includes(task.status); i++) {
    task = (await http.ok('GET', `jobhistory/${taskID}/get`)).task;
    await http.ok('GET', `entrance/${execID}/status`);
    if (FINISHED.includes(task.status)) break;
    const l = await http.ok('GET', `entrance/${execID}/log`, { fromLine: fromLine > 0 ? fromLine : undefined });
    log += l.log[3] ?? '';
    fromLine = l.fromLine;
    await sleep(5);
  }
  assert.ok(FINISHED.includes(task.status), `job ${taskID} did not finish: ${task.status}`);
  // The finished log comes from the file the job history names.
  task = (await http.ok('GET', `jobhistory/${taskID}/get`)).task;
  const finished = await http.ok('GET', 'filesystem/openLog', { path: task.logPath });
  log = finished.log[3];
  const out = { rows: [] as string[][], columns: [] as string[] };
  if (task.status === 'Succeed') {
    await http.ok('GET', `jobhistory/${taskID}/get`);
    const info = (await http.ok('GET', `jobhistory/${taskID}/get`)).task;
    const tree = await http.ok('GET', 'filesystem/getDirFileTrees', { path: info.resultLocation });
    const paths: string[] = tree.dirFileTrees.children.filter((c: any) => c.isLeaf).map((c: any) => c.path);
    for (const p of paths.sort((a, b) => Number(/\d+/.exec(a.split('/').pop()!)?.[0]) - Number(/\d+/.exec(b.split('/').pop()!)?.[0]))) await cliResultPages(http, p, out);
  }
  // The shutdown hook's JobKiller: one more jobhistory read; a finished job is not killed.
  await http.ok('GET', `jobhistory/${taskID}/get`);
  return { taskID, execID, status: task.status, log, ...out, http };
}

/** `linkis-cli --kill <taskID>` (JobKiller): jobhistory, kill by strongerExecId, poll until Cancelled. */
export async function linkisCliKill(http: LinkisHttp, taskID: string): Promise<string> {
  const task = (await http.ok('GET', `jobhistory/${taskID}/get`)).task;
  await http.ok('GET', `entrance/${task.strongerExecId}/kill`);
  for (let i = 0; i < 20; i++) {
    const now = (await http.ok('GET', `jobhistory/${taskID}/get`)).task;
    if (FINISHED.includes(now.status)) return now.status;
    await sleep(5);
  }
  return 'not finished';
}
