/**
 * Reads request bodies the gateway must see or bound: submissions (rewritten to the effective user) and
 * other POSTs (small control calls such as killJobs). Too large or broken: an envelope error, and the
 * Entrance is never contacted. GET bodies are not read; they stream through untouched.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { parse as parseContentType } from 'content-type';
import { DEFAULTS } from '../control-plane/config-keys';
import { parseSize } from '../control-plane/config-values';
import { GatewayError } from '../linkis/errors';
import { contextOf, timedOut } from './context';
import { rewriteSubmissionBody } from '../linkis/identity';
import type { Middleware } from './pipeline';

/** `gateway.submission.max.bytes` when the caller passes none. */
export const DEFAULT_SUBMISSION_LIMIT_BYTES = parseSize(DEFAULTS['gateway.submission.max.bytes']!)!;

/**
 * `limitBytes` bounds every body; a submission is bounded by the smaller of it and `submissionLimitBytes`
 * (Linkis submissions are kilobytes; what the gateway must scan and splice stays small).
 */
export function createBodyReader(limitBytes: number, submissionLimitBytes = DEFAULT_SUBMISSION_LIMIT_BYTES): Middleware {
  const submissionLimit = Math.min(limitBytes, submissionLimitBytes);
  return (req, _res, next) => {
    const ctx = contextOf(req);
    const route = ctx.route;
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const limit = route?.type === 'submit' ? submissionLimit : limitBytes;
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) return next(tooLarge(limit));
    readLimited(req, limit, (err, raw) => {
      if (err) return next(err);
      if (route?.type !== 'submit') {
        ctx.body = raw;
        return next();
      }
      // Read whole first (bounded), so a refusal never leaves a body unread on a keep-alive connection.
      const unsupported = encodingProblem(req.headers);
      if (unsupported) return next(new GatewayError('BODY_ENCODING_UNSUPPORTED', unsupported));
      // Only the identity fields change; every other byte is forwarded as the client sent it.
      const rewritten = rewriteSubmissionBody(raw!, ctx.user!);
      if (!rewritten.ok) return next(new GatewayError(rewritten.code, rewritten.reason));
      ctx.body = rewritten.body;
      next();
    });
  };
}

/**
 * The gateway edits a submission's bytes as UTF-8 JSON, and the forwarded headers must describe the
 * forwarded body: a compressed body, or one declared in another charset, cannot be edited and forwarded
 * exactly, so it is refused with a reason rather than passed on with headers that no longer match it.
 */
function encodingProblem(headers: IncomingHttpHeaders): string | undefined {
  const encoding = headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') return `Content-Encoding "${encoding.replace(/[^\x20-\x7e]/g, '?').slice(0, 40)}" is not supported; send the body uncompressed`;
  return charsetProblem(headers['content-type'] ?? '');
}

const SEND_UTF8 = 'send the submission as UTF-8 (Content-Type: application/json;charset=UTF-8)';

/**
 * A Content-Type the Entrance would read as UTF-8 whichever way it parses it: no charset, or exactly one
 * `charset` parameter that is UTF-8. Parsers disagree on a repeated parameter (the content-type package
 * keeps the first, Spring the last) and a lenient one finds `charset=` inside a quoted value; so any other
 * mention of "charset" is refused too.
 */
export function charsetProblem(contentType: string): string | undefined {
  const mentions = contentType.match(/charset/gi)?.length ?? 0;
  if (mentions === 0) return undefined;
  let charset: string | undefined;
  try {
    charset = parseContentType(contentType).parameters.charset?.toLowerCase();
  } catch {
    charset = undefined;
  }
  if (mentions > 1 || charset === undefined) return `the Content-Type names a charset more than once or in an unclear place; ${SEND_UTF8}`;
  if (charset !== 'utf-8' && charset !== 'utf8') return `charset "${charset.replace(/[^\x20-\x7e]/g, '?').slice(0, 40)}" is not supported; ${SEND_UTF8}`;
  return undefined;
}

// The rest of the body stays unread; the error answer closes the connection (see gateway.ts).
function tooLarge(limit: number): GatewayError {
  return new GatewayError('BODY_TOO_LARGE', `the limit is ${limit} bytes`);
}

export function readLimited(req: IncomingMessage, limit: number, done: (err: GatewayError | null, body?: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (err: GatewayError | null, body?: Buffer) => {
    if (finished) return;
    finished = true;
    req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
    done(err, body);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      req.pause();
      finish(tooLarge(limit));
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = () => finish(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
  // A body cut short because Node timed the request out was answered 408 already; say so in the log too.
  const cutShort = () => finish(new GatewayError(timedOut(req.socket) ? 'REQUEST_TIMEOUT' : 'BODY_ABORTED'));
  const onError = cutShort;
  const onAborted = cutShort;
  req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
}
