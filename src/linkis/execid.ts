/**
 * The execID codec (LINKIS.md §1). An execID names the Entrance instance that holds a job; the gateway
 * reads it to send every follow-up to that instance and nowhere else. Parsing is a pure function that
 * returns a result for any input: a follow-up with an id we cannot read is refused, never guessed at.
 */

export type ParsedJobId =
  | { ok: true; kind: 'execId'; format: '1.x'; app: string; instance: string; instances: string[]; shortId: string; execId: string }
  | { ok: true; kind: 'execId'; format: '0.x'; creator: string; app: string; instance: string; instances: string[]; shortId: string; execId: string }
  | { ok: true; kind: 'taskId'; taskId: string }
  | { ok: false; reason: string };

const MAX_ID_LENGTH = 512;
const PREFIX_1X = 'exec_id';
// A host is a DNS name or IPv4 (underscores do occur in the wild), or a bracketed IPv6 literal.
const HOST_PORT = /^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})$/;
// Short ids are `creator_user_engineType_index` (1.x) or `creator_user_index` (0.x): always `_<digits>` last.
const SHORT_ID = /^[^\s/]+_[0-9]+$/;

/** A well-formed `host:port` with a port in range. */
export function isInstanceName(s: string): boolean {
  const m = HOST_PORT.exec(s);
  if (!m) return false;
  const port = Number(m[1]);
  return port >= 1 && port <= 65535;
}

/** Parses the execID path segment exactly as it appears in the URL (percent-encoded at most once). */
export function parseJobIdSegment(segment: string): ParsedJobId {
  if (segment.length === 0) return fail('the id is empty');
  if (segment.length > MAX_ID_LENGTH * 3) return fail('the id is too long');
  let id: string;
  try {
    id = decodeURIComponent(segment);
  } catch {
    return fail('the id is not valid percent-encoding');
  }
  return parseJobId(id);
}

/** Parses a decoded execID or numeric taskID. */
export function parseJobId(id: string): ParsedJobId {
  if (id.length === 0) return fail('the id is empty');
  if (id.length > MAX_ID_LENGTH) return fail(`the id is longer than ${MAX_ID_LENGTH} characters`);
  // Control characters, '%' (double encoding), '/' and whitespace never occur in a real execID.
  if (/[\u0000-\u0020\u007f%/\\?#]/.test(id)) return fail('the id contains characters an execID never has');
  if (/^[0-9]{1,19}$/.test(id)) return { ok: true, kind: 'taskId', taskId: id };
  if (id.startsWith(PREFIX_1X)) return parse1x(id);
  if (/^[0-9]{6}/.test(id)) return parse0x(id);
  return fail('the id is neither an execID (1.x "exec_id…" or 0.x) nor a numeric taskID');
}

function parse1x(id: string): ParsedJobId {
  const head = id.slice(PREFIX_1X.length, PREFIX_1X.length + 6);
  if (!/^[0-9]{6}$/.test(head)) return fail('a 1.x execID must have two 3-digit lengths after "exec_id"');
  const appLen = Number(head.slice(0, 3));
  const instLen = Number(head.slice(3));
  const start = PREFIX_1X.length + 6;
  if (appLen === 0 || instLen === 0) return fail('a 1.x execID needs a non-empty application and instance');
  if (start + appLen + instLen >= id.length) return fail('the lengths in the execID run past its end');
  const app = id.slice(start, start + appLen);
  const joined = id.slice(start + appLen, start + appLen + instLen);
  const shortId = id.slice(start + appLen + instLen);
  const instances = splitInstances(joined);
  if (!instances) return fail(`the instance field "${joined}" is not host:port[_host:port…]`);
  if (!SHORT_ID.test(shortId)) return fail('the short id after the instance is not creator_user_…_index');
  return { ok: true, kind: 'execId', format: '1.x', app, instance: instances[0], instances, shortId, execId: id };
}

function parse0x(id: string): ParsedJobId {
  const creatorLen = Number(id.slice(0, 2));
  const appLen = Number(id.slice(2, 4));
  const instLen = Number(id.slice(4, 6));
  if (creatorLen === 0 || appLen === 0 || instLen === 0) return fail('a 0.x execID needs non-empty creator, application and instance');
  const end = 6 + creatorLen + appLen + instLen;
  if (end >= id.length) return fail('the lengths in the execID run past its end');
  const creator = id.slice(6, 6 + creatorLen);
  const app = id.slice(6 + creatorLen, 6 + creatorLen + appLen);
  const instance = id.slice(6 + creatorLen + appLen, end);
  const shortId = id.slice(end);
  if (!isInstanceName(instance)) return fail(`the instance field "${instance}" is not host:port`);
  // The 0.x short id starts with the creator: a length that does not match the strings shows up here.
  if (!shortId.startsWith(`${creator}_`) || !SHORT_ID.test(shortId)) {
    return fail('the short id does not start with the creator: the lengths do not match the strings');
  }
  return { ok: true, kind: 'execId', format: '0.x', creator, app, instance, instances: [instance], shortId, execId: id };
}

/**
 * 1.x joins several instances with '_', and host names may themselves hold '_'. Each instance ends at
 * its ":port", so split after every ":<digits>" that is followed by '_' or the end.
 */
function splitInstances(joined: string): string[] | null {
  const out: string[] = [];
  const re = /(.+?:[0-9]{1,5})(?:_|$)/y;
  let pos = 0;
  while (pos < joined.length) {
    re.lastIndex = pos;
    const m = re.exec(joined);
    if (!m || !isInstanceName(m[1])) return null;
    out.push(m[1]);
    pos = re.lastIndex;
  }
  return out.length ? out : null;
}

function pad(n: number, width: number): string | null {
  const s = String(n);
  return s.length > width ? null : s.padStart(width, '0');
}

/** Builds a 1.x execID (ZuulEntranceUtils.generateExecID). Null when a part is too long for its length field. */
export function encodeExecId1x(app: string, instances: string[], shortId: string): string | null {
  const joined = instances.join('_');
  const a = pad(app.length, 3);
  const i = pad(joined.length, 3);
  return a && i ? `${PREFIX_1X}${a}${i}${app}${joined}${shortId}` : null;
}

/** Builds a 0.x execID (the seed's format). Null when a part is too long for its 2-digit length field. */
export function encodeExecId0x(creator: string, app: string, instance: string, shortId: string): string | null {
  const c = pad(creator.length, 2);
  const a = pad(app.length, 2);
  const i = pad(instance.length, 2);
  return c && a && i ? `${c}${a}${i}${creator}${app}${instance}${shortId}` : null;
}

function fail(reason: string): ParsedJobId {
  return { ok: false, reason };
}
