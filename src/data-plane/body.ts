/**
 * Reads request bodies the gateway must see or bound: submissions (rewritten to the effective user) and
 * other POSTs (small control calls such as killJobs). Too large or broken: an envelope error, and the
 * Entrance is never contacted. GET bodies are not read; they stream through untouched.
 */
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../linkis/errors';
import { contextOf, timedOut } from './context';
import { rewriteSubmissionBody } from '../linkis/identity';
import type { Middleware } from './pipeline';

export function createBodyReader(limitBytes: number): Middleware {
  return (req, _res, next) => {
    const ctx = contextOf(req);
    const route = ctx.route;
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limitBytes) return next(tooLarge(limitBytes));
    readLimited(req, limitBytes, (err, raw) => {
      if (err) return next(err);
      if (route?.type !== 'submit') {
        ctx.body = raw;
        return next();
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw!.toString('utf8'));
      } catch (e) {
        return next(new GatewayError('BODY_MALFORMED', (e as Error).message));
      }
      const rewritten = rewriteSubmissionBody(parsed, ctx.user!);
      if (!rewritten.ok) return next(new GatewayError(rewritten.otherUser !== undefined ? 'EXECUTE_USER_MISMATCH' : 'BODY_INVALID', rewritten.reason));
      try {
        ctx.body = Buffer.from(JSON.stringify(rewritten.body));
      } catch {
        // JSON.parse accepts nesting that JSON.stringify (recursive) cannot write back: a client error, not a crash.
        return next(new GatewayError('BODY_INVALID', 'the body is nested too deeply'));
      }
      next();
    });
  };
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
