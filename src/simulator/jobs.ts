/**
 * The simulator's job table and state machine: how an Entrance names jobs (LINKIS.md §1), how their
 * status advances, and which job a follow-up id resolves to. No HTTP here, so tests and the HTTP layer
 * share one definition of "what the Entrance knows".
 */

export type ExecIdFormat = '1.x' | '0.x';

/** SchedulerEventState names, spelled as Linkis sends them. */
export type JobState = 'Inited' | 'WaitForRetry' | 'Scheduled' | 'Running' | 'Succeed' | 'Failed' | 'Cancelled' | 'Timeout';

export const COMPLETED_STATES: ReadonlySet<JobState> = new Set<JobState>(['Succeed', 'Failed', 'Cancelled', 'Timeout']);

/** The application name a 1.x Entrance registers under; it is the `app` part of every 1.x execID. */
export const ENTRANCE_APP_1X = 'linkis-cg-entrance';

/**
 * A code marker that makes a job end in Failed instead of Succeed, so demos and gateway tests can see a
 * failed job without a second simulator knob.
 */
export const FAIL_MARKER = 'sim:fail';

export interface NewJob {
  /** The user the ticket named at submit: the owner every follow-up is checked against. */
  user: string;
  creator: string;
  engineType: string;
  code: string;
  runType: string | null;
  api: 'execute' | 'submit';
  body: unknown;
  /** `executeUser` as the body sent it (Linkis ignores it unless an admin token is used). */
  bodyExecuteUser: string | null;
  /** `labels.userCreator` as the body sent it (`user-creator`), or null for a 0.x `execute`. */
  bodyUserCreator: string | null;
}

/** A job as the simulator keeps it: what was submitted, plus what the Entrance assigned and tracks. */
export interface SimJob extends NewJob {
  taskID: number;
  execID: string;
  shortId: string;
  state: JobState;
  /** Status polls answered so far; the state machine advances on them, not on wall time, so tests are deterministic. */
  statusPolls: number;
  /** How many lines `/log` holds for this job. */
  logLines: number;
  submittedAt: number;
}

// The simulator writes execIDs the way Linkis does, not with the gateway's codec (src/execid.ts): an
// independent writer is what makes the gateway's parser tests against it mean something.

/** Linkis's getLengthStr: two digits below 10, the bare number above (so >= 100 yields three digits, as in Linkis). */
function pad2(s: string): string {
  return s.length >= 10 ? String(s.length) : `0${s.length}`;
}

function pad3(s: string): string {
  return String(s.length).padStart(3, '0');
}

export function makeExecId1x(app: string, instance: string, shortId: string): string {
  return `exec_id${pad3(app)}${pad3(instance)}${app}${instance}${shortId}`;
}

export function makeExecId0x(creator: string, app: string, instance: string, shortId: string): string {
  return `${pad2(creator)}${pad2(app)}${pad2(instance)}${creator}${app}${instance}${shortId}`;
}

/**
 * The short id inside an execID, read the way Linkis's ZuulEntranceUtils.parseExecID does (by the length
 * prefixes, without checking what the instance part says). Null when the lengths cannot be read.
 */
export function shortIdOf(execId: string): string | null {
  if (execId.startsWith('exec_id')) {
    const body = execId.slice('exec_id'.length);
    if (!/^[0-9]{6}/.test(body)) return null;
    const start = 6 + Number(body.slice(0, 3)) + Number(body.slice(3, 6));
    return start < body.length ? body.slice(start) : null;
  }
  if (!/^[0-9]{6}/.test(execId)) return null;
  const start = 6 + Number(execId.slice(0, 2)) + Number(execId.slice(2, 4)) + Number(execId.slice(4, 6));
  return start < execId.length ? execId.slice(start) : null;
}

export interface JobStoreConfig {
  format: ExecIdFormat;
  instance: () => string;
  logLines: number;
  taskIdStart: number;
  /** Where taskIDs come from when a shared job history (Linkis's database) numbers them. */
  allocateTaskId?: () => number;
  /** Called after a job is created and after every change of its state (the job history's writer). */
  onChange?: (job: SimJob) => void;
}

export class JobStore {
  /** By execID exactly as this instance issued it. */
  readonly jobs = new Map<string, SimJob>();
  private readonly byShortId = new Map<string, SimJob>();
  private readonly byTaskId = new Map<number, SimJob>();
  /** Linkis numbers jobs per scheduler group (`creator_user_engineType`), from 0. */
  private readonly groupIndex = new Map<string, number>();
  private nextTaskId: number;

  constructor(private readonly cfg: JobStoreConfig) {
    this.nextTaskId = cfg.taskIdStart;
  }

  create(n: NewJob, logLines: number = this.cfg.logLines): SimJob {
    const group = this.cfg.format === '1.x' ? `${n.creator}_${n.user}_${n.engineType}` : `${n.creator}_${n.user}`;
    const index = this.groupIndex.get(group) ?? 0;
    this.groupIndex.set(group, index + 1);
    const shortId = `${group}_${index}`;
    const instance = this.cfg.instance();
    const execID =
      this.cfg.format === '1.x'
        ? makeExecId1x(ENTRANCE_APP_1X, instance, shortId)
        : makeExecId0x(n.creator, n.engineType, instance, shortId);
    const job: SimJob = {
      ...n,
      taskID: this.cfg.allocateTaskId ? this.cfg.allocateTaskId() : this.nextTaskId++,
      execID,
      shortId,
      state: 'Inited',
      statusPolls: 0,
      logLines,
      submittedAt: Date.now(),
    };
    this.jobs.set(execID, job);
    this.byShortId.set(shortId, job);
    this.byTaskId.set(job.taskID, job);
    this.cfg.onChange?.(job);
    return job;
  }

  /** The job this instance holds under a scheduler id (`jobReqId`), as EntranceServer.getJob finds it. */
  findByShortId(shortId: string): SimJob | undefined {
    return this.byShortId.get(shortId);
  }

  /**
   * Resolves a follow-up id. With `byShortId` (Linkis's own behaviour) an execID is matched on its short id
   * alone, whatever instance it names: that is how a misrouted follow-up silently reaches another job with
   * the same short id (issue #5132), and the simulator reproduces it so gateway tests can catch misrouting.
   * A plain number is a taskID.
   */
  find(id: string, byShortId: boolean): SimJob | undefined {
    const exact = this.jobs.get(id);
    if (exact) return exact;
    if (/^[0-9]{1,15}$/.test(id)) return this.byTaskId.get(Number(id));
    if (!byShortId) return undefined;
    const shortId = shortIdOf(id);
    return shortId === null ? undefined : this.byShortId.get(shortId);
  }

  /** One status poll: answers the current state, then advances it (`pollsPerState` answers per state). */
  pollStatus(job: SimJob, pollsPerState: number): JobState {
    const before = job.state;
    if (!COMPLETED_STATES.has(job.state)) {
      const step = pollsPerState <= 0 ? 2 : Math.min(Math.floor(job.statusPolls / pollsPerState), 2);
      job.state = step === 0 ? 'Inited' : step === 1 ? 'Running' : job.code.includes(FAIL_MARKER) ? 'Failed' : 'Succeed';
    }
    job.statusPolls++;
    if (job.state !== before) this.cfg.onChange?.(job);
    return job.state;
  }

  /** A finished job keeps its final state: Linkis cannot cancel what already ended. */
  kill(job: SimJob): void {
    if (COMPLETED_STATES.has(job.state)) return;
    job.state = 'Cancelled';
    this.cfg.onChange?.(job);
  }

  runningCount(): number {
    let n = 0;
    for (const job of this.jobs.values()) if (!COMPLETED_STATES.has(job.state)) n++;
    return n;
  }

  reset(): void {
    this.jobs.clear();
    this.byShortId.clear();
    this.byTaskId.clear();
    this.groupIndex.clear();
    this.nextTaskId = this.cfg.taskIdStart;
  }
}

/** Progress figures for a state, shaped like Linkis's `progress` answer. */
export function progressOf(job: SimJob): { progress: number; progressInfo: Array<Record<string, unknown>> } {
  const info = (succeed: number, failed: number, running: number) => [
    { id: `${job.shortId}_stage_0`, succeedTasks: succeed, failedTasks: failed, runningTasks: running, totalTasks: 10 },
  ];
  switch (job.state) {
    case 'Inited':
    case 'WaitForRetry':
    case 'Scheduled':
      // Linkis drops progressInfo entries with totalTasks 0, so a queued job has none.
      return { progress: 0, progressInfo: [] };
    case 'Running':
      return { progress: 0.5, progressInfo: info(5, 0, 5) };
    case 'Succeed':
      return { progress: 1, progressInfo: info(10, 0, 0) };
    case 'Failed':
      return { progress: 1, progressInfo: info(5, 5, 0) };
    case 'Cancelled':
    case 'Timeout':
      // Linkis sets progress to 1.0 when it kills a job.
      return { progress: 1, progressInfo: info(0, 0, 0) };
  }
}
