/**
 * Issue 11, item 2: one client sending the worst submissions it can build must not freeze the gateway for
 * everyone else. The gateway runs in this process (so perf_hooks.monitorEventLoopDelay sees its event
 * loop); the Entrance simulator runs in a child process, so its own JSON.parse of what it receives is not
 * counted. While two connections send the worst accepted body (just under gateway.submission.max.bytes,
 * 64 levels deep, 10,000 entries, escapes, multi-byte text, big numbers, every identity field to splice)
 * and the worst refused ones (150,000 keys, 2 MB of '[', not UTF-8, 9 MB), another token's user polls a job.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ENTRANCE, OTHER_TOKEN, asUser, call, startGateway } from '../support/harness';

const SIM_MAIN = join(__dirname, '..', '..', 'src', 'simulator', 'main.ts');
const LIMIT = 2 * 1024 * 1024;

/** The worst body the gateway accepts: every bound nearly reached, and every identity field to splice. */
function worstAccepted(): Buffer {
  const deep = `${'{"d":'.repeat(60)}[1]${'}'.repeat(60)}`;
  const wide = Array.from({ length: 9_900 }, (_, i) => `"k${i}":${i % 2 ? '12345678901234567890123' : '"\\u00e9\\n\\"\u4e2d"'}`).join(',');
  const head = `{"executeUser":null,"submitUser":"root","umUser":"root","labels":{"engineType":"spark-3.2.1","userCreator":"root-IDE"},"deep":${deep},"wide":{${wide}},"text":"`;
  const unit = '\\"\\\\\\n\\u0041\u00e9\u4e2d\ud83d\ude00 ';
  const room = LIMIT - Buffer.byteLength(head) - 2 - 64;
  const text = unit.repeat(Math.floor(room / Buffer.byteLength(unit)));
  // No executionContent: the simulator answers an error and keeps no job, so memory stays flat.
  return Buffer.from(`${head}${text}"}`);
}

function refusedBodies(): Buffer[] {
  const wide = `{${Array.from({ length: 150_000 }, (_, i) => `"k${i}":0`).join(',')}}`;
  const nonUtf8 = Buffer.alloc(LIMIT - 16, 0x61);
  nonUtf8[0] = 0x7b;
  nonUtf8[LIMIT - 100] = 0xff;
  const nineMb = `{${Array.from({ length: 700_000 }, (_, i) => `"k${i}":0`).join(',')}}`;
  return [Buffer.from(wide), Buffer.from('['.repeat(LIMIT - 16)), nonUtf8, Buffer.from(nineMb)];
}

function send(url: URL, body: Buffer): Promise<number> {
  return new Promise((ok, fail) => {
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path: `${ENTRANCE}/submit`, headers: { ...asUser('alice'), 'content-type': 'application/json', 'content-length': body.length, connection: 'close' } }, (res) => {
      res.resume().on('end', () => ok(res.statusCode!));
    });
    // A refused body may be answered (and the connection closed) before it is all sent.
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? ok(0) : fail(e)));
    req.end(body);
  });
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

test('the worst submissions one client can send leave the event loop free for another', { timeout: 120_000 }, async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', SIM_MAIN, '--port', '0', '--polls-per-state', '1000000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => void child.kill('SIGTERM'));
  const simUrl = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) ok(out.trim());
    });
    child.once('exit', (code) => fail(new Error(`simulator exited ${code}`)));
  });
  const gw = await startGateway([], { instances: [{ name: new URL(simUrl).host, url: simUrl }], settings: { 'gateway.ratelimit.client.limit': '0', 'gateway.ratelimit.user.limit': '0' } });
  t.after(() => gw.close());
  const url = new URL(gw.url);

  const accepted = worstAccepted();
  assert.ok(accepted.length <= LIMIT && accepted.length > LIMIT - 1024, `${accepted.length}`);
  const refused = refusedBodies();
  // The worst accepted body passes the gateway (the simulator then refuses it: no executionContent).
  const first = await call(`${gw.url}${ENTRANCE}/submit`, { method: 'POST', headers: { ...asUser('alice'), 'content-type': 'application/json' }, body: accepted });
  assert.equal(first.status, 400, first.text.slice(0, 300));
  assert.match(first.body.message, /executionContent\.code cannot be empty/);
  assert.equal(first.body.data.errorCode, undefined, 'the Entrance answered, not the gateway');

  const job = await call(`${gw.url}${ENTRANCE}/submit`, {
    method: 'POST',
    headers: { ...asUser('bob', OTHER_TOKEN), 'content-type': 'application/json' },
    body: JSON.stringify({ executionContent: { code: 'select 1', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'bob-IDE' } }),
  });
  const statusUrl = `${gw.url}${ENTRANCE}/${encodeURIComponent(job.body.data.execID)}/status`;

  const loop = monitorEventLoopDelay({ resolution: 1 });
  const polls: number[] = [];
  let attacking = true;
  const poller = (async () => {
    while (attacking) {
      const t0 = performance.now();
      const r = await call(statusUrl, { headers: asUser('bob', OTHER_TOKEN) });
      polls.push(performance.now() - t0);
      assert.equal(r.status, 200);
    }
  })();
  loop.enable();
  const statuses: number[] = [];
  const attacker = async () => {
    for (let round = 0; round < 12; round++) for (const body of [accepted, ...refused]) statuses.push(await send(url, body));
  };
  await Promise.all([attacker(), attacker()]);
  loop.disable();
  attacking = false;
  await poller;

  const ms = (ns: number) => ns / 1e6;
  const figures = {
    loopP99: ms(loop.percentile(99)),
    loopMax: ms(loop.max),
    pollP99: pct(polls, 99),
    pollMax: Math.max(...polls),
    polls: polls.length,
    submissions: statuses.length,
  };
  console.log(`event-loop delay under the worst submissions: ${JSON.stringify(figures, (_k, v) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}`);
  assert.equal(statuses.filter((s) => s === 400).length, 24, `the accepted ones reached the Entrance: ${statuses}`);
  assert.ok(statuses.every((s) => s === 400 || s === 413 || s === 415 || s === 0), `${statuses}`);
  // Bounds with room for a shared 2-core machine (measured alone: p99 about 20 ms, max 30-50 ms); the code that
  // parsed and re-serialised every submission measured p99 105 ms, max 2.6 s, another user's poll 4.7 s.
  assert.ok(figures.loopP99 < 60, `event-loop delay p99 ${figures.loopP99} ms`);
  assert.ok(figures.loopMax < 250, `event-loop delay max ${figures.loopMax} ms`);
  assert.ok(figures.pollMax < 500, `another user's poll took ${figures.pollMax} ms`);
});
