/**
 * The Linkis answer shape `{method, status, message, data}` (LINKIS.md §3). Pure functions: they shape
 * bytes, they never write to a socket. Key order matches Linkis's Message serialisation, since some
 * clients compare answers textually.
 */
import type { ServerResponse } from 'node:http';
import { GatewayError } from './errors';
import { redactUpstreamText } from './redact';

export interface Envelope {
  method: string;
  status: number;
  message: string;
  data: Record<string, unknown>;
}

/** Linkis's HTTP status for each envelope status (Message.scala). */
const HTTP_FOR_STATUS: Record<number, number> = { [-1]: 401, 0: 200, 1: 400, 2: 412, 3: 403, 4: 206 };

export function httpStatusForEnvelopeStatus(status: number): number {
  return HTTP_FOR_STATUS[status] ?? 400;
}

export function envelopeJson(method: string, status: number, message: string, data: Record<string, unknown> = {}): string {
  return JSON.stringify({ method, status, message, data });
}

/** The envelope for one of the gateway's own errors; `data.errorCode` lets programs branch without parsing text. */
export function errorEnvelope(method: string, err: GatewayError, requestId?: string, extra?: Record<string, unknown>): string {
  const data: Record<string, unknown> = { errorCode: err.code, ...extra };
  if (requestId) data.requestId = requestId;
  return envelopeJson(method, err.status, err.message, data);
}

export function isEnvelope(value: unknown): value is Envelope {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v.status === 'number' && Number.isInteger(v.status) && 'method' in v && 'message' in v;
}

const MAX_QUOTED_BODY = 512;

/**
 * Turns an upstream error answer into an envelope, keeping the upstream HTTP status. An upstream that
 * already answered with an envelope is passed as it is (null here means "send the original bytes").
 * Whatever is quoted from the answer goes through redactUpstreamText: an error page may print the request
 * it got, and that request carried the user's ticket.
 */
export function wrapUpstreamAnswer(method: string, httpStatus: number, contentType: string | undefined, body: string, instance: string, role = 'Entrance', requestId?: string): string | null {
  const isJson = /\bjson\b/i.test(contentType ?? '');
  let parsed: unknown;
  if (isJson || body.trimStart().startsWith('{')) {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  if (isEnvelope(parsed)) return null;
  const upstreamMessage = describeForeignAnswer(parsed, body, contentType);
  const status = httpStatus === 401 ? -1 : httpStatus === 403 ? 3 : 1;
  const data: Record<string, unknown> = { errorCode: 'UPSTREAM_ERROR_ANSWER', upstreamStatus: httpStatus, instance };
  if (requestId) data.requestId = requestId;
  return envelopeJson(method, status, `The ${role} ${instance} answered HTTP ${httpStatus}: ${upstreamMessage}`, data);
}

function describeForeignAnswer(parsed: unknown, body: string, contentType: string | undefined): string {
  if (parsed && typeof parsed === 'object') {
    // Spring Boot's error JSON: {timestamp, status, error, message, path}
    const p = parsed as Record<string, unknown>;
    const parts = [p.error, p.message].filter((x): x is string => typeof x === 'string' && x.length > 0);
    const quoted = parts.length ? redactUpstreamText(parts.join(' - '), MAX_QUOTED_BODY) : '';
    if (quoted) return quoted;
  }
  if (/html/i.test(contentType ?? '') || /^\s*</.test(body)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1] ?? /<h1[^>]*>([^<]*)<\/h1>/i.exec(body)?.[1];
    const quoted = title ? redactUpstreamText(title, MAX_QUOTED_BODY) : '';
    return quoted ? `HTML page "${quoted}"` : 'an HTML page';
  }
  return redactUpstreamText(body, MAX_QUOTED_BODY) || 'an empty body';
}

/** Writes a gateway-made envelope. Safe to call once headers are sent: then the connection is cut instead. */
export function sendEnvelope(res: ServerResponse, httpStatus: number, body: string, headers?: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(httpStatus, {
    'content-type': 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}
