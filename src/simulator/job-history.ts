/**
 * The simulated Linkis database: the job history table (linkis_ps_job_history_group_history) that every
 * Entrance writes and linkis-ps-publicservice reads, plus the file store where finished jobs leave their
 * results and logs. One per simulated Linkis, shared by its services, so a client can submit to one Entrance
 * and follow the job through jobhistory like linkis-cli and the Python SDK do.
 */
import { FileStore } from './files';
import type { JobState } from './jobs';

/** A row as the Entrance persists it (JobHistory.java); the publicservice turns it into a QueryTaskVO. */
export interface HistoryRow {
  taskID: number;
  /** The Entrance instance ("host:port") that took the job (`instances` column). */
  instance: string;
  /** The scheduler's short id (`job_req_id`), e.g. `IDE_alice_spark_0`. */
  jobReqId: string;
  /** The execID the Entrance answered the submit with. */
  execID: string;
  submitUser: string;
  executeUser: string;
  creator: string;
  /** The engine type without version (`engine_type`), e.g. `spark`. */
  engineType: string;
  runType: string;
  /** label key → string value, e.g. engineType → spark-3.2.1, userCreator → alice-IDE. */
  labels: Record<string, string>;
  /** JSON text of the submitted `params` and `source`. */
  params: string;
  source: string;
  executionCode: string;
  status: JobState;
  /** As Linkis stores it: a float's text ("0.0", "0.5", "1.0"). */
  progress: string;
  logPath: string;
  /** Set when the job starts running (EntranceExecutionJob.jobToExecuteRequest), a directory. */
  resultLocation: string | null;
  errCode: number | null;
  errDesc: string | null;
  createdTime: number;
  updatedTime: number;
  completedTime: number | null;
}

/** Moves a job on as one status poll at its Entrance would; given by the Entrance that holds the job. */
export interface TaskDriver {
  poll(): void;
}

export interface JobHistoryOptions {
  /** wds.linkis.resultSet.store.path / the HDFS root: default `hdfs:///tmp/linkis`. */
  root?: string;
  /** Rows in each succeeded job's `_0.dolphin`; default 3. A job whose code has `sim:rows=N` gets N. */
  resultRows?: number;
  /** First taskID; default 1 (an auto-increment id). */
  taskIdStart?: number;
}

export interface ListQuery {
  /** Only this submit user's rows; null: everyone's (an admin's view). */
  user: string | null;
  taskID: number | null;
  statuses: string[] | null;
  startDate: number;
  endDate: number;
  engineType: string | null;
  creator: string | null;
  instance: string | null;
}

/** `yyyy-MM-dd` in the server's time zone, as Linkis's path utilities format today's date. */
export function pathDate(millis: number): string {
  const d = new Date(millis);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export class JobHistory {
  readonly root: string;
  /** Read when a job succeeds, so tests may change it between jobs. */
  resultRows: number;
  readonly files = new FileStore();
  private readonly rows = new Map<number, HistoryRow>();
  private readonly drivers = new Map<number, TaskDriver>();
  private nextId: number;

  constructor(opts: JobHistoryOptions = {}) {
    this.root = (opts.root ?? 'hdfs:///tmp/linkis').replace(/\/+$/, '');
    this.resultRows = opts.resultRows ?? 3;
    this.nextId = opts.taskIdStart ?? 1;
  }

  nextTaskId(): number {
    return this.nextId++;
  }

  /** CommonLogPathUtils.getResultPath: `<root>/result/<date>/<creator>/<executeUser>/<taskId>`. */
  resultLocationFor(row: Pick<HistoryRow, 'createdTime' | 'creator' | 'executeUser' | 'taskID'>): string {
    return `${this.root}/result/${pathDate(row.createdTime)}/${row.creator}/${row.executeUser}/${row.taskID}`;
  }

  /** ParserUtils.generateLogPath for HDFS: `<root>/log/<date>/<creator>/<executeUser>/<taskId>.log`. */
  logPathFor(row: Pick<HistoryRow, 'createdTime' | 'creator' | 'executeUser' | 'taskID'>): string {
    return `${this.root}/log/${pathDate(row.createdTime)}/${row.creator}/${row.executeUser}/${row.taskID}.log`;
  }

  insert(row: HistoryRow, driver?: TaskDriver): void {
    this.rows.set(row.taskID, row);
    if (driver) this.drivers.set(row.taskID, driver);
  }

  get(taskID: number): HistoryRow | undefined {
    return this.rows.get(taskID);
  }

  update(taskID: number, patch: Partial<HistoryRow>): void {
    const row = this.rows.get(taskID);
    if (row) Object.assign(row, patch);
  }

  /** A jobhistory read by the job's owner: the job moves on as on a status poll at its Entrance. */
  poll(taskID: number): void {
    this.drivers.get(taskID)?.poll();
  }

  /** JobHistoryHelper.forceKill: the row alone becomes Cancelled, whatever the Entrance still holds. */
  forceKill(taskID: number): void {
    const row = this.rows.get(taskID);
    if (!row) return;
    const now = Date.now();
    Object.assign(row, { status: 'Cancelled', progress: '1.0', updatedTime: now, completedTime: now });
    this.drivers.delete(taskID);
  }

  /** JobHistoryMapper `search`: the filters that are set, newest first; `total` is the count before paging. */
  search(q: ListQuery, pageNow: number, pageSize: number): { rows: HistoryRow[]; total: number } {
    const hits: HistoryRow[] = [];
    for (const row of this.rows.values()) {
      if (q.taskID !== null && row.taskID !== q.taskID) continue;
      if (q.user !== null && row.submitUser !== q.user) continue;
      if (q.engineType !== null && row.engineType !== q.engineType) continue;
      if (row.createdTime < q.startDate || row.createdTime > q.endDate) continue;
      if (q.statuses !== null && !q.statuses.includes(row.status)) continue;
      if (q.creator !== null && row.creator !== q.creator) continue;
      if (q.instance !== null && row.instance.toLowerCase() !== q.instance.toLowerCase()) continue;
      hits.push(row);
    }
    hits.sort((a, b) => b.createdTime - a.createdTime || b.taskID - a.taskID);
    if (pageSize <= 0) return { rows: hits, total: hits.length };
    // PageHelper with reasonable=true (linkis-mybatis): a page past the end is the last page, below 1 the first.
    const pages = Math.ceil(hits.length / pageSize);
    const page = Math.max(1, Math.min(pageNow, pages));
    return { rows: hits.slice((page - 1) * pageSize, page * pageSize), total: hits.length };
  }

  /** Forgets every row and file; taskIDs keep increasing, as an auto-increment column does. */
  close(): void {
    this.rows.clear();
    this.drivers.clear();
    this.files.clear();
  }
}
