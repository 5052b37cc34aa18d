/**
 * Active health checks of each Entrance: a plain TCP connect, or an HTTP GET whose answer below 500
 * counts as alive (an Entrance answers 401 to a request without a ticket, which still proves it runs).
 * Results feed the registry with thresholds, so one lost probe does not flap an instance.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import type { Upstream, UpstreamRegistry } from './upstreams';

export interface HealthCheckOptions {
  mode: 'tcp' | 'http';
  path: string;
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive good probes that bring an instance back. */
  healthyThreshold: number;
  /** Consecutive failed probes that take it out. */
  unhealthyThreshold: number;
}

export interface HealthChecker {
  /** Probes every instance once now; resolves when all answered or timed out. */
  checkAll(): Promise<void>;
  close(): void;
}

export function createHealthChecker(registry: UpstreamRegistry, opts: HealthCheckOptions): HealthChecker {
  const streak = new Map<string, number>(); // >0: consecutive successes, <0: consecutive failures
  let closed = false;
  let running: Promise<void> | undefined;

  const record = (u: Upstream, ok: boolean) => {
    const prev = streak.get(u.name) ?? 0;
    const next = ok ? Math.max(prev, 0) + 1 : Math.min(prev, 0) - 1;
    streak.set(u.name, next);
    if (ok && !u.healthy && next >= opts.healthyThreshold) registry.setHealthy(u.name, true, 'active check');
    if (!ok && u.healthy && -next >= opts.unhealthyThreshold) registry.setHealthy(u.name, false, 'active check');
  };

  const checkAll = async () => {
    await Promise.all(registry.all().map(async (u) => record(u, await probe(u.url, opts))));
  };

  // Timed rounds probe an instance found down only every DOWN_EVERY rounds (32 s at the default interval):
  // probing dead ones every interval costs real CPU for nothing, and with thousands configured (measured:
  // 10,000 instances, most down) a gradual back-off still spent minutes probing them thousands of times a
  // second, which every request paid for. An instance that comes back is seen within DOWN_EVERY rounds.
  let round = 0;
  const due = (u: Upstream): boolean => {
    const failures = -(streak.get(u.name) ?? 0) - opts.unhealthyThreshold;
    if (u.healthy || failures < 0) return true;
    return (round + hashSpread(u.name)) % DOWN_EVERY === 0;
  };
  const timedRound = async () => {
    round++;
    await Promise.all(registry.all().filter(due).map(async (u) => record(u, await probe(u.url, opts))));
  };

  const timer = setInterval(() => {
    if (closed || running) return; // a slow round is not stacked on top of another
    running = timedRound().finally(() => (running = undefined));
  }, opts.intervalMs);
  timer.unref();

  return {
    checkAll,
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}

/** Rounds between two probes of an instance that is down. */
const DOWN_EVERY = 16;

/** Spreads the probes of instances that are down over the rounds, instead of all of them in one round. */
function hashSpread(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) | 0;
  return (h >>> 0) % DOWN_EVERY;
}

export function probe(baseUrl: string, opts: Pick<HealthCheckOptions, 'mode' | 'path' | 'timeoutMs'>): Promise<boolean> {
  const url = new URL(baseUrl);
  const port = Number(url.port || 80);
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(ok);
    };
    const timer = setTimeout(() => {
      finish(false);
      cleanup();
    }, opts.timeoutMs);
    let cleanup: () => void;
    if (opts.mode === 'tcp') {
      const socket = connect({ host: url.hostname, port });
      cleanup = () => socket.destroy();
      socket.once('connect', () => {
        finish(true);
        socket.destroy();
      });
      socket.once('error', () => finish(false));
    } else {
      // No keep-alive agent: a probe must prove a fresh connection can be made.
      const req = request({ host: url.hostname, port, path: opts.path, method: 'GET', agent: false, headers: { 'user-agent': 'linkis-gateway-health' } }, (res) => {
        finish((res.statusCode ?? 500) < 500);
        res.resume();
        res.once('end', () => req.destroy());
      });
      cleanup = () => req.destroy();
      req.once('error', () => finish(false));
      req.end();
    }
  });
}
