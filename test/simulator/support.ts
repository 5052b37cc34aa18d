/**
 * Helpers for the simulated-Linkis tests: requests as a user (ticket + inner-request cookie, the way the
 * gateway speaks to Linkis services) and the bodies clients submit.
 */
import { createTicketCodec } from '../../src/linkis/ticket';

export const codec = createTicketCodec('bdp-for-server');
export const REST = '/api/rest_j/v1';

export function cookieFor(user: string, inner = true, c = codec): string {
  return `linkis_user_session_ticket_id_v1=${c.mint(user)}${inner ? '; dataworkcloud_inner_request=true' : ''}`;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function call(
  base: string,
  method: string,
  path: string,
  opts: { user?: string; cookie?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  const cookie = opts.cookie === undefined ? cookieFor(opts.user ?? 'alice') : opts.cookie;
  if (cookie !== null) headers.cookie = cookie;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** linkis-cli's submit body (research §1.4), for `user` with `creator`. */
export function submitBody(user = 'alice', code = 'show tables', creator = 'IDE') {
  return {
    executeUser: user,
    executionContent: { code, runType: 'sql' },
    params: { variable: {}, configuration: { runtime: {}, startup: {} } },
    labels: { engineType: 'spark-3.2.1', userCreator: `${user}-${creator}`, codeType: 'sql' },
    source: { scriptPath: 'LinkisCli' },
  };
}

/** Submits to an Entrance as `user`; returns the taskID and execID from the answer. */
export async function submit(entranceUrl: string, user = 'alice', code = 'show tables', creator = 'IDE'): Promise<{ taskID: number; execID: string }> {
  const r = await call(entranceUrl, 'POST', `${REST}/entrance/submit`, { user, body: submitBody(user, code, creator) });
  if (r.json?.status !== 0) throw new Error(`submit failed: ${r.text}`);
  return r.json.data;
}

export const enc = encodeURIComponent;

/** `yyyy-MM-dd` in local time, as the simulator (and Linkis) put dates into paths. */
export function localDate(millis: number): string {
  const d = new Date(millis);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
