/**
 * The graceful drain the process runs on SIGTERM, SIGINT or an uncaught error: stop accepting, let
 * requests in flight finish (long log streams included) up to the grace period, cut what is left, close
 * every stateful part in reverse order of creation, then exit. main.ts decides when; this says how.
 */
import type { Server } from 'node:http';
import type { Logger } from 'winston';

export interface Drain {
  /** True once a drain began: answers on open keep-alive connections then close them. */
  readonly stopping: boolean;
  stop(reason: string, exitCode?: number): void;
}

export function createDrain(server: Server, logger: Logger, graceMs: number, closers: Array<() => unknown>): Drain {
  let stopping = false;
  return {
    get stopping() {
      return stopping;
    },
    stop(reason, exitCode = 0) {
      if (stopping) return;
      stopping = true;
      logger.info('shutting down', { event: 'shutdown', signal: reason, graceMs });
      const idle = setInterval(() => server.closeIdleConnections(), 200);
      const grace = setTimeout(() => {
        logger.warn('grace period over, closing remaining connections', { event: 'shutdown.cut' });
        server.closeAllConnections();
      }, graceMs);
      server.close(async () => {
        clearInterval(idle);
        clearTimeout(grace);
        // The server reports closed before the sockets cut by the grace timer emit 'close': one turn of the
        // event loop lets their answers finish, so each cut request still gets its access line.
        await new Promise((ok) => setTimeout(ok, 0));
        for (const close of closers.reverse()) await close();
        logger.info('stopped', { event: 'shutdown.done' });
        process.exit(exitCode);
      });
      server.closeIdleConnections();
    },
  };
}
