/**
 * What the gateway reads from the job history to route a taskID follow-up, and the `jobInstanceKey`
 * header it writes for the Entrance, as Linkis's own gateway does (EntranceRequestGatewayParser, 1.5-1.8).
 * Pure: the data plane does the HTTP.
 */

/** The request header an Entrance reads the JobInstance from (`linkis.server.entrance.header.key`). */
export const JOB_INSTANCE_HEADER = 'jobinstancekey';

export interface TaskRecord {
  status: string;
  /** The Entrance instance (`host:port`) the job history records for the task; '' when none yet. */
  instance: string;
  /** The Entrance's short job id (`execId` in the answer, `jobReqId` in JobInstance). */
  jobReqId: string;
  createTimestamp: number;
}

export type TaskAnswer = { ok: true; task: TaskRecord } | { ok: false; notFound: boolean; reason: string };

/**
 * Reads `GET jobhistory/{taskID}/get`'s envelope. Linkis answers "not found" and "not yours" alike
 * (status 1), so both mean: this user has no such task.
 */
export function readTaskAnswer(answer: unknown): TaskAnswer {
  if (answer === null || typeof answer !== 'object') return { ok: false, notFound: false, reason: 'the answer is not a Linkis envelope' };
  const a = answer as { status?: unknown; data?: { task?: Record<string, unknown> } };
  if (typeof a.status !== 'number') return { ok: false, notFound: false, reason: 'the answer is not a Linkis envelope' };
  if (a.status !== 0) return { ok: false, notFound: true, reason: 'not in this user\'s job history' };
  const t = a.data?.task;
  if (!t || typeof t !== 'object') return { ok: false, notFound: false, reason: 'the answer has no data.task' };
  const instance = typeof t.instance === 'string' ? t.instance.split(';')[0]!.trim() : '';
  const created = typeof t.createdTime === 'number' ? t.createdTime : Number(t.createdTime);
  return {
    ok: true,
    task: {
      status: typeof t.status === 'string' ? t.status : '',
      instance,
      jobReqId: typeof t.execId === 'string' ? t.execId : '',
      createTimestamp: Number.isFinite(created) ? created : 0,
    },
  };
}

/**
 * JobInstance as Gson writes it (field order status, instances, jobReqId, createTimestamp,
 * instanceRegistryTimestamp). An Entrance compares the registry timestamp with createTimestamp to tell a
 * failed-over job (registered after the job was created: status answers Inited, kill only marks the job
 * Cancelled in the history). 0 for configured instances, what Linkis 1.8.0's gateway sends for a live
 * instance (SpringRPCServerLoader never sets it); with discovery, the instance's registration time.
 */
export function jobInstanceJson(task: TaskRecord, registryTimestamp = 0): string {
  return JSON.stringify({ status: task.status, instances: task.instance, jobReqId: task.jobReqId, createTimestamp: task.createTimestamp, instanceRegistryTimestamp: registryTimestamp });
}
