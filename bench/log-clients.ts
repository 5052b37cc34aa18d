/**
 * Log readers for the memory measurements, in their own process so the parent can sample the gateway's
 * RSS undisturbed. `node dist/bench/log-clients.js '<json LogClientsSpec>'` prints one JSON line.
 *
 *   clients 1:  reads the log as fast as it can, to the end (the 200 MB case);
 *   clients N:  N clients, connections opened over ~1 s, each reading at `bytesPerSec` by pausing its
 *               socket (so the gateway must hold back the Entrance: backpressure, not buffering), all
 *               cut after `seconds`.
 */
import { Agent, get } from 'node:http';

export interface LogClientsSpec {
  url: string;
  headers: Record<string, string>;
  clients: number;
  /** Per-client read rate; 0: as fast as possible. */
  bytesPerSec: number;
  /** Hard bound on the whole run. */
  seconds: number;
}

export interface LogClientsResult {
  clients: number;
  answered: number;
  completed: number;
  failed: number;
  bytes: number;
  ms: number;
}

function main(): void {
  const spec = JSON.parse(process.argv[2]) as LogClientsSpec;
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const started = performance.now();
  const result: LogClientsResult = { clients: spec.clients, answered: 0, completed: 0, failed: 0, bytes: 0, ms: 0 };
  const requests: Array<ReturnType<typeof get>> = [];
  let open = spec.clients;

  const finish = () => {
    result.ms = Math.round(performance.now() - started);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  };
  const done = () => {
    if (--open === 0) finish();
  };
  const bound = setTimeout(() => {
    for (const r of requests) r.destroy();
    finish();
  }, spec.seconds * 1000);
  bound.unref();

  const startOne = () => {
    const req = get(spec.url, { headers: spec.headers, agent }, (res) => {
      result.answered++;
      if (res.statusCode !== 200) result.failed++;
      res.on('data', (chunk: Buffer) => {
        result.bytes += chunk.length;
        if (spec.bytesPerSec > 0) {
          // Read slowly: stop pulling from the socket for as long as this chunk "takes" at our rate.
          res.pause();
          setTimeout(() => res.resume(), (chunk.length / spec.bytesPerSec) * 1000);
        }
      });
      res.once('end', () => {
        result.completed++;
        done();
      });
      res.once('error', () => undefined);
    });
    req.once('error', () => {
      result.failed++;
      done();
    });
    requests.push(req);
  };
  // Ramp the connections over about a second: a thousand SYNs at once overflow the listen backlog.
  let opened = 0;
  const ramp = setInterval(() => {
    for (let i = 0; i < Math.ceil(spec.clients / 100) && opened < spec.clients; i++, opened++) startOne();
    if (opened >= spec.clients) clearInterval(ramp);
  }, 10);
}

main();
