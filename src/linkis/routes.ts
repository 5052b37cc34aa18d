/**
 * Which Linkis call a request is, and where it must go. A pure function of method and URL: the data
 * plane acts on the result, so routing policy is testable as a table. Linkis's gateway picks the service
 * by the first path segment after `/api/rest_j/v1/` (GatewayParser's DefaultGatewayParser): `entrance`
 * goes to an Entrance, `user` is the gateway's own login API, the publicservice list to publicservice.
 */
import { isInstanceName, parseJobIdSegment } from './execid';
import type { ErrorCode } from './errors';

export const API_PREFIX = '/api/rest_j/v1/';
export const ENTRANCE_PREFIX = '/api/rest_j/v1/entrance/';
const USER_PREFIX = '/api/rest_j/v1/user/';

/**
 * First path segments Linkis's gateway sends to linkis-ps-publicservice: the default of
 * `wds.linkis.gateway.conf.publicservice.list` (RPCConfiguration.PUBLIC_SERVICE_LIST, 1.8.0), compared
 * case-sensitively as Linkis does.
 */
export const PUBLIC_SERVICE_PREFIXES: readonly string[] = [
  'cs', 'contextservice', 'data-source-manager', 'metadataQuery', 'metadatamanager', 'query', 'jobhistory', 'application',
  'configuration', 'filesystem', 'udf', 'variable', 'microservice', 'errorcode', 'bml', 'datasource', 'basedata-manager',
];

/** The gateway's own user API (UserRestful): logins that give a session, and logout. */
export type SessionAction = 'login' | 'logout' | 'proxy';

/** Route kinds double as the metrics label: a small fixed set, never user data. */
export type RouteKind = 'submit' | 'status' | 'log' | 'progress' | 'kill' | 'other' | 'session' | 'jobhistory' | 'filesystem' | 'publicservice';

export type Route =
  /** A new job: balanced over healthy instances; the body is rewritten to the effective user. */
  | { type: 'submit'; kind: 'submit'; path: string; action: 'execute' | 'submit' }
  /** A follow-up for a job: only ever to the instance named in its execID. */
  | { type: 'followup'; kind: RouteKind; path: string; action: string; instance: string; execId: string; /** The execID's short id (`<creator>_<user>_…_<index>`); none when a taskID was resolved. */ shortId?: string }
  /** A follow-up by numeric taskID: the job history names the instance (looked up as the user). */
  | { type: 'task'; kind: RouteKind; path: string; action: string; taskId: string }
  /** user/login, user/proxy, user/logout: answered by the gateway itself. */
  | { type: 'session'; kind: 'session'; path: string; action: SessionAction }
  /** A linkis-ps-publicservice call (job history, result files, logs, ...): balanced over its instances. */
  | { type: 'publicservice'; kind: 'jobhistory' | 'filesystem' | 'publicservice'; path: string; prefix: string }
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

const SESSION_ACTIONS: ReadonlySet<string> = new Set<SessionAction>(['login', 'logout', 'proxy']);

// Empty and dot segments would be normalised differently by different servers; no Linkis path has them.
function hasBadSegment(segments: string[]): boolean {
  return segments.some((s) => s === '' || s === '.' || s === '..' || /^(?:%2e|\.){1,2}$/i.test(s));
}

/**
 * Path parameters (`;x`) and backslashes, raw or percent-encoded: servlet containers strip `;params` before
 * normalising (`operation/..;/submit` becomes `/entrance/submit`) and some treat `\` as `/`, so the path a
 * container routes would not be the one the gateway classified. No Linkis path or execID contains either.
 */
const PATH_TRICK = /;|\\|%3b|%5c/i;
const PATH_TRICK_DETAIL = '";" and "\\" are not allowed in the path';

/**
 * The Entrance's `operation/...` calls (EntranceMetricRestfulApi, EntranceLabelRestfulApi,
 * EntranceConsumerRestfulApi, 1.8.0) that only read. `label/markoffline` and `label/backonline` take an
 * Entrance out of service without any admin check in Linkis, and `label/update` and `consumer/kill` change
 * it: they belong to the operator on the Entrance itself, never to a user through the gateway.
 */
const OPERATIONS: ReadonlySet<string> = new Set(['metrics/runningtask', 'metrics/taskinfo', 'label/isOnline', 'consumer/info']);

/**
 * Every Linkis call the data plane serves. `url` is the raw request target (path and query). Linkis's
 * clients use GET and POST only; any other method is refused before it can reach a service (a servlet
 * container answers TRACE by echoing the request, cookies included).
 */
export function classifyRequest(method: string, url: string): Route {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path.startsWith(ENTRANCE_PREFIX)) return classifyEntranceRequest(method, url);
  if (!path.startsWith(API_PREFIX)) return { type: 'reject', path, code: 'NOT_FOUND' };
  const segments = path.slice(API_PREFIX.length).split('/');
  if (hasBadSegment(segments)) return { type: 'reject', path, code: 'BAD_PATH', detail: 'empty or dot segments are not allowed' };
  if (PATH_TRICK.test(path)) return { type: 'reject', path, code: 'BAD_PATH', detail: PATH_TRICK_DETAIL };
  if (path.startsWith(USER_PREFIX)) {
    const action = segments[1]!;
    if (segments.length !== 2 || !SESSION_ACTIONS.has(action)) return { type: 'reject', path, code: 'NOT_FOUND', detail: 'the gateway serves user/login, user/proxy and user/logout' };
    return { type: 'session', kind: 'session', path, action: action as SessionAction };
  }
  const prefix = segments[0]!;
  if (!PUBLIC_SERVICE_PREFIXES.includes(prefix) || segments.length < 2) return { type: 'reject', path, code: 'NOT_FOUND' };
  if (method !== 'GET' && method !== 'POST') return { type: 'reject', path, code: 'METHOD_NOT_ALLOWED', detail: 'Linkis services take GET and POST' };
  // FsRestfulApi's owner check (a `contains` test) passes `<own dir>/../<other's>`, and its `..` check looks at `path` only.
  if (prefix === 'filesystem' && q !== -1 && hasDotDotValue(url.slice(q + 1))) return { type: 'reject', path, code: 'BAD_PATH', detail: 'a ".." segment in a query parameter' };
  const kind = prefix === 'jobhistory' || prefix === 'filesystem' ? prefix : 'publicservice';
  return { type: 'publicservice', kind, path, prefix };
}

const DOT_DOT = /(?:^|[/\\])\.\.(?:[/\\]|$)/;

/** A query parameter (name or value, decoded as Spring decodes them) with a `..` path segment. */
function hasDotDotValue(query: string): boolean {
  if (!query.includes('.') && !/%2e/i.test(query)) return false;
  for (const [name, value] of new URLSearchParams(query)) if (DOT_DOT.test(value) || DOT_DOT.test(name)) return true;
  return false;
}

/** An Entrance call (`url` starts with ENTRANCE_PREFIX). */
export function classifyEntranceRequest(method: string, url: string): Route {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (!path.startsWith(ENTRANCE_PREFIX)) return { type: 'reject', path, code: 'NOT_FOUND' };
  const rest = path.slice(ENTRANCE_PREFIX.length);
  const segments = rest.split('/');
  if (hasBadSegment(segments)) {
    return { type: 'reject', path, code: 'BAD_PATH', detail: 'empty or dot segments are not allowed' };
  }
  if (PATH_TRICK.test(path)) return { type: 'reject', path, code: 'BAD_PATH', detail: PATH_TRICK_DETAIL };
  if (method !== 'GET' && method !== 'POST') return { type: 'reject', path, code: 'METHOD_NOT_ALLOWED', detail: 'Entrance calls take GET or POST' };
  if (segments.length === 1 && (segments[0] === 'execute' || segments[0] === 'submit')) {
    if (method !== 'POST') return { type: 'reject', path, code: 'METHOD_NOT_ALLOWED', detail: `${segments[0]} takes POST` };
    return { type: 'submit', kind: 'submit', path, action: segments[0] };
  }
  if (segments[0] === 'operation') {
    const operation = segments.slice(1).join('/');
    if (!OPERATIONS.has(operation)) return { type: 'reject', path, code: 'NOT_FOUND', detail: `the gateway serves operation/${[...OPERATIONS].join(', operation/')}` };
    if (method !== 'GET') return { type: 'reject', path, code: 'METHOD_NOT_ALLOWED', detail: `operation/${operation} takes GET` };
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
  return { type: 'followup', kind, path, action, instance: parsed.instance, execId: parsed.execId, shortId: parsed.shortId };
}

/** Echoing client input into a message: keep it short and free of control characters. */
export function printable(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 80)}…` : clean;
}
