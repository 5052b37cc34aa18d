import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkConfigDir, formatProblem } from '../../src/cli/check-config';

function confDir(gateway: string, proxy: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lgw-check-'));
  writeFileSync(join(dir, 'gateway.properties'), gateway);
  writeFileSync(join(dir, 'proxy.properties'), proxy);
  return dir;
}

describe('checkConfigDir', () => {
  it('accepts a good conf directory and counts its tokens', () => {
    const r = checkConfigDir(confDir('gateway.entrance.instances=10.0.0.1:9104\n', 'abcdefgh12=alice\nijklmnop34=*\n'));
    assert.equal(r.ok, true, JSON.stringify(r.problems));
    assert.equal(r.tokens, 2);
  });

  it('reports every problem in gateway.properties with its line', () => {
    const dir = confDir('# comment\ngateway.server.port=99999\n\ngateway.entrance.instances=nohost\ngateway.log.levl=info\n', 'abcdefgh12=alice\n');
    const r = checkConfigDir(dir);
    assert.equal(r.ok, false);
    const text = r.problems.map(formatProblem);
    const file = join(dir, 'gateway.properties');
    assert.ok(text.some((t) => t.startsWith(`${file}:2: gateway.server.port`)), text.join('\n'));
    assert.ok(text.some((t) => t.startsWith(`${file}:4: gateway.entrance.instances`)), text.join('\n'));
    assert.ok(text.some((t) => t.startsWith(`${file}:5: gateway.log.levl: unknown key`)), text.join('\n'));
  });

  it('reports a broken proxy.properties with its line numbers', () => {
    const dir = confDir('gateway.entrance.instances=10.0.0.1:9104\n', '# ok\nabcdefgh12=alice\n\nabcdefgh12=bob\nshort=x\ngoodtoken99=al ice\n');
    const r = checkConfigDir(dir);
    assert.equal(r.ok, false);
    const lines = r.problems.filter((p) => p.file === join(dir, 'proxy.properties')).map((p) => p.line);
    assert.ok(lines.includes(2) && lines.includes(4), `duplicate token on lines 2 and 4: ${JSON.stringify(r.problems)}`);
    assert.ok(lines.includes(5), 'short token on line 5');
    assert.ok(lines.includes(6), 'bad user name on line 6');
  });

  it('reports a missing gateway.properties', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgw-check-'));
    const r = checkConfigDir(dir);
    assert.equal(r.ok, false);
    assert.match(r.problems[0].message, /file not found/);
  });
});

describe('linkis-gateway check-config', () => {
  const run = async (args: string[]) => {
    const { runCli } = await import('../../src/cli/main');
    let out = '';
    let err = '';
    const code = await runCli(args, {}, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
    return { code, out, err };
  };

  it('exits 0 and says OK for a good directory', async () => {
    const r = await run(['check-config', '--conf', confDir('gateway.entrance.instances=10.0.0.1:9104\n', 'abcdefgh12=alice\n')]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /OK \(1 Entrance instance\(s\), 1 token\(s\)\)/);
  });

  it('exits 1 and prints file:line for each problem', async () => {
    const dir = confDir('gateway.server.port=abc\n', '# header\n\nabcdefgh12=bad user\n');
    const r = await run(['check-config', '--conf', dir]);
    assert.equal(r.code, 1);
    assert.ok(r.err.includes(`${join(dir, 'gateway.properties')}:1: gateway.server.port`), r.err);
  });

  it('reports proxy.properties lines once gateway.properties is valid', async () => {
    const dir = confDir('', '# header\n\nabcdefgh12=bad user\n');
    const r = await run(['check-config', '--conf', dir]);
    assert.equal(r.code, 1);
    assert.ok(r.err.includes(`${join(dir, 'proxy.properties')}:3:`), r.err);
  });

  it('reports a malformed admin.properties', async () => {
    const dir = confDir('', 'abcdefgh12=alice\n');
    writeFileSync(join(dir, 'admin.properties'), 'ops=short\n');
    const r = await run(['check-config', '--conf', dir]);
    assert.equal(r.code, 1);
    assert.ok(r.err.includes(join(dir, 'admin.properties')), r.err);
  });
});
