/**
 * A minimal runner for express-compatible `(req, res, next)` middleware. The data plane uses it instead
 * of an Express app because Express's per-request work (its router, req/res prototype swaps, query
 * parsing) costs more CPU than proxying itself; the middleware stay express-compatible all the same.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type Next = (err?: unknown) => void;
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
export type ErrorHandler = (err: unknown, req: IncomingMessage, res: ServerResponse) => void;

export function compose(chain: readonly Middleware[], onError: ErrorHandler, onEnd?: Middleware): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    let i = 0;
    const next: Next = (err) => {
      if (err !== undefined && err !== null) return onError(err, req, res);
      const mw = i < chain.length ? chain[i++] : onEnd;
      if (!mw) return;
      try {
        mw(req, res, next);
      } catch (thrown) {
        onError(thrown, req, res);
      }
    };
    next();
  };
}
