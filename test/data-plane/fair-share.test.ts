/**
 * Fair share against real sockets: one user holding as many slow log streams as it can (real readers that
 * take one chunk per second, against the Entrance simulator's huge log) must not slow other users' polls,
 * and past every bound the answer is a fast envelope with Retry-After, never a queue.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import type { EntranceSimulator } from '../../src/simulator/entrance';
import { ENTRANCE, OTHER_TOKEN, TOKEN, asUser, call, isEnvelope, jobDirect, startGateway, startSimulators, type TestGateway } from '../support/harness';

type T = { after: (fn: () => unknown) => void };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const url = (gw: TestGateway, execId: string, op: string) => `${gw.url}${ENTRANCE}/${encodeURIComponent(execId)}/${op}`;
const LOG = 'log?fromLine=0&size=-1';

interface Opened {
  status: number;
  headers: Record<string, string>;
  body: string;
  ms: number;
  socket: Socket;
}

/**
 * A log reader on a raw socket: the status line and headers, then (for a 200) one chunk a second, so the
 * gateway must hold the Entrance back by backpressure. Other answers are read whole.
 */
function openSlowStream(gw: TestGateway, execId: string, user: string, token: string, opened: Socket[]): Promise<Opened> {
  const { port } = new URL(gw.url);
  const started = performance.now();
  return new Promise((ok, fail) => {
    const socket = connect(Number(port), '127.0.0.1');
    opened.push(socket);
    let head = Buffer.alloc(0);
    socket.once('error', fail);
    socket.write(`GET ${ENTRANCE}/${encodeURIComponent(execId)}/${LOG} HTTP/1.1\r\nhost: gw\r\nproxy-user: ${user}\r\nvalidation-code: ${token}\r\n\r\n`);
    const onData = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const headers = Object.fromEntries(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const ms = performance.now() - started;
      if (status === 200) {
        socket.off('data', onData);
        socket.on('data', () => {
          socket.pause();
          setTimeout(() => socket.resume(), 1000).unref();
        });
        return ok({ status, headers, body: '', ms, socket });
      }
      const body = head.subarray(end + 4);
      if (body.length >= Number(headers['content-length'])) {
        socket.off('data', onData);
        socket.destroy();
        ok({ status, headers, body: body.toString('utf8'), ms, socket });
      }
    };
    socket.on('data', onData);
  });
}

/** `rounds` status polls from each of `pollers` concurrent clients (alternating users); latencies in ms. */
async function pollLatencies(gw: TestGateway, jobs: Array<{ execId: string; user: string; token: string }>, pollers: number, rounds: number): Promise<number[]> {
  const ms: number[] = [];
  await Promise.all(
    Array.from({ length: pollers }, async (_, p) => {
      const job = jobs[p % jobs.length];
      for (let i = 0; i < rounds; i++) {
        const started = performance.now();
        const r = await call(url(gw, job.execId, i % 2 ? 'progress' : 'status'), { headers: asUser(job.user, job.token), signal: AbortSignal.timeout(5000) });
        ms.push(performance.now() - started);
        assert.equal(r.status, 200, r.text);
      }
    }),
  );
  return ms.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
const figures = (ms: number[]) => `p50 ${pct(ms, 50).toFixed(1)} ms, p99 ${pct(ms, 99).toFixed(1)} ms, max ${ms[ms.length - 1].toFixed(1)} ms over ${ms.length} polls`;

async function setUp(t: T, settings: Record<string, string>): Promise<{ sim: EntranceSimulator; gw: TestGateway; opened: Socket[] }> {
  const [sim] = await startSimulators(1);
  t.after(() => sim.close());
  const gw = await startGateway([sim], { settings: { 'gateway.health.check.mode': 'off', 'gateway.ratelimit.client.limit': '0', 'gateway.ratelimit.user.limit': '0', ...settings } });
  const opened: Socket[] = [];
  t.after(async () => {
    for (const s of opened) s.destroy();
    await gw.close();
  });
  return { sim, gw, opened };
}

function assertRefused(o: Opened, http: number, code: string, withinMs = 500): void {
  assert.equal(o.status, http, o.body);
  const body = JSON.parse(o.body);
  assert.ok(isEnvelope(body), o.body);
  assert.equal(body.data.errorCode, code);
  assert.equal(o.headers['retry-after'], '1');
  assert.ok(o.ms < withinMs, `refused after ${o.ms.toFixed(0)} ms`);
}

test('one user opening 256 slow log streams (every socket, by default) holds 64; the rest get a fast 429; other users poll unhindered', { timeout: 60_000 }, async (t) => {
  const { sim, gw, opened } = await setUp(t, {});
  const attack = await jobDirect(sim, 'alice');
  const victims = [
    { execId: await jobDirect(sim, 'bob'), user: 'bob', token: TOKEN },
    { execId: await jobDirect(sim, 'carol'), user: 'carol', token: OTHER_TOKEN },
  ];
  const baseline = await pollLatencies(gw, victims, 8, 20);
  sim.hugeLogBytes = 1024 * 1024 * 1024; // never read to the end in this test
  const tries = gw.config.upstream.maxSockets;
  const streams = await Promise.all(Array.from({ length: tries }, () => openSlowStream(gw, attack, 'alice', TOKEN, opened)));
  const held = streams.filter((s) => s.status === 200);
  assert.equal(held.length, gw.config.upstream.maxPerUser, 'alice holds exactly her share');
  // Refused at once; the burst of 256 connections on this one test thread is what takes time here.
  for (const s of streams.filter((x) => x.status !== 200)) assertRefused(s, 429, 'CONCURRENCY_LIMITED', 5000);
  assert.equal(gw.registry.get(sim.instance)!.inFlight, held.length);
  assertRefused(await openSlowStream(gw, attack, 'alice', TOKEN, opened), 429, 'CONCURRENCY_LIMITED', 500);

  // While alice's streams are held and read a chunk a second: other users' polls.
  const during = await pollLatencies(gw, victims, 8, 40);
  console.log(`fair share: alice holds ${held.length} slow log streams (${tries - held.length} refused with 429); other users' polls ${figures(during)}; before: ${figures(baseline)}`);
  assert.ok(pct(during, 99) < 250, `p99 ${pct(during, 99).toFixed(0)} ms`);
  assert.ok(during[during.length - 1] < 1000, `max ${during[during.length - 1].toFixed(0)} ms`);
  assert.equal(gw.registry.get(sim.instance)!.inFlight, held.length, 'the streams are still being served');

  // Readers that leave give their share back at once.
  for (const s of held) s.socket.destroy();
  const deadline = Date.now() + 3000;
  while (gw.registry.get(sim.instance)!.inFlight > 0 && Date.now() < deadline) await sleep(20);
  assert.equal(gw.registry.get(sim.instance)!.inFlight, 0);
  const again = await openSlowStream(gw, attack, 'alice', TOKEN, opened);
  assert.equal(again.status, 200, again.body);
  const line = gw.logs.find((l) => l.message === 'access' && l.errorCode === 'CONCURRENCY_LIMITED');
  assert.equal(line?.status, 429);
  assert.equal(line?.user, 'alice');
});

test('streams of many users fill their own pool: the next stream is a fast 503, polls still find sockets', { timeout: 60_000 }, async (t) => {
  const { sim, gw, opened } = await setUp(t, { 'gateway.upstream.max.sockets': '8', 'gateway.upstream.max.per.user': '4', 'gateway.upstream.max.per.client': '0' });
  const users: Array<[string, string]> = [['alice', TOKEN], ['bob', TOKEN], ['carol', OTHER_TOKEN], ['dave', OTHER_TOKEN]];
  const jobs = new Map<string, string>();
  for (const [user] of users) jobs.set(user, await jobDirect(sim, user));
  const poller = { execId: await jobDirect(sim, 'erin'), user: 'erin', token: OTHER_TOKEN };
  sim.hugeLogBytes = 1024 * 1024 * 1024;
  const streams: Opened[] = [];
  for (const [user, token] of users) streams.push(...(await Promise.all(Array.from({ length: 4 }, () => openSlowStream(gw, jobs.get(user)!, user, token, opened)))));
  assert.equal(streams.filter((s) => s.status === 200).length, 8, 'the stream pool: 8 sockets');
  const refused = streams.filter((s) => s.status !== 200);
  assert.equal(refused.length, 8);
  for (const s of refused) assertRefused(s, 503, 'UPSTREAM_BUSY');
  assert.match(JSON.parse(refused[0].body).message, /log streams/);

  // Short calls have sockets of their own: erin's 4 concurrent pollers (her share), none waits for a stream to end.
  const during = await pollLatencies(gw, [poller], 4, 40);
  console.log(`fair share: stream pool full (8 of 8), polls ${figures(during)}`);
  assert.ok(during[during.length - 1] < 1000, `max ${during[during.length - 1].toFixed(0)} ms`);
});

test('short calls past the pool do not queue: with the Entrance hanging, the third concurrent call is a fast 503', { timeout: 60_000 }, async (t) => {
  const { sim, gw } = await setUp(t, { 'gateway.upstream.max.sockets': '2', 'gateway.upstream.response.timeout.ms': '3000' });
  const [bobs, carols] = [await jobDirect(sim, 'bob'), await jobDirect(sim, 'carol')];
  sim.mode = 'hang';
  const hanging = [0, 1].map(() => call(url(gw, bobs, 'status'), { headers: asUser('bob') }));
  await sleep(200);
  const started = performance.now();
  const r = await call(url(gw, carols, 'status'), { headers: asUser('carol', OTHER_TOKEN) });
  const ms = performance.now() - started;
  assert.equal(r.status, 503, r.text);
  assert.equal(r.body.data.errorCode, 'UPSTREAM_BUSY');
  assert.equal(r.headers.get('retry-after'), '1');
  assert.ok(ms < 500, `${ms.toFixed(0)} ms`);
  // The hung ones end with the response timeout; then the pool is free again.
  for (const h of await Promise.all(hanging)) assert.equal(h.status, 504);
  sim.mode = 'normal';
  assert.equal((await call(url(gw, bobs, 'status'), { headers: asUser('bob') })).status, 200);
});
