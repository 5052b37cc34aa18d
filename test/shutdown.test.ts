/**
 * Graceful shutdown of the real main process: on SIGTERM it stops accepting, finishes what is in flight
 * (a long log stream to a slow reader included, byte for byte), answers a request that arrives on an
 * open keep-alive connection (with Connection: close), exits 0; and cuts what is still running after
 * gateway.shutdown.grace.ms, still exiting 0.
 */
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import type { EntranceSimulator } from '../src/simulator/entrance';
import { createTicketCodec } from '../src/linkis/ticket';
import { ENTRANCE, TOKEN, asUser, call, isEnvelope, startSimulators } from './support/harness';
import { startMain, writeConf, type MainProcess } from './support/process-harness';
import { parseResponses, slowReader } from './support/raw-http';

const codec = createTicketCodec('bdp-for-server');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function jobDirect(sim: EntranceSimulator): Promise<string> {
  const r = await call(`${sim.url}${ENTRANCE}/submit`, {
    method: 'POST',
    headers: { cookie: `linkis_user_session_ticket_id_v1=${codec.mint('alice')}; dataworkcloud_inner_request=true`, 'content-type': 'application/json' },
    body: JSON.stringify({ executionContent: { code: 'select 1', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' } }),
  });
  assert.equal(r.status, 200, r.text);
  return r.body.data.execID;
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(10);
  }
}

/** The error code of a new connection, or (for a failure message) what answered on it. */
function connectOutcome(port: number): Promise<string> {
  return new Promise((ok) => {
    const s = connect(port, '127.0.0.1');
    let answer = '';
    s.once('connect', () => {
      s.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      setTimeout(() => s.destroy(), 500);
    });
    s.on('data', (d) => (answer += d));
    s.once('close', () => ok(`connected, answered: ${JSON.stringify(answer.slice(0, 200))}`));
    s.once('error', (e: NodeJS.ErrnoException) => {
      s.removeAllListeners('close');
      ok(e.code ?? e.message);
    });
  });
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, fail) => setTimeout(() => fail(new Error(`${what}: not within ${ms} ms`)), ms).unref())]);
}

function rawGet(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nProxy-User: alice\r\nValidation-Code: ${TOKEN}\r\n\r\n`;
}

test('SIGTERM: an in-flight log stream to a slow reader completes exactly, new connections are refused, a keep-alive request is answered with Connection: close, exit 0', async (t) => {
  const SIZE = 12 * 1024 * 1024;
  const [sim] = await startSimulators(1);
  t.after(() => sim.close());
  const logId = await jobDirect(sim);
  const statusId = await jobDirect(sim);
  const gw: MainProcess = await startMain(writeConf({ 'gateway.entrance.instances': sim.instance, 'gateway.health.check.mode': 'off', 'gateway.shutdown.grace.ms': '20000' }));
  t.after(() => gw.stop('SIGKILL'));
  sim.hugeLogBytes = SIZE;

  // One keep-alive connection, read slowly (a pause after every chunk).
  const reader = slowReader(gw.port, 8);
  const { socket, chunks, closed } = reader;
  await reader.connected;
  socket.write(rawGet(`${ENTRANCE}/${encodeURIComponent(logId)}/log?fromLine=0&size=-1`));
  await until(() => reader.received > 1024 * 1024, 10_000, 'the stream started');

  const signalledAt = Date.now();
  gw.child.kill('SIGTERM');
  await until(() => gw.lines().some((l) => l.event === 'shutdown'), 5000, 'the gateway logged the shutdown');
  assert.ok(reader.received < SIZE / 2, `still streaming when SIGTERM arrived (${reader.received} of ${SIZE} bytes read)`);

  // New connections are refused at once; the process is still alive, finishing the stream.
  assert.equal(await connectOutcome(gw.port), 'ECONNREFUSED');
  assert.equal(gw.child.exitCode, null);

  // A request arriving on the open keep-alive connection, behind the stream, is answered.
  socket.write(rawGet(`${ENTRANCE}/${encodeURIComponent(statusId)}/status`));

  const code = await within(gw.exited, 15_000, 'exit after SIGTERM');
  const exitedAt = Date.now();
  await within(closed, 5000, 'the keep-alive connection closed');
  assert.equal(code, 0, gw.stderr());

  const responses = parseResponses(Buffer.concat(chunks));
  assert.equal(responses.length, 2, 'both requests answered');
  const [log, status] = responses;
  assert.equal(log.status, 200);
  assert.equal(log.body.length, SIZE, 'the log arrived complete, byte for byte');
  assert.equal(log.body.subarray(0, 10).toString(), '{"method":');
  assert.equal(log.body[log.body.length - 1], 0x7d);
  assert.notEqual(log.headers.connection, 'close', 'the stream began before the shutdown');
  assert.equal(status.status, 200);
  assert.equal(status.headers.connection, 'close', 'answered during the drain: the connection closes after it');
  const env = JSON.parse(status.body.toString());
  assert.ok(isEnvelope(env));
  assert.equal(env.status, 0);
  assert.equal(env.data.execID, statusId);
  assert.ok(exitedAt - signalledAt > 200, 'the process waited for the stream');

  const events = gw.lines().map((l) => l.event).filter(Boolean);
  assert.ok(events.includes('shutdown.done'));
  assert.ok(!events.includes('shutdown.cut'), 'nothing had to be cut');
  const access = gw.lines().filter((l) => l.message === 'access');
  assert.equal(access.length, 2);
  assert.ok(access.every((l) => l.completed === true && l.status === 200));
  console.log(`shutdown (drain): 2 requests in flight at SIGTERM, ${SIZE} of ${SIZE} log bytes delivered, 0 requests lost; exit ${code} ${exitedAt - signalledAt} ms after SIGTERM`);
});

test('SIGTERM with gateway.shutdown.grace.ms=500: a stream that will not finish is cut after the grace period, exit 0', async (t) => {
  const [sim] = await startSimulators(1);
  t.after(() => sim.close());
  const id = await jobDirect(sim);
  const gw = await startMain(writeConf({ 'gateway.entrance.instances': sim.instance, 'gateway.health.check.mode': 'off', 'gateway.shutdown.grace.ms': '500' }));
  t.after(() => gw.stop('SIGKILL'));
  sim.hugeLogBytes = 1024 * 1024 * 1024; // 1 GB to a client that stops reading: it would never end

  let got = 0;
  let ended = false;
  let holding = true;
  let response: import('node:http').IncomingMessage | undefined;
  const gone = new Promise<void>((ok) => {
    const req = get(`${gw.url}${ENTRANCE}/${encodeURIComponent(id)}/log?fromLine=0&size=-1`, { headers: asUser(), agent: false }, (res) => {
      response = res;
      assert.equal(res.statusCode, 200);
      res.on('data', (d: Buffer) => {
        got += d.length;
        if (got > 256 * 1024 && holding) res.pause(); // and does not resume until the gateway is gone
      });
      res.on('end', () => (ended = true));
      res.on('close', () => ok());
      res.on('error', () => undefined);
    });
    req.on('error', () => ok());
  });
  await until(() => got > 256 * 1024, 10_000, 'the stream started');

  const signalledAt = Date.now();
  gw.child.kill('SIGTERM');
  const code = await within(gw.exited, 15_000, 'exit after SIGTERM');
  const exitedAt = Date.now();
  assert.equal(code, 0, gw.stderr());
  // The client reads on: what it finds is a cut stream, not a complete one.
  holding = false;
  response!.resume();
  await within(gone, 5000, 'the cut stream ends for the client');
  assert.equal(ended, false, 'the client sees a cut stream, not a complete one');
  assert.ok(got < 1024 * 1024 * 1024);
  assert.ok(exitedAt - signalledAt >= 450, `waited for the grace period (${exitedAt - signalledAt} ms)`);
  assert.ok(exitedAt - signalledAt < 3000, `exited ${exitedAt - signalledAt} ms after SIGTERM (grace 500 ms)`);
  const at = (event: string) => Date.parse(gw.lines().find((l) => l.event === event)?.timestamp);
  const cutAfter = at('shutdown.cut') - at('shutdown');
  assert.ok(cutAfter >= 490 && cutAfter < 1500, `cut ${cutAfter} ms after the shutdown began`);
  assert.ok(at('shutdown.done') >= at('shutdown.cut'));
  const access = gw.lines().find((l) => l.message === 'access');
  assert.equal(access?.completed, false, 'the cut answer has its access line, saying it was not completed');
  assert.equal(access?.status, 200);
  console.log(`shutdown (grace): 1 stream in flight, cut ${cutAfter} ms after SIGTERM (grace 500 ms), exit ${code} after ${exitedAt - signalledAt} ms`);
});
