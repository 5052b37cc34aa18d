/**
 * The real main process refusing a bad conf directory names each problem exactly as `check-config` does
 * (file:line: message), file by file: gateway.properties, proxy.properties (including invalid UTF-8), and
 * admin.properties. And a proxy.properties refused at start is not said to leave "previous rules" in force:
 * there were none.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkConfigDir, formatProblem } from '../src/cli/check-config';

const MAIN = join(__dirname, '..', 'src', 'main.ts');
const STRONG = '9f2c4e1a7b3d5f60c8e2a4b6';
// Loopback, any port, JSON logs; an Entrance that is never reached (start-up fails before it matters).
const BASE = 'gateway.server.host=127.0.0.1\ngateway.server.port=0\ngateway.admin.port=0\ngateway.log.format=json\ngateway.entrance.instances=127.0.0.1:1\n';

function start(dir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--conf', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((ok) => child.once('exit', (code) => (clearTimeout(timer), ok({ code, stdout, stderr }))));
}

function conf(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'lgw-startup-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** Starts main on `dir` and checks it exits 2 printing every check-config problem of `file` on its own line. */
async function refusesLikeCheckConfig(dir: string, file: string) {
  const expected = checkConfigDir(dir).problems.filter((p) => p.file === join(dir, file)).map(formatProblem);
  assert.ok(expected.length > 0, `check-config finds a problem in ${file}`);
  const r = await start(dir);
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.split('\n');
  for (const line of expected) assert.ok(lines.includes(line), `start-up prints "${line}":\n${r.stderr}`);
  return r;
}

describe('start-up errors name the same file:line as check-config', () => {
  it('gateway.properties: every problem, each with the line of its key', async () => {
    const dir = conf({ 'gateway.properties': `${BASE}gateway.server.prot=9001\n\ngateway.log.level=loud\n`, 'proxy.properties': '' });
    const r = await refusesLikeCheckConfig(dir, 'gateway.properties');
    assert.match(r.stderr, /gateway\.properties:6: gateway\.server\.prot: unknown key; did you mean gateway\.server\.port\?/);
    assert.match(r.stderr, /gateway\.properties:8: gateway\.log\.level: /);
  });

  it('gateway.properties with invalid UTF-8: its line', async () => {
    const dir = conf({ 'gateway.properties': Buffer.from(`${BASE}# caf\xe9\n`, 'latin1'), 'proxy.properties': '' });
    const r = await refusesLikeCheckConfig(dir, 'gateway.properties');
    assert.match(r.stderr, /gateway\.properties:6: not valid UTF-8/);
  });

  it('proxy.properties: its lines, including invalid UTF-8, and no claim that previous rules stay', async () => {
    const dir = conf({ 'gateway.properties': BASE, 'proxy.properties': Buffer.from(`# ok\n${STRONG}=al ice\n${STRONG}x=andr\xe9\n`, 'latin1') });
    const r = await refusesLikeCheckConfig(dir, 'proxy.properties');
    assert.match(r.stderr, /proxy\.properties:3: not valid UTF-8/);
    const refused = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((l) => l.event === 'allowlist.reload');
    assert.ok(refused, `the refused load is logged: ${r.stdout}`);
    assert.equal(refused.ok, false);
    assert.doesNotMatch(refused.message, /previous rules/, 'at start there are no previous rules');
    assert.match(refused.message, /nothing is allowed/);
  });

  it('admin.properties: its lines', async () => {
    const dir = conf({ 'gateway.properties': BASE, 'proxy.properties': `${STRONG}=alice\n`, 'admin.properties': '# admins\nops=short\n' });
    const r = await refusesLikeCheckConfig(dir, 'admin.properties');
    assert.match(r.stderr, /admin\.properties:2: the token must be at least 16 characters/);
  });
});
