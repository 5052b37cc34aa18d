/**
 * gateway.metrics.port: /metrics, /health and /ready on a listener of their own. The admin listener
 * serves them too, but it runs only when admin.properties names an admin: monitoring must not depend on
 * someone having configured admin credentials, nor need the admin API reachable from Prometheus's host.
 * Nothing else is served here. With several workers each listens on the same port (node:cluster), and
 * /metrics still shows the whole gateway (ops-routes.ts).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'winston';
import { errorEnvelope, sendEnvelope } from '../linkis/envelope';
import { GatewayError } from '../linkis/errors';
import { registerOpsRoutes, type OpsDeps } from './ops-routes';

export interface MetricsListener {
  port: number;
  close(): Promise<void>;
}

/** Rejects with a message naming the keys when the address cannot be listened on. */
export async function startMetricsListener(opts: { host: string; port: number; ops: OpsDeps; logger: Logger }): Promise<MetricsListener> {
  const { host, logger } = opts;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  registerOpsRoutes(app, opts.ops);
  // The path is not echoed: a token pasted into a URL must not come back or be logged.
  app.use((_req: Request, res: Response) => sendEnvelope(res, 404, errorEnvelope('/', new GatewayError('NOT_FOUND', 'this listener serves /metrics, /health and /ready only'))));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    logger.error('metrics request failed', { event: 'metrics.error', error: err instanceof Error ? err.message : String(err) });
    sendEnvelope(res, 500, errorEnvelope('/metrics', new GatewayError('INTERNAL')));
  });
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, app);
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(opts.port, host, ok)).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`the metrics listener cannot listen on ${host}:${opts.port} (${err.code ?? err.message}); see gateway.metrics.host and gateway.metrics.port`);
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  logger.info('metrics listening', { event: 'metrics.listening', url: `http://${shown}:${port}/metrics`, port });
  return {
    port,
    close: () => new Promise<void>((ok) => server.close(() => ok()).closeAllConnections()),
  };
}
