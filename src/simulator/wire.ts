/**
 * Bytes on the wire as a Linkis Entrance writes them: the envelope (Message.scala), its HTTP status, and
 * the cookies SecurityFilter reads. Kept apart from the gateway's own envelope code on purpose: the
 * simulator stands for the real Entrance and must not change when the gateway's code does. Plain node:http
 * rather than Express: fault modes need the exact bytes (half an answer, then a cut socket).
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/** Every Linkis REST path starts with this (ServerConfiguration.BDP_SERVER_RESTFUL_URI, version v1). */
export const REST_PREFIX = '/api/rest_j/v1/';

export const API_PREFIX = `${REST_PREFIX}entrance/`;

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
  /** Default CONTENT_TYPE_JSON; Spring's own error pages say `application/json`. */
  contentType?: string;
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
 * Spring Boot's error JSON, for what fails before a Linkis handler runs (a request parameter that does not
 * convert to its Integer/Long type): Linkis registers no handler for it, so no envelope.
 */
export function springBadRequest(path: string): Answer {
  const timestamp = new Date().toISOString().replace('Z', '+00:00');
  return { httpStatus: 400, contentType: 'application/json', body: JSON.stringify({ timestamp, status: 400, error: 'Bad Request', path }) };
}

/** LinkisException's ip, port and serviceKind: every error map (`data.errorMsg`) names the service that failed. */
export interface ServiceIdentity {
  ip: string;
  port: number;
  serviceKind: string;
}

function errorMap(code: number, desc: string, who: ServiceIdentity): Record<string, unknown> {
  // ExceptionLevel.ERROR is 2 (linkis-common ExceptionLevel.java).
  return { level: 2, errCode: code, desc, ip: who.ip, port: who.port, serviceKind: who.serviceKind };
}

/**
 * linkis-module's catchIt for an exception that is not a Linkis ErrorException (an NPE, an IOException):
 * the stray `s` is in Linkis's literal, and `rootCause` is ExceptionUtils.getRootCauseMessage, i.e.
 * `ShortClassName: message` (an NPE without message gives `NullPointerException: `).
 */
export function exceptionAnswer(method: string, rootCause: string, who: ServiceIdentity): Answer {
  const message = `operation failed(操作失败)s！the reason(原因)：${rootCause}`;
  return error(method, message, { errorMsg: errorMap(0, message, who) });
}

/** catchIt for a Linkis ErrorException (e.g. WorkSpaceException 80010): its code and description. */
export function errorCodeAnswer(method: string, code: number, desc: string, who: ServiceIdentity): Answer {
  return error(method, `error code(错误码): ${code}, error message(错误信息): ${desc}.`, { errorMsg: errorMap(code, desc, who) });
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
export function sendAnswer(res: ServerResponse, answer: Answer, die = false, contentType = answer.contentType ?? CONTENT_TYPE_JSON): void {
  const bytes = Buffer.from(answer.body, 'utf8');
  res.writeHead(answer.httpStatus, { 'content-type': contentType, 'content-length': bytes.length });
  if (!die) {
    res.end(bytes);
    return;
  }
  res.write(bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2))), () => res.destroy());
}
