/**
 * Which Entrance call a request is, and where it must go. A pure function of method and URL: the
 * data plane acts on the result, so routing policy is testable as a table.
 */
import { isInstanceName, parseJobIdSegment } from './execid';
import type { ErrorCode } from './errors';

export const ENTRANCE_PREFIX = '/api/rest_j/v1/entrance/';

/** Route kinds double as the metrics label: a small fixed set, never user data. */
export type RouteKind = 'submit' | 'status' | 'log' | 'progress' | 'kill' | 'other';

export type Route =
  /** A new job: balanced over healthy instances; the body is rewritten to the effective user. */
  | { type: 'submit'; kind: 'submit'; path: string; action: 'execute' | 'submit' }
  /** A follow-up for a job: only ever to the instance named in its execID. */
  | { type: 'followup'; kind: RouteKind; path: string; action: string; instance: string; execId: string }
  /** A follow-up by numeric taskID: no instance is named, the Entrance resolves it from job history. */
  | { type: 'task'; kind: RouteKind; path: string; action: string; taskId: string }
  /** `operation/...?instance=host:port`: to that instance. */
  | { type: 'operation'; kind: 'other'; path: string; instance: string }
  | { type: 'reject'; path: string; code: ErrorCode; detail?: string };

const ACTION = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
const KIND_OF_ACTION: Record<string, RouteKind> = {
  status: 'status',
  log: 'log',
  progress: 'progress',
  progressWithResource: 'progress',
  kill: 'kill',
  killJobs: 'kill',
};

/** `url` is the raw request target (path and query) as the client sent it. */
export function classifyEntranceRequest(method: string, url: string): Route {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (!path.startsWith(ENTRANCE_PREFIX)) return { type: 'reject', path, code: 'NOT_FOUND' };
  const rest = path.slice(ENTRANCE_PREFIX.length);
  const segments = rest.split('/');
  // Empty and dot segments would be normalised differently by different servers; no Entrance path has them.
  if (segments.some((s) => s === '' || s === '.' || s === '..' || /^(?:%2e|\.){1,2}$/i.test(s))) {
    return { type: 'reject', path, code: 'BAD_PATH', detail: 'empty or dot segments are not allowed' };
  }
  if (segments.length === 1 && (segments[0] === 'execute' || segments[0] === 'submit')) {
    if (method !== 'POST') return { type: 'reject', path, code: 'METHOD_NOT_ALLOWED', detail: `${segments[0]} takes POST` };
    return { type: 'submit', kind: 'submit', path, action: segments[0] };
  }
  if (segments[0] === 'operation') {
    const instance = q === -1 ? null : new URLSearchParams(url.slice(q + 1)).get('instance');
    if (!instance) return { type: 'reject', path, code: 'INSTANCE_PARAM_MISSING' };
    if (!isInstanceName(instance)) return { type: 'reject', path, code: 'INSTANCE_PARAM_MISSING', detail: `"${printable(instance)}" is not host:port` };
    return { type: 'operation', kind: 'other', path, instance };
  }
  if (segments.length !== 2) return { type: 'reject', path, code: 'NOT_FOUND' };
  const [idSegment, action] = segments;
  if (!ACTION.test(action)) return { type: 'reject', path, code: 'NOT_FOUND', detail: `unknown action "${printable(action)}"` };
  // Own keys only: an action named `constructor` or `toString` must not pick up Object.prototype members.
  const kind = Object.hasOwn(KIND_OF_ACTION, action) ? KIND_OF_ACTION[action] : 'other';
  const parsed = parseJobIdSegment(idSegment);
  if (!parsed.ok) return { type: 'reject', path, code: 'EXECID_MALFORMED', detail: parsed.reason };
  if (parsed.kind === 'taskId') return { type: 'task', kind, path, action, taskId: parsed.taskId };
  return { type: 'followup', kind, path, action, instance: parsed.instance, execId: parsed.execId };
}

/** Echoing client input into a message: keep it short and free of control characters. */
export function printable(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 80)}…` : clean;
}
