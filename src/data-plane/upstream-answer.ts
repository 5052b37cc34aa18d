/**
 * What the client gets from an Entrance's answer (the decisions; upstream-dispatch.ts feeds them the
 * status, the raw header pairs and the body chunks undici hands over). Success answers pass through byte
 * for byte. Small ones (up to MAX_READ_BODY, declared or chunked) are read whole first, so an Entrance
 * dying half-way is a 502 envelope rather than a truncated success, and checked to be envelope shaped
 * (see envelopeShaped). Larger ones (logs can be hundreds of megabytes) stream once their first bytes
 * start like an envelope, and are cut before their end if they do not end like one (answer-stream.ts).
 * Error answers are small and are read (bounded) so that a Spring error JSON or an HTML page becomes an
 * envelope, keeping the upstream HTTP status. A success that is not a Linkis answer becomes a 502
 * envelope; an Entrance that dies before the gateway sent anything becomes a 502 too. So does a status
 * that cannot be a final answer (outside 200-599, or 1xx), and 407: it is never handed to writeHead,
 * which throws on some (099, 000) and would pass others (700) on. What is quoted from an upstream body
 * goes through redactUpstreamText (the upstream may echo the request, and with it the user's ticket).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from './context';
import { envelopeJson, errorEnvelope, isEnvelope, sendEnvelope, wrapUpstreamAnswer, type Envelope } from '../linkis/envelope';
import { ERROR_CATALOGUE, GatewayError } from '../linkis/errors';
import { redactUpstreamText } from '../linkis/redact';
import { envelopeShaped, isJsonSpace as isSpace } from './envelope-shape';

/** Answers read whole before anything is sent: error answers (to wrap them) and small successes (to check them). */
export const MAX_READ_BODY = 256 * 1024;
// Hop-by-hop (RFC 9110 §7.6.1), and the request id the gateway sets itself.
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'proxy-authenticate', 'x-request-id']);
/**
 * A Set-Cookie or Set-Cookie2 value that sets Linkis identity anywhere in it: a ticket (any name with
 * "ticket") or the inner-request flag, also after a comma (folded cookies; RFC 2965 lists), which some
 * clients split on. The whole value is dropped: it cannot be split safely (Expires has a comma).
 */
const IDENTITY_COOKIE = /(?:^|[,;])\s*"?[^=,;"]*(?:ticket|dataworkcloud_inner_request)[^=,;]*=/i;

/** How an answer with a final status is taken in: read whole and wrapped, read whole and checked, or streamed after a look at its first bytes. */
export type AnswerMode = 'error' | 'whole' | 'gather' | 'sniff';

export function isFinalStatus(status: number): boolean {
  return Number.isInteger(status) && status >= 200 && status <= 599;
}

/**
 * Whether an upstream status may reach the client. 407 may not: it asks the gateway itself for proxy
 * credentials (with the hop-by-hop Proxy-Authenticate, which is not forwarded), and a client would take it
 * as the gateway's own demand; fetch-based clients even turn it into a network error.
 */
export function isPassableStatus(status: number): boolean {
  return isFinalStatus(status) && status !== 407;
}

export function answerMode(status: number, head: readonly string[]): AnswerMode {
  if (status >= 400) return 'error';
  const declared = headerIn(head, 'content-length');
  if (declared === undefined || !/^[0-9]+$/.test(declared)) return 'gather';
  return Number(declared) <= MAX_READ_BODY ? 'whole' : 'sniff';
}

/**
 * The answer's headers for the client as a flat [name, value, ...] list (writeHead takes it as is, and
 * repeated headers stay repeated): names lowercased as Node's own client gives them, values latin1 as on
 * the wire; hop-by-hop headers, identity cookies and a second Content-Length dropped; the request id added.
 */
export function forwardedHeaders(raw: readonly Buffer[], requestId: string): string[] {
  const out: string[] = [];
  let length = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    if (NOT_FORWARDED.has(name)) continue;
    const value = raw[i + 1]!.toString('latin1');
    // The client must never hold a ticket the gateway minted: that would be a way around the gateway.
    if ((name === 'set-cookie' || name === 'set-cookie2') && IDENTITY_COOKIE.test(value)) continue;
    if (name === 'content-length') {
      if (length) continue;
      length = true;
    }
    out.push(name, value);
  }
  out.push('x-request-id', requestId);
  return out;
}

/** The first value of a (lowercase) header in a flat list. */
export function headerIn(head: readonly string[], name: string): string | undefined {
  for (let i = 0; i < head.length; i += 2) if (head[i] === name) return head[i + 1];
  return undefined;
}

/** The first non-space byte of the chunks is `{` (or there is none yet). */
export function startsLikeEnvelope(chunks: readonly Buffer[]): boolean {
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) if (!isSpace(chunk[i]!)) return chunk[i] === 0x7b;
  }
  return true;
}

/**
 * A small success read whole: checked, then sent as it came. A submission's answer teaches the task cache
 * (ctx.answerTap), so it is parsed; any other is checked by envelopeShaped, without building objects.
 */
export function sendWholeSuccess(res: ServerResponse, ctx: RequestContext, req: IncomingMessage, status: number, head: string[], body: Buffer): void {
  if (res.headersSent || res.destroyed) return;
  if (ctx.answerTap) {
    const envelope = parsedEnvelope(body);
    if (!envelope) return sendBadBody(res, ctx, req, status, body);
    ctx.answerTap(envelope);
  } else if (!envelopeShaped(body)) return sendBadBody(res, ctx, req, status, body);
  res.writeHead(status, head);
  res.end(body);
}

/** An error answer read whole (bounded): an envelope passes as it is, anything else is wrapped into one. */
export function sendErrorAnswer(res: ServerResponse, ctx: RequestContext, req: IncomingMessage, status: number, head: string[], body: Buffer): void {
  if (res.headersSent || res.destroyed) return;
  const wrapped = wrapUpstreamAnswer(pathOf(req), status, headerIn(head, 'content-type'), body.toString('utf8'), ctx.upstream!.name, ctx.upstream!.role, ctx.id);
  if (wrapped === null) {
    res.writeHead(status, head);
    res.end(body);
  } else {
    ctx.envelopeStatus = JSON.parse(wrapped).status;
    sendEnvelope(res, status, wrapped, { 'x-request-id': ctx.id });
  }
}

export function sendBadBody(res: ServerResponse, ctx: RequestContext, req: IncomingMessage, status: number, body: Buffer): void {
  const sample = redactUpstreamText(body.toString('utf8'), 200);
  const what = `answered HTTP ${status} with something that is not a Linkis answer${sample ? `: ${sample}` : ' (an empty body)'}`;
  sendBadAnswer(res, ctx, req, status, what);
}

/** Nothing of the answer is used (the caller closes the upstream connection: an upstream speaking such HTTP is not reused). */
export function sendBadStatus(res: ServerResponse, ctx: RequestContext, req: IncomingMessage, status: number): void {
  const why = status === 407 ? 'which asks the gateway for proxy credentials' : 'which is not a final status (200-599)';
  sendBadAnswer(res, ctx, req, status, `answered with HTTP status ${status}, ${why}`);
}

function sendBadAnswer(res: ServerResponse, ctx: RequestContext, req: IncomingMessage, status: number, what: string): void {
  const { http, status: envelopeStatus } = ERROR_CATALOGUE.UPSTREAM_BAD_ANSWER;
  ctx.envelopeStatus = envelopeStatus;
  ctx.errorCode = 'UPSTREAM_BAD_ANSWER';
  const json = envelopeJson(pathOf(req), envelopeStatus, `The ${ctx.upstream!.role} ${ctx.upstream!.name} ${what}`, {
    errorCode: 'UPSTREAM_BAD_ANSWER',
    upstreamStatus: status,
    instance: ctx.upstream!.name,
    requestId: ctx.id,
  });
  sendEnvelope(res, http, json, { 'x-request-id': ctx.id });
}

/** The Entrance died mid-answer before the gateway sent anything: say so with an envelope. */
export function sendUpstreamReset(res: ServerResponse, ctx: RequestContext, req: IncomingMessage): void {
  const err = new GatewayError('UPSTREAM_RESET', ctx.upstream!.name, 'reset');
  ctx.envelopeStatus = err.status;
  ctx.errorCode = err.code;
  ctx.failure = 'reset';
  sendEnvelope(res, err.http, errorEnvelope(pathOf(req), err, ctx.id, { instance: ctx.upstream!.name }), { 'x-request-id': ctx.id });
}

/** The answer as an envelope, parsed once: the check and the answer tap share it. */
function parsedEnvelope(body: Buffer): Envelope | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return isEnvelope(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
