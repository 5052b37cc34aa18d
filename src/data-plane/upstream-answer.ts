/**
 * What the client gets from an Entrance's answer. Success answers pass through byte for byte; large or
 * chunked ones (logs can be hundreds of megabytes) stream unbuffered. Small successes with a declared
 * length are read whole and checked to be an envelope first: a body that only starts like JSON is not a
 * Linkis answer. Error answers are small and are read (bounded) so that a Spring error JSON or an HTML
 * page becomes an envelope, keeping the upstream HTTP status. A success that is not a Linkis answer
 * becomes a 502 envelope; an Entrance that dies before the gateway sent anything becomes a 502 too.
 * So does a status that cannot be a final answer (outside 200-599, or 1xx): it is never handed to writeHead,
 * which throws on some (099, 000) and would pass others (700) on. What is quoted from an upstream body goes
 * through redactUpstreamText (the upstream may echo the request, and with it the user's ticket).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { RequestContext } from './context';
import { envelopeJson, errorEnvelope, isEnvelope, sendEnvelope, wrapUpstreamAnswer, type Envelope } from '../linkis/envelope';
import { ERROR_CATALOGUE, GatewayError } from '../linkis/errors';
import { redactUpstreamText } from '../linkis/redact';

// Answers read whole before anything is sent: error answers (to wrap them) and small successes (to check them).
const MAX_READ_BODY = 256 * 1024;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'proxy-authenticate']);
/**
 * A Set-Cookie or Set-Cookie2 value that sets Linkis identity anywhere in it: a ticket (any name with
 * "ticket") or the inner-request flag, also after a comma (folded cookies; RFC 2965 lists), which some
 * clients split on. The whole value is dropped: it cannot be split safely (Expires has a comma).
 */
const IDENTITY_COOKIE = /(?:^|[,;])\s*"?[^=,;"]*(?:ticket|dataworkcloud_inner_request)[^=,;]*=/i;

export function streamUpstreamAnswer(proxyRes: IncomingMessage, res: ServerResponse, ctx: RequestContext, req: IncomingMessage): void {
  // The Entrance died mid-answer: cut the client's connection too, so it sees a truncated response.
  // If nothing went to the client yet (the answer was being read whole), say so with an envelope.
  let cutOnce = false;
  const cut = () => {
    if (cutOnce) return; // 'aborted' and 'error' both fire: a second call must not destroy the envelope being sent
    cutOnce = true;
    if (!res.headersSent && !res.destroyed) return upstreamReset(res, ctx, req);
    if (!res.writableFinished) res.destroy();
  };
  const status = proxyRes.statusCode ?? 0;
  if (!isFinalStatus(status)) return badStatus(proxyRes, res, ctx, req, status);
  proxyRes.once('aborted', cut).once('error', cut);
  if (status < 400) return streamIfJson(proxyRes, res, ctx, req, status);
  readBounded(proxyRes, (body) => {
    const method = pathOf(req);
    const wrapped = wrapUpstreamAnswer(method, status, proxyRes.headers['content-type'], body.toString('utf8'), ctx.upstream!.name, ctx.upstream!.role, ctx.id);
    if (wrapped === null) {
      res.writeHead(status, forwardedHeaders(proxyRes, ctx));
      res.end(body);
    } else {
      ctx.envelopeStatus = JSON.parse(wrapped).status;
      sendEnvelope(res, status, wrapped, { 'x-request-id': ctx.id });
    }
  });
}

/**
 * A small answer with a declared length is parsed before anything is sent (cheap, and it catches bytes
 * that start like an envelope and then are not JSON). A large or chunked one streams after looking at
 * its first bytes only; an envelope always starts with '{'.
 */
function streamIfJson(proxyRes: IncomingMessage, res: ServerResponse, ctx: RequestContext, req: IncomingMessage, status: number): void {
  const declared = proxyRes.headers['content-length'];
  if (declared !== undefined && /^[0-9]+$/.test(declared) && Number(declared) <= MAX_READ_BODY) {
    readBounded(proxyRes, (body) => {
      if (res.headersSent || res.destroyed) return;
      const envelope = envelopeOf(body);
      if (!envelope) return badAnswer(res, ctx, req, status, body.toString('utf8'));
      ctx.answerTap?.(envelope);
      res.writeHead(status, forwardedHeaders(proxyRes, ctx));
      res.end(body);
    });
    return;
  }
  const onFirst = (chunk: Buffer) => {
    proxyRes.off('data', onFirst).off('end', onEmpty);
    proxyRes.pause();
    if (firstNonSpace(chunk) === 0x7b /* { */) {
      res.writeHead(status, forwardedHeaders(proxyRes, ctx));
      res.write(chunk);
      proxyRes.pipe(res);
      proxyRes.resume();
      return;
    }
    readBounded(proxyRes, (rest) => badAnswer(res, ctx, req, status, Buffer.concat([chunk, rest]).toString('utf8')), chunk.length);
  };
  const onEmpty = () => badAnswer(res, ctx, req, status, '');
  proxyRes.on('data', onFirst).once('end', onEmpty);
}

function isFinalStatus(status: number): boolean {
  return Number.isInteger(status) && status >= 200 && status <= 599;
}

function badAnswer(res: ServerResponse, ctx: RequestContext, req: IncomingMessage, status: number, body: string): void {
  const sample = redactUpstreamText(body, 200);
  const what = `answered HTTP ${status} with something that is not a Linkis answer${sample ? `: ${sample}` : ' (an empty body)'}`;
  sendBadAnswer(res, ctx, req, status, what);
}

/** Nothing of the answer is used: the socket is closed (an upstream speaking such HTTP is not reused). */
function badStatus(proxyRes: IncomingMessage, res: ServerResponse, ctx: RequestContext, req: IncomingMessage, status: number): void {
  proxyRes.on('error', () => undefined);
  proxyRes.destroy();
  sendBadAnswer(res, ctx, req, status, `answered with HTTP status ${status}, which is not a final status (200-599)`);
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

/** The answer as an envelope, parsed once: the check and the answer tap share it. */
function envelopeOf(body: Buffer): Envelope | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return isEnvelope(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

function upstreamReset(res: ServerResponse, ctx: RequestContext, req: IncomingMessage): void {
  const err = new GatewayError('UPSTREAM_RESET', ctx.upstream!.name, 'reset');
  ctx.envelopeStatus = err.status;
  ctx.errorCode = err.code;
  ctx.failure = 'reset';
  sendEnvelope(res, err.http, errorEnvelope(pathOf(req), err, ctx.id, { instance: ctx.upstream!.name }), { 'x-request-id': ctx.id });
}

function readBounded(stream: IncomingMessage, done: (body: Buffer) => void, already = 0): void {
  const chunks: Buffer[] = [];
  let size = already;
  stream.on('data', (c: Buffer) => {
    if (size < MAX_READ_BODY) chunks.push(c.subarray(0, MAX_READ_BODY - size));
    size += c.length;
  });
  stream.once('end', () => done(Buffer.concat(chunks)));
  stream.resume();
}

function firstNonSpace(chunk: Buffer): number {
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i];
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return b;
  }
  return 0x7b; // all whitespace so far: too early to judge, let it stream
}

function forwardedHeaders(proxyRes: IncomingMessage, ctx: RequestContext): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const h = proxyRes.headers;
  for (const name in h) {
    if (HOP_BY_HOP.has(name)) continue;
    if (name === 'set-cookie' || name === 'set-cookie2') {
      // The client must never hold a ticket the gateway minted: that would be a way around the gateway.
      const values = h[name]!;
      const kept = (Array.isArray(values) ? values : [values]).filter((c) => !IDENTITY_COOKIE.test(c));
      if (kept.length) out[name] = name === 'set-cookie' ? kept : kept.join(', ');
      continue;
    }
    out[name] = h[name];
  }
  out['x-request-id'] = ctx.id;
  return out;
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
