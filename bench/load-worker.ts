/**
 * The load generator, in a process of its own so that its CPU never counts as (or competes inside) the
 * proxy under test. `node dist/bench/load-worker.js '<json LoadSpec>'`:
 *
 *   1. warm-up run (results thrown away), then prints {"ready":true};
 *   2. waits for a line on stdin: the parent samples the proxy's CPU counters in this idle gap;
 *   3. the measured run, then one JSON line of LoadResult on stdout.
 *
 * Latency percentiles are computed here from every response time autocannon reports (float ms), because
 * autocannon's own histogram has 1 ms buckets, too coarse for a 2 ms target.
 *
 * With `overallRate` the load is open-loop and paced here, not by autocannon: autocannon's rate limit lets
 * each connection send its whole per-second budget back to back and then wait for the next second, so at
 * "half the saturation rate" it still saturates the proxy for half of every second, and the p99 it reports
 * is a saturation p99. Here requests leave evenly spaced (every millisecond, the ones that are due) over a
 * keep-alive pool of `connections` sockets, and latency runs from the moment a request is issued.
 */
import autocannon from 'autocannon';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';

export interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  warmupSec: number;
  durationSec: number;
  /** Fixed total request rate (req/s), paced here, instead of autocannon's closed-loop load. */
  overallRate?: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  bytes: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function run(spec: LoadSpec, durationSec: number, latencies?: number[]): Promise<autocannon.Result> {
  return new Promise((ok, fail) => {
    const instance = autocannon(
      {
        url: spec.url,
        method: spec.method,
        headers: spec.headers,
        body: spec.body,
        connections: spec.connections,
        duration: durationSec,
        // autocannon acts on the end of `duration` only at its next sample tick: at the default 1 s a 0.5 s
        // warm-up would last a whole second. Every 100 ms, runs last what they are asked to.
        sampleInt: 100,
        timeout: 30,
      },
      (err, result) => (err ? fail(err) : ok(result)),
    );
    if (latencies) instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => latencies.push(ms));
  });
}

interface Counts {
  requests: number;
  durationSec: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  bytes: number;
}

function fromAutocannon(r: autocannon.Result): Counts {
  return { requests: r.requests.total, durationSec: r.duration, non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts, bytes: r.throughput.total };
}

function paced(spec: LoadSpec, durationSec: number, latencies?: number[]): Promise<Counts> {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const counts: Counts = { requests: 0, durationSec, non2xx: 0, errors: 0, timeouts: 0, bytes: 0 };
  const url = new URL(spec.url);
  const interval = 1000 / spec.overallRate!;
  const started = performance.now();
  let sent = 0;
  let pending = 0;
  let stopped = false;
  return new Promise((ok) => {
    const settle = () => {
      if (--pending === 0 && stopped) (agent.destroy(), ok(counts));
    };
    const fire = () => {
      const t0 = performance.now();
      pending++;
      const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: spec.method, headers: spec.headers, agent, timeout: 30_000 }, (res) => {
        res.on('data', (c: Buffer) => (counts.bytes += c.length));
        res.once('end', () => {
          counts.requests++;
          if ((res.statusCode ?? 0) >= 300) counts.non2xx++;
          latencies?.push(performance.now() - t0);
          settle();
        });
      });
      req.once('timeout', () => (counts.timeouts++, req.destroy()));
      req.once('error', () => (counts.errors++, settle()));
      req.end(spec.body);
    };
    const tick = setInterval(() => {
      const elapsed = performance.now() - started;
      if (elapsed >= durationSec * 1000) {
        // Stop issuing; the last response in flight resolves.
        clearInterval(tick);
        stopped = true;
        if (pending === 0) (agent.destroy(), ok(counts));
        return;
      }
      for (const due = Math.floor(elapsed / interval); sent < due; sent++) fire();
    }, 1);
  });
}

async function measure(spec: LoadSpec, durationSec: number, latencies?: number[]): Promise<Counts> {
  return spec.overallRate ? paced(spec, durationSec, latencies) : fromAutocannon(await run(spec, durationSec, latencies));
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]) as LoadSpec;
  if (spec.warmupSec > 0) await measure(spec, spec.warmupSec);
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((ok) => lines.once('line', () => ok()));
  lines.close();

  const latencies: number[] = [];
  const r = await measure(spec, spec.durationSec, latencies);
  const sorted = Float64Array.from(latencies).sort();
  const out: LoadResult = {
    requests: r.requests,
    rps: r.requests / r.durationSec,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    bytes: r.bytes,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`load-worker: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
