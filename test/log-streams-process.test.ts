/**
 * A load tool on large chunked logs against the real gateway process, with the Entrance in a process of
 * its own (it then answers as fast as a real one, so the gateway has several chunks in hand at once):
 * every answer arrives whole, and when the tool ends its run by dropping its 32 connections mid-answer,
 * the gateway goes on serving. A stream that wrote twice per upstream chunk once made Node emit 'drain'
 * inside its own write to a dropped connection; the resume that followed read and wrote on, in microtasks
 * that never yielded: the next run got 0 answers, with the gateway at 100% CPU and growing memory.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import autocannon from 'autocannon';
import { ENTRANCE, asUser, submit, type TestGateway } from './support/harness';
import { startMain, writeConf } from './support/process-harness';

const LOG_BYTES = 1024 * 1024;
const SIMULATOR = join(__dirname, '..', 'src', 'simulator', 'main.ts');

async function startSimulatorProcess(t: { after: (fn: () => unknown) => void }): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', SIMULATOR, '--port', '0', '--huge-log-bytes', String(LOG_BYTES)], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => void child.kill('SIGKILL'));
  const url = await new Promise<string>((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`the simulator exited with ${code}`)));
    child.stdout!.once('data', (d: Buffer) => ok(d.toString().split('\n')[0]!.trim()));
  });
  return new URL(url).host;
}

function load(url: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({ url, headers: asUser(), connections: 32, duration: seconds });
}

test('32 connections on 1 MB chunked logs, dropped mid-answer at the end of a run: the next run is served', { timeout: 90_000 }, async (t) => {
  const instance = await startSimulatorProcess(t);
  const conf = writeConf({ 'gateway.entrance.instances': instance, 'gateway.health.check.mode': 'off', 'gateway.ratelimit.client.limit': '0', 'gateway.ratelimit.user.limit': '0' });
  const gw = await startMain(conf);
  t.after(() => gw.stop('SIGKILL'));
  const job = await submit(gw as unknown as TestGateway);
  assert.equal(job.body.status, 0, JSON.stringify(job.body));
  const url = `${gw.url}${ENTRANCE}/${encodeURIComponent(job.body.data.execID)}/log?fromLine=0&size=-1`;
  const runs: number[] = [];
  for (const seconds of [1.5, 1, 1]) {
    const r = await load(url, seconds);
    assert.equal(r.non2xx, 0);
    runs.push(r.requests.total);
  }
  console.log(`log streams: whole 1 MB answers per run (32 connections, each run ended mid-answer): ${runs.join(', ')}`);
  assert.ok(runs.every((n) => n >= 32), `every run was served: ${runs.join(', ')}`);
  const after = await fetch(url, { headers: asUser(), signal: AbortSignal.timeout(5000) });
  assert.equal((await after.arrayBuffer()).byteLength, LOG_BYTES, 'and a log read after them is whole');
});
