import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'winston';
import { errorEnvelope, sendEnvelope } from '../linkis/envelope';
import { GatewayError } from '../linkis/errors';
import { contextOf } from './context';

/** The data plane's one error handler: every refusal and failure becomes an envelope with the request id. */
export function createErrorResponder(logger: Logger, securityHeaders: Readonly<Record<string, string>>): (err: unknown, req: IncomingMessage, res: ServerResponse) => void {
  return (err, req, res) => {
    const ctx = contextOf(req);
    let gwErr: GatewayError;
    if (err instanceof GatewayError) gwErr = err;
    else {
      gwErr = new GatewayError('INTERNAL', undefined, undefined, { cause: err });
      logger.error('unexpected error in the data plane', { requestId: ctx.id, error: (err as Error)?.stack ?? String(err) });
    }
    ctx.envelopeStatus = gwErr.status;
    ctx.errorCode = gwErr.code;
    const headers: Record<string, string> = { ...securityHeaders, 'x-request-id': ctx.id };
    // The rest of an oversized body is never read; closing is cheaper than draining it.
    if (gwErr.code === 'BODY_TOO_LARGE') headers.connection = 'close';
    const path = ctx.route?.path ?? (req.url ?? '/').split('?')[0];
    const extra = gwErr.code === 'INSTANCE_UNKNOWN' || gwErr.failure ? { instance: ctx.upstream?.name ?? gwErr.detail } : undefined;
    sendEnvelope(res, gwErr.http, errorEnvelope(path, gwErr, ctx.id, extra), headers);
  };
}
