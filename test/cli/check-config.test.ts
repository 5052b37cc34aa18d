import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkConfigDir, formatProblem, formatWarning } from '../../src/cli/check-config';

// Strong tokens (16+ characters, varied): no warning unless a test wants one.
const T1 = '9f2c4e1a7b3d5f60c8e2a4b6';
const T2 = '0c1e5f7a9b2d4f6081a3c5e7';

function confDir(gateway: string, proxy: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lgw-check-'));
  writeFileSync(join(dir, 'gateway.properties'), gateway);
  writeFileSync(join(dir, 'proxy.properties'), proxy);
  return dir;
}

describe('checkConfigDir', () => {
  it('accepts a good conf directory and counts its tokens', () => {
    const r = checkConfigDir(confDir('gateway.entrance.instances=10.0.0.1:9104\n', `${T1}=alice\n${T2}=*\n`));
    assert.equal(r.ok, true, JSON.stringify(r.problems));
    assert.equal(r.tokens, 2);
    assert.deepEqual(r.warnings, []);
  });

  it('reports every problem in gateway.properties with its line', () => {
    const dir = confDir('# comment\ngateway.server.port=99999\n\ngateway.entrance.instances=nohost\ngateway.log.levl=info\n', `${T1}=alice\n`);
    const r = checkConfigDir(dir);
    assert.equal(r.ok, false);
    const text = r.problems.map(formatProblem);
    const file = join(dir, 'gateway.properties');
    assert.ok(text.some((t) => t.startsWith(`${file}:2: gateway.server.port`)), text.join('\n'));
    assert.ok(text.some((t) => t.startsWith(`${file}:4: gateway.entrance.instances`)), text.join('\n'));
    assert.ok(text.some((t) => t.startsWith(`${file}:5: gateway.log.levl: unknown key`)), text.join('\n'));
  });

  it('reports a broken proxy.properties with its line numbers; a short token is a warning', () => {
    const dir = confDir('gateway.entrance.instances=10.0.0.1:9104\n', `# ok\n${T1}=alice\n\n${T1}=bob\nshort=x\n${T2}=al ice\n`);
    const r = checkConfigDir(dir);
    assert.equal(r.ok, false);
    const lines = r.problems.filter((p) => p.file === join(dir, 'proxy.properties')).map((p) => p.line);
    assert.deepEqual(lines, [2, 4, 6], `duplicate token on lines 2 and 4, bad user name on 6: ${JSON.stringify(r.problems)}`);
    assert.deepEqual(r.warnings.map((w) => [w.file, w.line]), [[join(dir, 'proxy.properties'), 5]], 'short token on line 5');
    assert.equal(formatWarning(r.warnings[0]!), `${join(dir, 'proxy.properties')}:5: warning: weak token: shorter than 16 characters (5); replace it (e.g. openssl rand -hex 24)`);
  });

  it('gateway.token.policy=strict: a weak token is a problem, not a warning', () => {
    const dir = confDir('gateway.token.policy=strict\n', `${T1}=alice\nshort=x\n`);
    const r = checkConfigDir(dir);
    assert.equal(r.ok, false);
    assert.deepEqual(r.problems.map(formatProblem), [`${join(dir, 'proxy.properties')}:2: weak token: shorter than 16 characters (5); refused by gateway.token.policy=strict`]);
    assert.deepEqual(r.warnings, []);
  });

  it('reports every problem of every file in one run: a gateway.properties typo does not hide the others', () => {
    // A typo in gateway.properties, a bad user and a short token in proxy.properties, a short admin token.
    const dir = confDir('gateway.entrance.instances=10.0.0.1:9104\ngateway.server.prot=9001\n', `${T1}=al ice\nshort=bob\n`);
    writeFileSync(join(dir, 'admin.properties'), 'ops=short\n');
    const r = checkConfigDir(dir);
    assert.equal(r.ok, false);
    assert.deepEqual(r.problems.map(formatProblem), [
      `${join(dir, 'gateway.properties')}:2: gateway.server.prot: unknown key; did you mean gateway.server.port?`,
      `${join(dir, 'proxy.properties')}:1: user #1 is an invalid user name: user name has a bad character U+0020 at position 3`,
      `${join(dir, 'admin.properties')}:1: the token must be at least 16 characters without whitespace`,
    ]);
    assert.deepEqual(r.warnings.map(formatWarning), [`${join(dir, 'proxy.properties')}:2: warning: weak token: shorter than 16 characters (5); replace it (e.g. openssl rand -hex 24)`]);
  });

  it('with a broken gateway.properties, still checks the files it names, with its valid settings', () => {
    // The syntax problem skips one entry; the proxy file setting and the strict policy still apply.
    const dir = confDir('bad\\u00zz=1\nwds.linkis.gateway.conf.proxy.user.config=users.properties\ngateway.token.policy=strict\n', '');
    writeFileSync(join(dir, 'users.properties'), 'short=bob\n');
    const r = checkConfigDir(dir);
    assert.deepEqual(r.problems.map(formatProblem), [
      `${join(dir, 'gateway.properties')}:1: malformed \\uXXXX escape in key (entry skipped)`,
      `${join(dir, 'users.properties')}:1: weak token: shorter than 16 characters (5); refused by gateway.token.policy=strict`,
    ]);
  });

  it('does not guess at a file whose own setting is bad', () => {
    const dir = confDir('wds.linkis.gateway.conf.proxy.user.config=\n', `${T1}=al ice\n`);
    const r = checkConfigDir(dir);
    assert.deepEqual(r.problems.map(formatProblem), [`${join(dir, 'gateway.properties')}:1: wds.linkis.gateway.conf.proxy.user.config: must not be empty`]);
  });

  it('names the line of invalid UTF-8 in gateway.properties and in proxy.properties', () => {
    const latin1 = (text: string) => Buffer.from(text, 'latin1'); // "é" as one byte 0xe9: not UTF-8
    const dir = confDir('', '');
    writeFileSync(join(dir, 'gateway.properties'), latin1('# réseau\ngateway.entrance.instances=10.0.0.1:9104\n'));
    writeFileSync(join(dir, 'proxy.properties'), latin1(`${T1}=alice\n\n${T2}=andré\n`));
    const r = checkConfigDir(dir);
    assert.deepEqual(r.problems.map(formatProblem), [
      `${join(dir, 'gateway.properties')}:1: not valid UTF-8 (save the file as UTF-8)`,
      `${join(dir, 'proxy.properties')}:3: not valid UTF-8 (save the file as UTF-8)`,
    ]);
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
    const dir = confDir('gateway.entrance.instances=10.0.0.1:9104\n', `${T1}=alice\n`);
    const r = await run(['check-config', '--conf', dir]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `${dir}: OK (1 Entrance instance(s), 1 token(s))\n`);
    assert.equal(r.err, '');
  });

  it('prints each weak token as a warning with file:line, and still exits 0', async () => {
    const dir = confDir('gateway.entrance.instances=10.0.0.1:9104\n', `# from Linkis\nabc=alice\n${T1}=bob\nLINKIS-UNAVAILABLE-TOKEN=*\n${'ab'.repeat(10)}=carol\n`);
    const proxy = join(dir, 'proxy.properties');
    const r = await run(['check-config', '--conf', dir]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, [
      `${proxy}:2: warning: weak token: shorter than 16 characters (3); replace it (e.g. openssl rand -hex 24)`,
      `${proxy}:4: warning: weak token: a well-known Linkis default or example value; replace it (e.g. openssl rand -hex 24)`,
      `${proxy}:5: warning: weak token: only 2 distinct characters (fewer than 6); replace it (e.g. openssl rand -hex 24)`,
      '',
    ].join('\n'));
    assert.equal(r.out, `${dir}: OK (1 Entrance instance(s), 4 token(s)), 3 warning(s)\n`);
    assert.ok(!r.err.includes('UNAVAILABLE') && !r.err.includes('abc='), 'no token in the output');
    const json = await run(['check-config', '--conf', dir, '--json']);
    assert.equal(json.code, 0);
    const parsed = JSON.parse(json.out);
    assert.equal(parsed.ok, true);
    assert.deepEqual(parsed.warnings.map((w: { line: number }) => w.line), [2, 4, 5]);
  });

  it('with gateway.token.policy=strict a weak token is a problem: exit 1', async () => {
    const dir = confDir('gateway.entrance.instances=10.0.0.1:9104\ngateway.token.policy=strict\n', `${T1}=bob\nBML-AUTH=*\n`);
    const r = await run(['check-config', '--conf', dir]);
    assert.equal(r.code, 1);
    assert.equal(r.err, `${join(dir, 'proxy.properties')}:2: weak token: a well-known Linkis default or example value; refused by gateway.token.policy=strict\n${dir}: 1 problem(s)\n`);
  });

  it('prints each gateway.properties problem once, on its own line', async () => {
    const dir = confDir('# c\ngateway.server.port=abc\ngateway.log.level=loud\n', `${T1}=alice\n`);
    const file = join(dir, 'gateway.properties');
    const r = await run(['check-config', '--conf', dir]);
    assert.equal(r.code, 1);
    assert.equal(r.err, [
      `${file}:2: gateway.server.port: "abc" is not a whole number between 0 and 65535`,
      `${file}:3: gateway.log.level: "loud" is not one of error, warn, info, debug`,
      `${dir}: 2 problem(s)`,
      '',
    ].join('\n'));
    assert.equal(r.out, '');
  });

  it('a syntax problem in gateway.properties is printed once, as file:line', async () => {
    const dir = confDir('# c\nbad\\u00zz=1\n', `${T1}=alice\n`);
    const r = await run(['check-config', '--conf', dir]);
    assert.equal(r.code, 1);
    assert.equal(r.err, `${join(dir, 'gateway.properties')}:2: malformed \\uXXXX escape in key (entry skipped)\n${dir}: 1 problem(s)\n`);
  });

  it('a missing gateway.properties is one line, naming the file once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgw-check-'));
    const r = await run(['check-config', '--conf', dir]);
    assert.equal(r.code, 1);
    const lines = r.err.trimEnd().split('\n');
    assert.equal(lines.length, 2, r.err);
    assert.equal(lines[0], `${join(dir, 'gateway.properties')}: file not found (select a conf directory with --conf DIR or LINKIS_GATEWAY_CONF)`);
  });

  it('exits 1 and prints file:line for each problem', async () => {
    const dir = confDir('gateway.server.port=abc\n', `# header\n\n${T1}=bad user\n`);
    const r = await run(['check-config', '--conf', dir]);
    assert.equal(r.code, 1);
    assert.ok(r.err.includes(`${join(dir, 'gateway.properties')}:1: gateway.server.port`), r.err);
  });

  it('reports proxy.properties lines once gateway.properties is valid', async () => {
    const dir = confDir('', `# header\n\n${T1}=bad user\n`);
    const r = await run(['check-config', '--conf', dir]);
    assert.equal(r.code, 1);
    assert.ok(r.err.includes(`${join(dir, 'proxy.properties')}:3:`), r.err);
  });

  it('reports a malformed admin.properties, each problem once with file:line', async () => {
    const dir = confDir('', `${T1}=alice\n`);
    writeFileSync(join(dir, 'admin.properties'), '# admins\nops=short\n-bad=0123456789abcdef01\n');
    const admin = join(dir, 'admin.properties');
    const r = await run(['check-config', '--conf', dir]);
    assert.equal(r.code, 1);
    assert.equal(r.err, [
      `${admin}:2: the token must be at least 16 characters without whitespace`,
      `${admin}:3: admin name: user name must start with a letter, digit or _, not "-"`,
      `${dir}: 2 problem(s)`,
      '',
    ].join('\n'));
  });
});
