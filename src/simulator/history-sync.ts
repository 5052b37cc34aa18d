/**
 * An Entrance's writes to the shared job history, as Linkis's Entrance persists a job: the row at submit,
 * its status and progress on every change, the result location when it runs, and the log file plus (for a
 * success) the result set when it ends. Kept out of the JobStore so that an Entrance without a shared
 * history (benchmarks) pays nothing for it.
 */
import { newLog, newResultSet } from './files';
import type { HistoryRow, JobHistory } from './job-history';
import { COMPLETED_STATES, progressOf, type SimJob } from './jobs';
import { logLine, timestamp } from './log';

/**
 * What a job that fails (code with FAIL_MARKER) reports. 42018 is the code Linkis's error-code table
 * (linkis_dml.sql) gives a syntax error in the user's code; the text is the simulator's own.
 */
export const SIM_FAILURE = { errCode: 42018, errDesc: 'Simulated failure: the code contains the failure marker (sim:fail)' };

/** `sim:rows=N` in a job's code: that many result rows instead of the history's default. */
const ROWS_MARKER = /sim:rows=([0-9]{1,9})/;

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** The job's labels as Linkis stores them: what the body sent (string values), plus codeType from runType. */
function labelsOf(job: SimJob): Record<string, string> {
  const out: Record<string, string> = {};
  if (job.api === 'submit') {
    for (const [k, v] of Object.entries(obj(obj(job.body).labels))) if (typeof v === 'string') out[k] = v;
  } else {
    // A 0.x execute body has no labels: the Entrance builds them from the application names.
    out.engineType = job.engineType;
    out.userCreator = `${job.user}-${job.creator}`;
  }
  if (job.runType && !out.codeType) out.codeType = job.runType;
  return out;
}

function progressText(job: SimJob): string {
  const p = progressOf(job).progress;
  return Number.isInteger(p) ? p.toFixed(1) : String(p);
}

/** The whole log as the Entrance leaves it at logPath, with a last line saying how the job ended. */
function finishedLog(job: SimJob, row: HistoryRow): string[] {
  const lines: string[] = [];
  for (let n = 1; n <= job.logLines; n++) lines.push(logLine(job, n).text);
  const ts = timestamp(job.submittedAt + job.logLines + 1);
  lines.push(
    row.status === 'Failed'
      ? `${ts} ERROR Task ${job.taskID} failed, errCode ${row.errCode}: ${row.errDesc}`
      : `${ts} INFO Task ${job.taskID} with execID ${job.execID} finished with state ${row.status}`,
  );
  return lines;
}

function newRow(history: JobHistory, job: SimJob, instance: string): HistoryRow {
  const body = obj(job.body);
  const base = { taskID: job.taskID, createdTime: job.submittedAt, creator: job.creator, executeUser: job.user };
  return {
    ...base,
    instance,
    jobReqId: job.shortId,
    execID: job.execID,
    submitUser: job.user,
    engineType: job.engineType,
    runType: job.runType ?? '',
    labels: labelsOf(job),
    params: JSON.stringify(obj(body.params)),
    source: JSON.stringify(obj(body.source)),
    executionCode: job.code,
    status: job.state,
    progress: progressText(job),
    logPath: history.logPathFor(base),
    resultLocation: null,
    errCode: null,
    errDesc: null,
    updatedTime: job.submittedAt,
    completedTime: null,
  };
}

/**
 * The JobStore `onChange` hook of an Entrance that shares `history`. `drive` moves a job on as a status
 * poll would; the history calls it when the job's owner reads the job through jobhistory.
 */
export function historyRecorder(history: JobHistory, instance: () => string, drive: (job: SimJob) => void): (job: SimJob) => void {
  return (job) => {
    const row = history.get(job.taskID);
    if (!row) {
      history.insert(newRow(history, job, instance()), { poll: () => drive(job) });
      return;
    }
    const now = Date.now();
    const patch: Partial<HistoryRow> = { status: job.state, progress: progressText(job), updatedTime: now };
    // A job that finishes at once (pollsPerState 0) never reports Running: it still ran, so it has a location.
    // One killed before it ran never got one.
    const ran = job.state === 'Running' || job.state === 'Succeed' || job.state === 'Failed';
    const resultLocation = row.resultLocation ?? (ran ? history.resultLocationFor(row) : null);
    patch.resultLocation = resultLocation;
    if (COMPLETED_STATES.has(job.state)) {
      patch.completedTime = now;
      if (job.state === 'Failed') Object.assign(patch, SIM_FAILURE);
      history.update(job.taskID, patch);
      history.files.put(row.logPath, newLog(row.executeUser, finishedLog(job, row), now));
      if (job.state === 'Succeed' && resultLocation) {
        const marker = ROWS_MARKER.exec(job.code);
        const rows = marker ? Number(marker[1]) : history.resultRows;
        history.files.put(`${resultLocation}/_0.dolphin`, newResultSet(row.executeUser, rows, now));
      }
      return;
    }
    history.update(job.taskID, patch);
  };
}
