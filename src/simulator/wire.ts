/**
 * Bytes on the wire as a Linkis Entrance writes them: the envelope (Message.scala), its HTTP status, and
 * the cookies SecurityFilter reads. Kept apart from the gateway's own envelope code on purpose: the
 * simulator stands for the real Entrance and must not change when the gateway's code does. Plain node:http
 * rather than Express: fault modes need the exact bytes (half an answer, then a cut socket).
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

export const API_PREFIX = '/api/rest_j/v1/entrance/';

/** SecurityFilter's answer when no user can be read (linkis-module SecurityFilter.scala, release 1.8.0). */
export const NOT_LOGGED_IN = 'You are not logged in, please login first!(您尚未登录，请先登录!)';

export const CONTENT_TYPE_JSON = 'application/json;charset=UTF-8';

/** Message.messageToHttpStatus. */
export function httpStatusFor(status: number): number {
  switch (status) {
    case -1:
      return 401;
    case 0:
      return 200;
    case 2:
      return 412;
    case 3:
      return 403;
    case 4:
      return 206;
    default:
      return 400;
  }
}

export interface Answer {
  httpStatus: number;
  body: string;
}

/** An envelope with Linkis's key order (method, status, message, data): some clients compare text. */
export function envelope(method: string, status: number, message: string, data: Record<string, unknown> = {}, httpStatus = httpStatusFor(status)): Answer {
  return { httpStatus, body: JSON.stringify({ method, status, message, data }) };
}

export function ok(method: string, message: string, data: Record<string, unknown>): Answer {
  return envelope(method, 0, message, data);
}

export function error(method: string, message: string, data: Record<string, unknown> = {}): Answer {
  return envelope(method, 1, message, data);
}

/**
 * Cookies in header order, as a servlet container hands them to SecurityFilter; Linkis takes the first
 * cookie of a name, so a duplicate sent later does not override one sent earlier.
 */
export function parseCookies(headers: IncomingHttpHeaders): Array<[string, string]> {
  const raw = headers.cookie;
  if (!raw) return [];
  const out: Array<[string, string]> = [];
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (name) out.push([name, value]);
  }
  return out;
}

export function firstCookie(cookies: Array<[string, string]>, name: string): string | undefined {
  return cookies.find(([n]) => n === name)?.[1];
}

/** Writes a whole answer with a Content-Length; `die` sends half of it and then cuts the connection. */
export function sendAnswer(res: ServerResponse, answer: Answer, die = false, contentType = CONTENT_TYPE_JSON): void {
  const bytes = Buffer.from(answer.body, 'utf8');
  res.writeHead(answer.httpStatus, { 'content-type': contentType, 'content-length': bytes.length });
  if (!die) {
    res.end(bytes);
    return;
  }
  res.write(bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2))), () => res.destroy());
}
