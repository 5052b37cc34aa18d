/**
 * Replays of the Java SDK (UJESClient over DWSHttpClient) and linkis-python-sdk, call by call. See
 * linkis-clients.ts for the shared HTTP client and linkis-cli.
 */
import assert from 'node:assert/strict';
import { LinkisHttp, type JobOutcome } from './linkis-clients';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const COMPLETED = ['Succeed', 'Failed', 'Cancelled', 'Timeout'];

/**
 * A UJESClient. Token strategy: `Token-User` (the action's user) and `Token-Code` (authTokenValue) on every
 * request, no login. Static strategy: `POST user/login {userName, password: authTokenValue}` before the
 * first action; the cookie store keeps the session; on HTTP 401 it logs in again and retries once
 * (AbstractHttpClient.execute).
 */
export class JavaSdkClient {
  readonly http: LinkisHttp;
  private loggedIn = false;
  logins = 0;
  constructor(
    gateway: string,
    private readonly opts: { strategy: 'token' | 'static'; user: string; authTokenValue: string },
  ) {
    this.http = new LinkisHttp(gateway, (): Record<string, string> => (opts.strategy === 'token' ? { 'Token-User': opts.user, 'Token-Code': opts.authTokenValue } : {}));
  }

  private async login(): Promise<void> {
    const data = await this.http.ok('POST', 'user/login', undefined, { userName: this.opts.user, password: this.opts.authTokenValue });
    assert.equal(typeof data.sessionTimeOut, 'number', 'the SDK reads data.sessionTimeOut');
    this.loggedIn = true;
    this.logins++;
  }

  async execute(method: 'GET' | 'POST', path: string, query?: Record<string, string | number | undefined>, body?: unknown): Promise<any> {
    if (this.opts.strategy === 'static' && !this.loggedIn) await this.login();
    let r = await this.http.send(method, path, query, body);
    if (r.http === 401 && this.opts.strategy === 'static') {
      await this.login();
      r = await this.http.send(method, path, query, body);
    }
    assert.ok(r.env && r.env.status === 0, `URL ${path} request failed! ResponseBody is ${JSON.stringify(r.env)}`);
    return r.env.data;
  }

  /** JobSubmitAction.builder()...setUser(user).addExecuteUser(user).build() */
  submit(code: string): Promise<{ taskID: string; execID: string }> {
    return this.execute('POST', 'entrance/submit', undefined, {
      executeUser: this.opts.user,
      executionContent: { code, runType: 'sql' },
      params: { configuration: { startup: {}, runtime: {} }, variable: {} },
      source: { scriptPath: '/tmp/sdk.sql' },
      labels: { engineType: 'spark-3.2.1', userCreator: `${this.opts.user}-IDE` },
    });
  }
  status(execID: string) {
    return this.execute('GET', `entrance/${execID}/status`);
  }
  progress(execID: string) {
    return this.execute('GET', `entrance/${execID}/progress`);
  }
  log(execID: string, fromLine: number, size: number) {
    return this.execute('GET', `entrance/${execID}/log`, { fromLine: fromLine > 0 ? fromLine : undefined, size: size > 0 ? size : undefined });
  }
  kill(execID: string) {
    return this.execute('GET', `entrance/${execID}/kill`);
  }
  getJobInfo(taskID: string) {
    return this.execute('GET', `jobhistory/${taskID}/get`);
  }
  resultSetList(path: string) {
    return this.execute('GET', 'filesystem/getDirFileTrees', { path });
  }
  resultSet(path: string, page: number, pageSize: number) {
    return this.execute('GET', 'filesystem/openFile', { path, page, pageSize, charset: 'utf-8', nullValue: 'LINKIS_NULL' });
  }
  openLog(path: string) {
    return this.execute('GET', 'filesystem/openLog', { path });
  }
  list() {
    return this.execute('GET', 'jobhistory/list', { pageNow: 1, pageSize: 20 });
  }

  /** What an SDK user writes: submit, poll status with progress and log, then job info, results and the log file. */
  async runJob(code: string): Promise<JobOutcome> {
    const { taskID, execID } = await this.submit(code);
    let status = '';
    let fromLine = 0;
    for (let i = 0; i < 50 && !COMPLETED.includes(status); i++) {
      status = (await this.status(execID)).status;
      await this.progress(execID);
      if (!COMPLETED.includes(status)) fromLine = (await this.log(execID, fromLine, 100)).fromLine;
      await sleep(5);
    }
    const task = (await this.getJobInfo(taskID)).task;
    const log: string = (await this.openLog(task.logPath)).log[3];
    const rows: string[][] = [];
    const columns: string[] = [];
    if (task.status === 'Succeed') {
      const tree = (await this.resultSetList(task.resultLocation)).dirFileTrees;
      for (const child of tree.children) {
        for (let page = 1; ; page++) {
          const data = await this.resultSet(child.path, page, 5000);
          if (!columns.length && Array.isArray(data.metadata)) columns.push(...data.metadata.map((m: any) => m.columnName));
          if (!data.fileContent?.length) break;
          rows.push(...data.fileContent);
        }
      }
    }
    return { taskID: String(taskID), execID, status: task.status, log, rows, columns };
  }
}

/**
 * linkis-python-sdk's LinkisClient.execute_code: a new requests.Session per run, login, submit, poll the
 * job history every second (shortened), list the result files, open each with only `charset` and `path`
 * (so the server's first page of 5000 rows).
 */
export async function pythonSdkExecute(gateway: string, username: string, password: string, code: string): Promise<{ rows: string[][]; total: number; error: string; http: LinkisHttp }> {
  const http = new LinkisHttp(gateway);
  const call = async (method: 'GET' | 'POST', path: string, query?: Record<string, string>, body?: unknown) => {
    const { env } = await http.send(method, path, query, body);
    if ((env?.status ?? -2) !== 0) throw new Error(env?.message ?? 'no envelope');
    return env.data;
  };
  try {
    await call('POST', 'user/login', undefined, { userName: username, password });
    const { taskID } = await call('POST', 'entrance/submit', undefined, { executionContent: { code, runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: `${username}-IDE` } });
    let task: any;
    for (let i = 0; i < 50; i++) {
      task = (await call('GET', `jobhistory/${taskID}/get`)).task;
      if (['Succeed', 'Failed', 'Timeout', 'Cancelled', 'Unknown'].includes(task?.status ?? 'Unknown')) break;
      await sleep(5);
    }
    if (task.status !== 'Succeed') throw new Error(task.errDesc);
    const tree = (await call('GET', 'filesystem/getDirFileTrees', { path: task.resultLocation })).dirFileTrees;
    const files: string[] = tree.children.filter((c: any) => c.isLeaf).map((c: any) => c.path);
    if (!files.length) throw new Error('no data files');
    const pages = await Promise.all(files.map((path) => call('GET', 'filesystem/openFile', { charset: 'utf8', path })));
    const rows = pages.flatMap((p) => p.fileContent as string[][]);
    return { rows, total: rows.length, error: '', http };
  } catch (e) {
    return { rows: [], total: 0, error: String((e as Error).message), http };
  }
}
