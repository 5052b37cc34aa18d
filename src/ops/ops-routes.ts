/**
 * The operator endpoints of the admin listener: /metrics (Prometheus text), /health and /ready. They
 * need no admin credential (Prometheus and orchestrators scrape them; the listener is loopback unless
 * configured otherwise) and never touch an Entrance on the request path.
 *
 * With several workers, a scrape reaches one worker; it asks the primary, which gathers every worker's
 * registry (prom-client's AggregatorRegistry), so counters are totals, never one worker's share.
 */
import cluster from 'node:cluster';
import type { Router } from 'express';
import { AggregatorRegistry } from 'prom-client';
import { envelopeJson } from '../linkis/envelope';
import type { GatewayMetrics } from './metrics';

export interface OpsDeps {
  metrics: GatewayMetrics;
  readiness: () => { ready: boolean; checks: Record<string, boolean> };
  /** Asks the cluster primary for all workers' metrics; absent in a single process. */
  clusterMetrics?: () => Promise<string>;
}

export function registerOpsRoutes(app: Router, deps: OpsDeps): void {
  app.get('/metrics', async (_req, res, next) => {
    try {
      const text = deps.clusterMetrics ? await deps.clusterMetrics() : await deps.metrics.render();
      res.type(deps.metrics.registry.contentType).send(text);
    } catch (err) {
      next(err);
    }
  });
  registerHealthRoutes(app, deps.readiness);
}

/** /health (the process runs) and /ready (it can serve): on the public port and the admin listener. */
export function registerHealthRoutes(app: Router, readiness: OpsDeps['readiness']): void {
  app.get('/health', (_req, res) => {
    res.type('application/json;charset=UTF-8').send(envelopeJson('/health', 0, 'alive', {}));
  });
  app.get('/ready', (_req, res) => {
    const r = readiness();
    res.status(r.ready ? 200 : 503).type('application/json;charset=UTF-8').send(envelopeJson('/ready', r.ready ? 0 : 1, r.ready ? 'ready' : 'not ready', r.checks));
  });
}

const ASK = 'linkis-gateway:metrics?';
const ANSWER = 'linkis-gateway:metrics!';

/** In the primary: answers workers' requests for the whole cluster's metrics. */
export function serveClusterMetrics(): () => void {
  const aggregator = new AggregatorRegistry();
  const onMessage = (worker: import('node:cluster').Worker, msg: { type?: string; id?: number }) => {
    if (msg?.type !== ASK) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: ANSWER, id: msg.id, text }),
      (err: Error) => worker.send({ type: ANSWER, id: msg.id, error: err.message }),
    );
  };
  cluster.on('message', onMessage);
  return () => cluster.off('message', onMessage);
}

/** In a worker: publishes its registry to the primary's aggregator and returns a function that asks for totals. */
export function workerClusterMetrics(metrics: GatewayMetrics): () => Promise<string> {
  AggregatorRegistry.setRegistries([metrics.registry]);
  // prom-client installs the worker's answering listener only when an AggregatorRegistry is constructed.
  new AggregatorRegistry();
  let next = 0;
  return () =>
    new Promise((resolve, reject) => {
      const id = ++next;
      const timer = setTimeout(() => done(new Error('the cluster primary did not answer with metrics in 5 s')), 5000);
      const onMessage = (msg: { type?: string; id?: number; text?: string; error?: string }) => {
        if (msg?.type === ANSWER && msg.id === id) done(msg.error ? new Error(msg.error) : undefined, msg.text);
      };
      const done = (err?: Error, text?: string) => {
        clearTimeout(timer);
        process.off('message', onMessage);
        if (err) reject(err);
        else resolve(text ?? '');
      };
      process.on('message', onMessage);
      process.send!({ type: ASK, id });
    });
}
