/**
 * `gateway.workers`: several gateway processes sharing one port through node:cluster, to use every
 * core. The primary only supervises: it forks, replaces a worker that dies unexpectedly, and passes a
 * shutdown on so that each worker drains its own connections.
 *
 * Per worker: the allowlist (each reloads the same file), health state, the keep-alive sockets to
 * Entrances, the ticket cache. Through the primary: draining (cluster-draining.ts) and metrics (a scrape
 * merges every worker's, ops-routes.ts). Shared only through Redis: rate-limit counters
 * (gateway.ratelimit.redis.url); without Redis each worker counts on its own, so the effective limit is
 * up to workers × the configured limit.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'winston';

export interface WorkerSupervisor {
  /** Asks every worker to drain and stop; resolves when all have exited. */
  stop(signal: NodeJS.Signals): Promise<void>;
}

export function superviseWorkers(count: number, logger: Logger): WorkerSupervisor {
  let stopping = false;
  const recentDeaths: number[] = [];
  const fork = (): Worker => cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.error('worker exited unexpectedly', { event: 'worker.exit', workerId: worker.id, pid: worker.process.pid, code, signal });
    const now = Date.now();
    recentDeaths.push(now);
    while (recentDeaths.length && now - recentDeaths[0] > 60_000) recentDeaths.shift();
    // A worker that dies at once again and again (bad config, port taken) must not be re-forked forever.
    if (recentDeaths.length > count * 3) {
      logger.error('workers keep dying; giving up', { event: 'worker.giveup' });
      process.exit(1);
    }
    fork();
  });
  // Maps the `worker` number on every log line to a process (a replacement takes the next number).
  cluster.on('online', (worker) => logger.info('worker started', { event: 'worker.online', workerId: worker.id, pid: worker.process.pid }));
  for (let i = 0; i < count; i++) fork();
  logger.info('started workers', { event: 'workers', count });

  return {
    stop(signal) {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
      return new Promise((resolve) => {
        let left = workers.length;
        if (left === 0) return resolve();
        for (const w of workers) {
          w.once('exit', () => --left === 0 && resolve());
          w.process.kill(signal);
        }
      });
    },
  };
}
