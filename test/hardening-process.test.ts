/**
 * The real gateway process (src/main.ts): an Entrance answering `HTTP/1.1 099` used to make writeHead
 * throw and the process exit 1 with every request in flight; now the client gets a 502 envelope and the
 * process answers the next request. Something that is still uncaught (a bug; here a preloaded hook throws
 * or rejects on a signal) is logged with its stack, requests in flight finish, the listener closes, and
 * the process exits 1 for its supervisor. The listener's CONNECT and no-Host answers are checked here too.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { asUser, call, isEnvelope } from './support/harness';
import { startMain, writeConf, type MainProcess } from './support/process-harness';
import { rawRequest } from './support/raw-http';
import { RAW_INSTANCE, RAW_STATUS_PATH, httpAnswer, startRawUpstream, type RawUpstream } from './support/raw-upstream';

const ENVELOPE = JSON.stringify({ method: RAW_STATUS_PATH, status: 0, message: 'OK', data: { status: 'Running' } });
const HOOK = join(__dirname, 'support', 'crash-hook.mjs');

async function gatewayProcess(t: { after: (fn: () => unknown) => void }, up: RawUpstream, opts: { hook?: boolean } = {}): Promise<MainProcess> {
  const conf = writeConf({ 'gateway.entrance.instances': `${RAW_INSTANCE}=${up.url}`, 'gateway.health.check.mode': 'off', 'gateway.shutdown.grace.ms': '10000' });
  const saved = process.env.NODE_OPTIONS;
  // startMain spawns at once, with this process's environment: the hook is preloaded into that child only.
  if (opts.hook) process.env.NODE_OPTIONS = `${saved ?? ''} --import ${HOOK}`.trim();
  const started = startMain(conf);
  if (opts.hook) process.env.NODE_OPTIONS = saved ?? '';
  if (opts.hook && saved === undefined) delete process.env.NODE_OPTIONS;
  const main = await started;
  t.after(async () => {
    await main.stop('SIGKILL', 1000);
    await up.close();
  });
  return main;
}

function connectOutcome(port: number): Promise<string> {
  return new Promise((ok) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      ok('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => ok(e.code ?? e.message));
  });
}

test('an Entrance answering HTTP/1.1 099, 000 or 700: 502 envelopes, and the process answers the next request', async (t) => {
  let statusLine = 'HTTP/1.1 099 Odd';
  const up = await startRawUpstream(() => httpAnswer(statusLine, [['Content-Type', 'application/json']], ENVELOPE));
  const main = await gatewayProcess(t, up);
  for (const line of ['HTTP/1.1 099 Odd', 'HTTP/1.1 000 Zero', 'HTTP/1.1 700 Seven']) {
    statusLine = line;
    const r = await call(`${main.url}${RAW_STATUS_PATH}`, { headers: asUser() });
    assert.equal(r.status, 502, `${line}: ${r.text}`);
    assert.ok(isEnvelope(r.body), r.text);
    assert.equal(r.body.data.errorCode, 'UPSTREAM_BAD_ANSWER');
  }
  statusLine = 'HTTP/1.1 200 OK';
  const next = await call(`${main.url}${RAW_STATUS_PATH}`, { headers: asUser() });
  assert.equal(next.status, 200, next.text);
  assert.equal(next.text, ENVELOPE);
  assert.equal(main.child.exitCode, null, `the process is still running: ${main.stderr()}`);

  // The real listener: CONNECT and a request without Host get envelopes too.
  const tunnel = await rawRequest(main.port, 'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n');
  assert.equal(tunnel.responses[0]?.status, 405, tunnel.raw.toString());
  assert.equal(JSON.parse(tunnel.responses[0]!.body.toString()).data.errorCode, 'METHOD_NOT_ALLOWED');
  const noHost = await rawRequest(main.port, `GET ${RAW_STATUS_PATH} HTTP/1.1\r\n\r\n`);
  assert.equal(noHost.responses[0]?.status, 400, noHost.raw.toString());
  assert.equal(JSON.parse(noHost.responses[0]!.body.toString()).data.errorCode, 'BAD_HEADER');
});

for (const [signal, what] of [['SIGUSR2', 'thrown by the test hook'], ['SIGWINCH', 'rejected by the test hook']] as const) {
  test(`uncaught (${what}): logged with its stack, in-flight requests finish, then exit 1`, async (t) => {
    const up = await startRawUpstream(() => httpAnswer('HTTP/1.1 200 OK', [['Content-Type', 'application/json']], ENVELOPE), { delayMs: 1500 });
    const main = await gatewayProcess(t, up, { hook: true });
    const inFlight = call(`${main.url}${RAW_STATUS_PATH}`, { headers: asUser() });
    for (let i = 0; up.requests.length === 0; i++) {
      assert.ok(i < 500, 'the request did not reach the upstream');
      await new Promise((ok) => setTimeout(ok, 10));
    }
    main.child.kill(signal);
    for (let i = 0; !main.lines().some((l) => l.event === 'fatal'); i++) {
      assert.ok(i < 500, `no fatal log line; exit ${main.child.exitCode}: ${main.stderr()}`);
      await new Promise((ok) => setTimeout(ok, 10));
    }
    const fatal = main.lines().find((l) => l.event === 'fatal')!;
    assert.equal(fatal.level, 'error');
    assert.match(String(fatal.error), new RegExp(`boom: ${what}\\n\\s+at `), 'the error with its stack');
    assert.equal(await connectOutcome(main.port), 'ECONNREFUSED', 'the listener is closed: no new work');
    const r = await inFlight;
    assert.equal(r.status, 200, `the request in flight was finished, not dropped: ${r.text}`);
    assert.equal(r.text, ENVELOPE);
    assert.equal(await main.exited, 1);
    assert.ok(main.lines().some((l) => l.event === 'shutdown.done'), 'a drain, like SIGTERM');
  });
}
