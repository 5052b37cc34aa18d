/**
 * `linkis-gateway tokens ...` against the real gateway process (src/main.ts with its admin listener and
 * file watcher): through the admin API, and directly on the conf directory while the gateway runs.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tokenFingerprint } from '../../src/control-plane/token-policy';
import type { EntranceSimulator } from '../../src/simulator/entrance';
import { ADMIN_NAME, ADMIN_TOKEN } from '../support/admin-harness';
import { ENTRANCE, OTHER_TOKEN, TOKEN, asUser, call, startSimulators } from '../support/harness';

const ROOT = join(__dirname, '..', '..');
const ORIGINAL = `# allowlist managed by the CLI test\r\n\r\n${TOKEN}=alice\r\n# scheduler\r\n${OTHER_TOKEN}:*\r\n`;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function node(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Result> } {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return { child, done: new Promise((ok) => child.once('exit', (code) => ok({ code, stdout, stderr }))) };
}

const cli = (args: string[], env: Record<string, string> = {}) => node(['src/cli/main.ts', ...args], env).done;

interface Gateway {
  child: ChildProcess;
  url: string;
  adminUrl: string;
  out: () => string;
  lines: () => Array<Record<string, any>>;
}

async function startMain(confDir: string, waitFor = 'listening'): Promise<Gateway> {
  const { child } = node(['src/main.ts', '--conf', confDir]);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const lines = () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const start = Date.now();
  while (!lines().some((l) => l.message === waitFor)) {
    if (child.exitCode !== null || Date.now() - start > 15_000) throw new Error(`gateway did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = lines().find((l) => l.message === 'listening')!.url;
  const adminUrl = lines().find((l) => l.event === 'admin.listening')?.url ?? '';
  return { child, url, adminUrl, out: () => out, lines };
}

const stop = (g: Gateway) => new Promise<void>((ok) => (g.child.exitCode !== null ? ok() : (g.child.once('exit', () => ok()), g.child.kill('SIGTERM'))));

describe('CLI tokens, against a running gateway', () => {
  let sims: EntranceSimulator[];
  let conf: string;
  let gw: Gateway;
  const file = () => readFileSync(join(conf, 'proxy.properties'), 'utf8');
  const audit = () => readFileSync(join(conf, 'audit.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const cliOutputs: string[] = [];
  const created: string[] = [];
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const r = await cli(args, env);
    cliOutputs.push(r.stdout + r.stderr);
    return r;
  };
  const status = async (token: string, user: string) =>
    (await call(`${gw.url}${ENTRANCE}/operation/metrics/runningtask?instance=${sims[0]!.instance}`, { headers: asUser(user, token) })).status;
  const expectWithin2s = async (token: string, user: string, want: number) => {
    const start = Date.now();
    while ((await status(token, user)) !== want) {
      if (Date.now() - start > 2000) assert.fail(`${user}: not ${want} within 2 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  before(async () => {
    sims = await startSimulators(1);
    conf = mkdtempSync(join(tmpdir(), 'lgw-cli-'));
    writeFileSync(
      join(conf, 'gateway.properties'),
      `gateway.server.host=127.0.0.1\ngateway.server.port=0\ngateway.admin.port=0\ngateway.log.format=json\ngateway.entrance.instances=${sims[0]!.instance}\n`,
    );
    writeFileSync(join(conf, 'proxy.properties'), ORIGINAL);
    writeFileSync(join(conf, 'admin.properties'), `${ADMIN_NAME}=${ADMIN_TOKEN}\n`);
    gw = await startMain(conf);
    assert.match(gw.adminUrl, /^http:\/\/127\.0\.0\.1:\d+\/admin\/$/);
  });
  after(async () => {
    await stop(gw);
    await Promise.all(sims.map((s) => s.close()));
  });

  for (const mode of ['admin API', 'conf directory'] as const) {
    it(`every operation through the ${mode} changes the file and the live gateway within 2 s`, async () => {
      const args = mode === 'admin API' ? ['--admin-url', gw.adminUrl] : ['--conf', conf, '--as', 'ops-cli'];
      const env: Record<string, string> = mode === 'admin API' ? { LINKIS_GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN } : {};
      const start = file();
      const who = mode === 'admin API' ? ADMIN_NAME : 'ops-cli';
      const c = await run(['tokens', 'create', 'carol', '--label', `svc via ${mode}`, ...args], env);
      assert.equal(c.code, 0, c.stderr);
      const token = /^\s+([0-9a-f]{48})$/m.exec(c.stdout)![1]!;
      created.push(token);
      assert.match(c.stdout, new RegExp(`Created a token "svc via ${mode}" for carol`));
      assert.match(c.stdout, /shown only this once/);
      const fp = tokenFingerprint(token);
      assert.ok(c.stdout.includes(fp));
      // The label is the comment line above the token, with when and by whom it was created.
      let labelLine = new RegExp(`^# svc via ${mode} \\(created \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ by ${who}\\)(?=\\r$)`, 'm').exec(file())![0];
      assert.equal(file(), `${start}${labelLine}\r\n${token}=carol\r\n`, 'appended with the file\'s CRLF');
      await expectWithin2s(token, 'carol', 200);
      const relabel = await run(['tokens', 'set-label', fp, 'renamed', 'svc', ...args], env);
      assert.equal(relabel.code, 0, relabel.stderr);
      assert.equal(relabel.stdout.trim(), `Label of ${fp}: "svc via ${mode}" -> "renamed svc"`);
      labelLine = labelLine.replace(`svc via ${mode}`, 'renamed svc');
      assert.equal(file(), `${start}${labelLine}\r\n${token}=carol\r\n`);

      const steps: Array<[string[], string, Array<[string, number]>]> = [
        [['add-users', fp, 'dave', 'erin'], 'carol,dave,erin', [['dave', 200]]],
        [['remove-users', fp, 'carol'], 'dave,erin', [['carol', 403]]],
        [['set-users', fp, '*'], '*', [['zoe', 200]]],
        [['set-users', fp, 'frank,gina'], 'frank,gina', [['zoe', 403], ['gina', 200]]],
      ];
      for (const [cmd, users, checks] of steps) {
        const r = await run(['tokens', ...cmd, ...args], env);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(file(), `${start}${labelLine}\r\n${token}=${users}\r\n`, cmd.join(' '));
        for (const [user, want] of checks) await expectWithin2s(token, user, want);
      }
      const list = await run(['tokens', 'list', '--json', ...args], env);
      assert.equal(list.code, 0, list.stderr);
      const listed = JSON.parse(list.stdout);
      assert.equal(listed.etag, sha(file()));
      assert.deepEqual(listed.tokens.find((t: any) => t.fingerprint === fp).users, ['frank', 'gina']);
      const human = await run(['tokens', 'list', ...args], env);
      assert.match(human.stdout, /^FINGERPRINT\s+TOKEN\s+LINE\s+LAST USED\s+CREATED\s+LABEL\s+USERS$/m);
      assert.match(human.stdout, new RegExp(`${fp}\\s+[0-9a-f]{4}…\\s+\\d+\\s+(never|\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\dZ)\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\dZ\\s+renamed svc\\s+frank,gina`));
      // Searchable by label (or user, or fingerprint).
      const found = await run(['tokens', 'list', 'RENAMED', ...args], env);
      assert.equal(found.code, 0, found.stderr);
      assert.ok(found.stdout.includes(fp) && !found.stdout.includes(tokenFingerprint(TOKEN)), found.stdout);
      assert.match(found.stdout, /1 of \d+ tokens match "RENAMED"/);

      const d = await run(['tokens', 'delete', fp, ...args], env);
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stdout, /Deleted sha256:/);
      assert.equal(file(), start, 'byte-for-byte what it was (the label went with the token)');
      await expectWithin2s(token, 'gina', 401);

      const mine = audit().filter((a) => a.token === fp);
      assert.deepEqual(mine.map((a) => a.operation), ['create', 'set-label', 'add-users', 'remove-users', 'set-users', 'set-users', 'delete']);
      for (const a of mine) assert.deepEqual([a.admin, a.via], mode === 'admin API' ? [ADMIN_NAME, 'api'] : ['ops-cli', 'cli']);
    });
  }

  it('shows when each token was last used: at once through the admin API, within seconds from the conf directory', async () => {
    const before = Date.now();
    assert.equal(await status(TOKEN, 'mallory'), 403, 'a refused request is no use of the token');
    assert.equal(await status(OTHER_TOKEN, 'anyone'), 200);
    const used = (listing: { tokens: Array<{ fingerprint: string; lastUsed?: string }> }, token: string) => listing.tokens.find((t) => t.fingerprint === tokenFingerprint(token))!.lastUsed;
    const viaApi = await run(['tokens', 'list', '--json', '--admin-url', gw.adminUrl], { LINKIS_GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN });
    const listing = JSON.parse(viaApi.stdout);
    assert.ok(Date.parse(used(listing, OTHER_TOKEN)!) >= before - 1000, viaApi.stdout);
    assert.equal(used(listing, TOKEN), undefined);
    // The gateway writes what it saw to token-usage.json beside the audit file every few seconds.
    const start = Date.now();
    for (;;) {
      const direct = JSON.parse((await run(['tokens', 'list', '--json', '--conf', conf])).stdout);
      if (used(direct, OTHER_TOKEN)) break;
      if (Date.now() - start > 8000) assert.fail('last use not in the conf directory within 8 s');
      await new Promise((r) => setTimeout(r, 500));
    }
    const human = await run(['tokens', 'list', '--conf', conf]);
    assert.match(human.stdout, new RegExp(`${tokenFingerprint(TOKEN)}\\s+\\S+\\s+\\d+\\s+never\\s`));
    assert.match(human.stdout, new RegExp(`${tokenFingerprint(OTHER_TOKEN)}\\s+\\S+\\s+\\d+\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\dZ\\s+-\\s+scheduler\\s+\\* \\(any user\\)`));
  });

  it("the gateway tells the CLI's direct writes from hand edits", async () => {
    await new Promise((r) => setTimeout(r, 300)); // let the watcher see the last write
    assert.ok(!audit().some((a) => a.operation === 'hand-edit'), 'no CLI write is taken for a hand edit');
    assert.ok(gw.lines().some((l) => l.event === 'allowlist.reload' && l.reason === 'admin-write'));
    writeFileSync(join(conf, 'proxy.properties'), `${file()}# a note by hand\r\n`);
    const start = Date.now();
    while (!audit().some((a) => a.operation === 'hand-edit')) {
      if (Date.now() - start > 2000) assert.fail('hand edit not audited within 2 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(gw.lines().some((l) => l.event === 'allowlist.reload' && l.reason === 'hand-edit'));
    assert.ok(gw.lines().some((l) => l.event === 'admin.audit' && l.operation === 'hand-edit'));
  });

  it('two CLI processes writing at once with the same --if-match: one succeeds, one is refused with exit 1', async () => {
    const tag = sha(file());
    const fp = tokenFingerprint(TOKEN);
    const [a, b] = await Promise.all([
      run(['tokens', 'set-users', fp, 'racer-a', '--conf', conf, '--if-match', tag]),
      run(['tokens', 'set-users', fp, 'racer-b', '--conf', conf, '--if-match', tag]),
    ]);
    assert.deepEqual([a.code, b.code].sort(), [0, 1], a.stderr + b.stderr);
    const loser = a.code === 1 ? a : b;
    assert.match(loser.stderr, /ADMIN_CONFLICT/);
    assert.ok(loser.stderr.includes(`current version: ${sha(file())}`));
    const won = a.code === 0 ? 'racer-a' : 'racer-b';
    assert.ok(file().includes(`${TOKEN}=${won}\r\n`));
    assert.ok(!file().includes(won === 'racer-a' ? 'racer-b' : 'racer-a'));
    await expectWithin2s(TOKEN, won, 200);
  });

  it('refusals exit 1 and change nothing; usage errors exit 2', async () => {
    const before = file();
    const fp = tokenFingerprint(TOKEN);
    const refusals: Array<[string[], Record<string, string>, RegExp]> = [
      [['tokens', 'list', '--admin-url', gw.adminUrl, '--admin-token', 'not-the-admin-token'], {}, /ADMIN_UNAUTHORIZED/],
      [['tokens', 'delete', fp, '--admin-url', gw.adminUrl], { LINKIS_GATEWAY_ADMIN_TOKEN: 'wrong-wrong-wrong-wrong' }, /ADMIN_UNAUTHORIZED/],
      [['tokens', 'add-users', fp, 'x', '--admin-url', gw.adminUrl, '--admin-token', ADMIN_TOKEN, '--if-match', sha('old')], {}, /ADMIN_CONFLICT/],
      [['tokens', 'add-users', fp, 'bad name', '--conf', conf], {}, /not a valid user name/],
      [['tokens', 'delete', 'sha256:000000000000', '--conf', conf], {}, /TOKEN_NOT_FOUND/],
      [['tokens', 'list', '--admin-url', 'http://127.0.0.1:1', '--admin-token', ADMIN_TOKEN], {}, /cannot reach the admin API/],
    ];
    for (const [args, env, message] of refusals) {
      const r = await run(args, env);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    const usage: string[][] = [
      ['tokens', 'bogus'],
      [],
      ['tokens', 'delete', '--conf', conf],
      ['tokens', 'create', '--conf', conf],
      ['tokens', 'list', '--admin-url', gw.adminUrl, '--conf', conf],
      ['tokens', 'list', '--nope'],
      ['tokens', 'list', '--admin-url', gw.adminUrl],
      ['tokens', 'set-label', fp, '--conf', conf],
      ['tokens', 'list', '--label', 'x', '--conf', conf],
    ];
    for (const args of usage) {
      const r = await run(args, { LINKIS_GATEWAY_ADMIN_TOKEN: '' });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /usage:/);
    }
    // An option no command has is unknown, wherever it stands (it used to "need a value" when last).
    for (const args of [['tokens', 'list', '--bogus'], ['tokens', 'list', '--bogus', 'x'], ['tokens', 'list', '--bogus=x'], ['tokens', 'create', 'carol', '--conf', conf, '--bogus']]) {
      const r = await run(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^linkis-gateway: unknown option --bogus$/m, args.join(' '));
      assert.ok(!/needs a value|takes no value/.test(r.stderr), r.stderr);
    }
    assert.equal(file(), before);
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /tokens add-users FINGERPRINT USER/);
  });

  it('no whole token in the gateway log, the audit file or CLI output but the create output', () => {
    const auditText = readFileSync(join(conf, 'audit.log'), 'utf8');
    const createOutputs = cliOutputs.filter((o) => /shown only this once/.test(o));
    for (const secret of [TOKEN, OTHER_TOKEN, ADMIN_TOKEN, ...created]) {
      assert.ok(!gw.out().includes(secret), 'a token in the gateway log');
      assert.ok(!auditText.includes(secret), 'a token in the audit file');
      assert.ok(!cliOutputs.filter((o) => !createOutputs.includes(o)).some((o) => o.includes(secret)), 'a token in CLI output');
    }
  });
});

describe('admin listener start-up', () => {
  it('refuses to bind a public address unless gateway.admin.allow.public=true, naming the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgw-admin-public-'));
    writeFileSync(join(dir, 'gateway.properties'), 'gateway.entrance.instances=127.0.0.1:1\ngateway.server.port=0\ngateway.admin.host=0.0.0.0\n');
    writeFileSync(join(dir, 'proxy.properties'), '');
    writeFileSync(join(dir, 'admin.properties'), `${ADMIN_NAME}=${ADMIN_TOKEN}\n`);
    const r = await node(['src/main.ts', '--conf', dir]).done;
    assert.equal(r.code, 2);
    assert.match(r.stderr, /gateway\.admin\.host: "0\.0\.0\.0" is not a loopback address.*gateway\.admin\.allow\.public=true/);
  });

  it('without admin.properties the admin listener is off, and the log says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgw-admin-off-'));
    writeFileSync(join(dir, 'gateway.properties'), 'gateway.entrance.instances=127.0.0.1:1\ngateway.server.host=127.0.0.1\ngateway.server.port=0\ngateway.admin.port=0\ngateway.log.format=json\n');
    writeFileSync(join(dir, 'proxy.properties'), '');
    const g = await startMain(dir);
    try {
      const off = g.lines().find((l) => l.event === 'admin.off');
      assert.ok(off, g.out());
      assert.match(off.message, /admin listener off .*admin\.properties does not exist/);
    } finally {
      await stop(g);
    }
  });
});
