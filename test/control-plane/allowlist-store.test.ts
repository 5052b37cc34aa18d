import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import type { TokenPolicy } from '../../src/control-plane/token-policy';
import { createAllowlistStore, loadAllowlistFile, loadAllowlistFileInSlices, type ReloadResult } from '../../src/control-plane/allowlist-store';

/** A logger that keeps every line in memory, so tests can assert what was logged. */
function memoryLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const logger = winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}

function setup(t: { after(fn: () => void): void }, tokenPolicy?: TokenPolicy) {
  const dir = mkdtempSync(join(tmpdir(), 'allowlist-store-'));
  const file = join(dir, 'proxy.properties');
  const { logger, lines } = memoryLogger();
  const results: ReloadResult[] = [];
  const store = createAllowlistStore({ file, logger, onReload: (r) => results.push(r), ...(tokenPolicy ? { tokenPolicy } : {}) });
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, file, store, lines, results };
}

// Strong tokens (16+ characters, varied), so only the tests about weak tokens see warnings.
const A = 'token-alpha-000001';
const B = 'token-bravo-000002';

test('nothing is allowed before the first load', (t) => {
  const { store } = setup(t);
  assert.equal(store.current().size, 0);
  assert.equal(store.current().decide(A, 'alice'), 'unknown-token');
});

test('start load, then edits apply via reload() and removed tokens are refused', (t) => {
  const { file, store, results } = setup(t);
  writeFileSync(file, `${A}=alice\n${B}=bob\n`);
  const r1 = store.reload('start');
  assert.equal(r1.ok, true);
  assert.equal(r1.tokens, 2);
  assert.deepEqual(r1.problems, []);
  assert.deepEqual(r1.warnings, []);
  assert.equal(r1.error, undefined);
  assert.equal(store.current().decide(A, 'alice'), 'allowed');
  assert.equal(store.current().decide(B, 'bob'), 'allowed');

  writeFileSync(file, `${A}=alice,carol\n`);
  const before = store.current();
  const r2 = store.reload('file-change');
  assert.equal(r2.ok, true);
  assert.equal(r2.tokens, 1);
  assert.equal(store.current().decide(A, 'carol'), 'allowed');
  assert.equal(store.current().decide(B, 'bob'), 'unknown-token'); // removed: refused at once
  // A request holding the old reference keeps a complete, consistent list.
  assert.equal(before.decide(B, 'bob'), 'allowed');
  assert.deepEqual(results.map((r) => r.ok), [true, true]);
});

const brokenFiles: Array<{ name: string; content: string | Buffer | null; error: RegExp; lines: number[] }> = [
  // `this` is a weak token (a warning under warn); `is not a properties file` is not a user name (a problem).
  { name: 'garbage', content: 'this is not a properties file\n', error: /1 problem/, lines: [1] },
  {
    name: 'one bad line among good ones',
    content: `${A}=alice\n=bob\n${B}=bo b\nbad=\\uZZZZ\n`,
    error: /3 problems/,
    lines: [2, 3, 4],
  },
  { name: 'duplicate token', content: `${A}=alice\n\n${A}=eve\n`, error: /2 problems/, lines: [1, 3] },
  { name: 'missing file', content: null, error: /file not found/, lines: [] },
  { name: 'invalid UTF-8 (named by its line)', content: Buffer.from(`${A}=alice\n\x74\x6f\x6b\xff\xfe=a\n`, 'latin1'), error: /1 problem/, lines: [2] },
  { name: 'empty file is not an error', content: '', error: /^$/, lines: [] },
];

for (const c of brokenFiles) {
  test(`reload keeps the last good rules: ${c.name}`, (t) => {
    const { file, store } = setup(t);
    writeFileSync(file, `${A}=alice\n`);
    assert.equal(store.reload('start').ok, true);
    if (c.content === null) unlinkSync(file);
    else writeFileSync(file, c.content);
    const r = store.reload('file-change');
    if (c.content === '') {
      // An empty file is valid: it means "no proxy users" and revokes everything.
      assert.equal(r.ok, true);
      assert.equal(store.current().size, 0);
      return;
    }
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', c.error);
    assert.deepEqual(r.problems.map((p) => p.line), c.lines);
    assert.equal(r.tokens, 1);
    assert.equal(store.current().decide(A, 'alice'), 'allowed');
  });
}

// A file Linkis's own gateway loads: a short token, a Linkis default, a strong one.
const LINKIS_STYLE = `# from a Linkis install\nabc=alice\n${A}=bob\nLINKIS-UNAVAILABLE-TOKEN=*\n`;

test('token policy warn (the default): weak tokens work, and the reload reports each with its line', (t) => {
  for (const policy of ['warn', undefined] as const) {
    const { file, store, results, lines } = setup(t, policy);
    writeFileSync(file, LINKIS_STYLE);
    const r = store.reload('start');
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.tokens, 3);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.warnings.map((w) => w.line), [2, 4]);
    assert.match(r.warnings[0]!.message, /^weak token: shorter than 16 characters \(3\)/);
    assert.match(r.warnings[1]!.message, /^weak token: a well-known Linkis default/);
    assert.deepEqual(results[0]!.warnings, r.warnings, 'onReload gets the warnings too');
    assert.equal(store.current().decide('abc', 'alice'), 'allowed');
    assert.equal(store.current().decide('LINKIS-UNAVAILABLE-TOKEN', 'hadoop'), 'allowed');
    assert.equal(store.current().decide(A, 'bob'), 'allowed');
    // The allowlist.reload line carries them (line and reason), at warn level, never the token.
    assert.equal(lines.length, 1);
    const logged = JSON.parse(lines[0]!);
    assert.equal(logged.event, 'allowlist.reload');
    assert.equal(logged.ok, true);
    assert.equal(logged.level, 'warn');
    assert.equal(logged.warningCount, 2);
    assert.deepEqual(logged.warnings, r.warnings);
    assert.match(logged.message, /2 weak tokens/);
    assert.ok(!lines[0]!.includes('abc=') && !lines[0]!.includes('UNAVAILABLE') && !lines[0]!.includes(A), lines[0]);
  }
});

test('token policy strict: a weak token refuses the whole file; the previous rules stay', (t) => {
  const { file, store, lines } = setup(t, 'strict');
  writeFileSync(file, LINKIS_STYLE);
  const start = store.reload('start');
  assert.equal(start.ok, false);
  assert.equal(start.tokens, 0);
  assert.match(start.error!, /2 problems/);
  assert.deepEqual(start.problems.map((p) => p.line), [2, 4]);
  assert.match(start.problems[0]!.message, /weak token: shorter than 16 characters \(3\); refused by gateway\.token\.policy=strict/);
  assert.deepEqual(start.warnings, []);
  assert.equal(store.current().decide(A, 'bob'), 'unknown-token', 'all or nothing: the strong token is not applied either');

  writeFileSync(file, `${A}=bob\n`);
  assert.equal(store.reload('file-change').ok, true);
  writeFileSync(file, `${A}=bob,carol\nabc=alice\n`);
  const refused = store.reload('file-change');
  assert.equal(refused.ok, false);
  assert.equal(refused.tokens, 1);
  assert.equal(store.current().decide(A, 'carol'), 'user-not-allowed', 'the refused file changed nothing');
  assert.equal(store.current().decide('abc', 'alice'), 'unknown-token');
  assert.equal(JSON.parse(lines[lines.length - 1]!).ok, false);
});

test('under warn, a file with a weak token and a real problem is still refused, with both reported', (t) => {
  const { file, store } = setup(t);
  writeFileSync(file, `${A}=alice\n`);
  store.reload('start');
  writeFileSync(file, `abc=alice\n${B}=b ob\n`);
  const r = store.reload('file-change');
  assert.equal(r.ok, false);
  assert.deepEqual(r.problems.map((p) => p.line), [2]);
  assert.deepEqual(r.warnings.map((w) => w.line), [1]);
  assert.equal(store.current().decide(A, 'alice'), 'allowed');
});

test('loadAllowlistFile and loadAllowlistFileInSlices take the policy', async (t) => {
  const { file } = setup(t);
  writeFileSync(file, LINKIS_STYLE);
  for (const load of [loadAllowlistFile, loadAllowlistFileInSlices]) {
    const warn = await load(file);
    assert.ok(warn.ok);
    assert.equal(warn.allowlist.size, 3);
    assert.equal(warn.warnings.length, 2);
    const strict = await load(file, { tokenPolicy: 'strict' });
    assert.equal(strict.ok, false);
    assert.equal(strict.problems.length, 2);
  }
  // An unreadable file has no warnings to give.
  const missing = loadAllowlistFile(file + '.nope', { tokenPolicy: 'strict' });
  assert.equal(missing.ok, false);
  assert.deepEqual(missing.warnings, []);
});

test('a failed start load leaves nothing allowed (fail closed)', (t) => {
  const { store } = setup(t);
  const r = store.reload('start');
  assert.equal(r.ok, false);
  assert.equal(r.tokens, 0);
  assert.equal(store.current().decide(A, 'alice'), 'unknown-token');
});

test('each reload is one structured log line without any token', (t) => {
  const { file, store, lines } = setup(t);
  writeFileSync(file, `${A}=alice\n`);
  store.reload('start');
  writeFileSync(file, `${A}=alice\n${B}=\n${B}=x y\n`);
  store.reload('admin-write');
  assert.equal(lines.length, 2);
  const [ok, bad] = lines.map((l) => JSON.parse(l));
  assert.equal(ok.event, 'allowlist.reload');
  assert.equal(ok.reason, 'start');
  assert.equal(ok.ok, true);
  assert.equal(ok.tokens, 1);
  assert.equal(bad.event, 'allowlist.reload');
  assert.equal(bad.reason, 'admin-write');
  assert.equal(bad.ok, false);
  assert.equal(bad.level, 'warn');
  assert.ok(bad.problems.length >= 2);
  for (const l of lines) {
    assert.ok(!l.includes(A) && !l.includes(B) && !l.includes('token-'), l);
  }
});

test('a throwing onReload listener does not break reload', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'allowlist-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'p.properties');
  writeFileSync(file, `${A}=alice\n`);
  const store = createAllowlistStore({
    file,
    logger: winston.createLogger({ silent: true }),
    onReload: () => {
      throw new Error('listener bug');
    },
  });
  assert.equal(store.reload('start').ok, true);
  assert.equal(store.current().size, 1);
  store.close();
  assert.equal(store.reload('file-change').ok, false);
});

test('loadAllowlistFile is reusable on its own', (t) => {
  const { file } = setup(t);
  writeFileSync(file, `# c\n${A}=*\n`);
  const r = loadAllowlistFile(file);
  assert.ok(r.ok);
  assert.equal(r.allowlist.decide(A, 'anyone'), 'allowed');
  const missing = loadAllowlistFile(file + '.nope');
  assert.equal(missing.ok, false);
});

test('a 100,000-token file reloads', (t) => {
  const { file, store } = setup(t);
  const lines: string[] = [];
  for (let i = 0; i < 100_000; i++) lines.push(`tok-${i.toString(36).padStart(10, '0')}=user${i % 50},svc${i}`);
  writeFileSync(file, lines.join('\n') + '\n');
  const r = store.reload('start');
  assert.equal(r.ok, true);
  assert.equal(r.tokens, 100_000);
  const again = store.reload('file-change');
  console.log(`100,000-token reload: first ${r.durationMs.toFixed(1)} ms, second ${again.durationMs.toFixed(1)} ms`);
  assert.equal(store.current().decide(`tok-${(99_999).toString(36).padStart(10, '0')}`, 'svc99999'), 'allowed');
});

test('reloadInSlices: same rules as reload, the event loop turns while it builds, and a newer reload wins', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lgw-slices-'));
  const file = join(dir, 'proxy.properties');
  let text = '';
  for (let i = 0; i < 20_000; i++) text += `token-${String(i).padStart(8, '0')}=alice,user${i}\n`;
  writeFileSync(file, text);
  const store = createAllowlistStore({ file, logger: winston.createLogger({ silent: true }) });
  try {
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const sliced = await store.reloadInSlices('file-change');
    clearInterval(ticker);
    assert.equal(sliced.ok, true);
    assert.equal(sliced.tokens, 20_000);
    assert.ok(turns > 0, 'timers ran while the allowlist was being built');
    assert.equal(store.current().decide('token-00000042', 'user42'), 'allowed');
    assert.equal(store.current().decide('token-00000042', 'user43'), 'user-not-allowed');

    // A sync reload that starts while a sliced one builds supersedes it.
    const pending = store.reloadInSlices('file-change');
    writeFileSync(file, 'only-token-1=bob\n');
    const sync = store.reload('admin-write');
    const late = await pending;
    assert.equal(sync.ok, true);
    assert.equal(late.ok, false);
    assert.match(late.error!, /superseded/);
    assert.equal(store.current().size, 1, 'the newer rules stay in force');
    assert.equal(store.current().decide('only-token-1', 'bob'), 'allowed');
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
