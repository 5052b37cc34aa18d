/**
 * Last use per token: noted by the data plane in memory, merged into one small file at most every few
 * seconds, shared by every worker process (and the CLI) that uses the same file.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import { createTokenUsage, readUsageFile } from '../../src/admin/token-usage';
import { createLogger } from '../../src/ops/logger';

const FA = 'sha256:aaaaaaaaaaaa';
const FB = 'sha256:bbbbbbbbbbbb';
const FC = 'sha256:cccccccccccc';
const dir = () => mkdtempSync(join(tmpdir(), 'lgw-usage-'));

test('a use is seen at once by its process and, after a flush, by the others sharing the file', async () => {
  const file = join(dir(), 'token-usage.json');
  // Two gateway workers: each notes its own requests; the timer is long, so only flush() writes.
  const w1 = createTokenUsage({ file, flushMs: 60_000 });
  const w2 = createTokenUsage({ file, flushMs: 60_000 });
  const t0 = Date.now();
  w1.note(FA);
  assert.ok((await w1.lastUsed()).get(FA)! >= t0);
  assert.equal(existsSync(file), false, 'nothing written before the flush');
  assert.equal((await w2.lastUsed()).has(FA), false);
  await w1.flush();
  assert.ok((await w2.lastUsed()).get(FA)! >= t0);
  await new Promise((r) => setTimeout(r, 5));
  const t1 = Date.now();
  w2.note(FA);
  w2.note(FB);
  await w2.flush();
  await w1.flush(); // w1 reads back its own write: older than w2's, so it writes nothing
  const merged = await readUsageFile(file);
  assert.deepEqual([...merged.keys()].sort(), [FA, FB]);
  assert.ok(merged.get(FA)! >= t1, 'the newest use wins');
  // The file is plain JSON a person can read: fingerprint → ISO time.
  assert.match(readFileSync(file, 'utf8'), /^\{"sha256:[0-9a-f]{12}":"\d{4}-\d\d-\d\dT[\d:.]+Z"/);
  await w1.close();
  await w2.close();
});

test('nothing new, nothing written; a write that crossed another is noticed and made again on the next tick', async () => {
  const file = join(dir(), 'token-usage.json');
  const w = createTokenUsage({ file, flushMs: 60_000 });
  w.note(FA);
  await w.flush();
  const first = statSync(file).mtimeMs;
  await new Promise((r) => setTimeout(r, 20));
  await w.flush(); // reads back once: the file holds what it saw
  await w.flush();
  assert.equal(statSync(file).mtimeMs, first, 'no write without a new use');
  // Another worker's merge, based on an older read, replaced the file: FA is gone from it.
  writeFileSync(file, JSON.stringify({ [FB]: new Date().toISOString() }));
  w.note(FC);
  await w.flush();
  assert.deepEqual([...(await readUsageFile(file)).keys()].sort(), [FA, FB, FC]);
  await w.close();
});

test('deleted tokens are forgotten; the CLI only reads; an unwritable file keeps uses in memory with one warning', async () => {
  const d = dir();
  const file = join(d, 'token-usage.json');
  const w = createTokenUsage({ file, flushMs: 60_000, known: () => ({ size: 1, fingerprints: () => new Set([FA]) }) });
  writeFileSync(file, JSON.stringify({ [FB]: new Date().toISOString(), 'not a fingerprint': 'x' }));
  w.note(FA);
  await w.flush();
  assert.deepEqual([...(await readUsageFile(file)).keys()], [FA]);
  const cli = createTokenUsage({ file, readOnly: true });
  cli.note(FC);
  await cli.close();
  assert.deepEqual([...(await readUsageFile(file)).keys()], [FA]);

  const ro = mkdtempSync(join(tmpdir(), 'lgw-usage-ro-'));
  chmodSync(ro, 0o500);
  const warnings: string[] = [];
  const logger = createLogger({ level: 'info', format: 'json' }, { stream: new Writable({ write: (c, _e, done) => (warnings.push(JSON.parse(c.toString()).event), done()) }), isTTY: false });
  const stuck = createTokenUsage({ file: join(ro, 'token-usage.json'), logger, flushMs: 60_000 });
  for (let i = 0; i < 3; i++) {
    stuck.note(FA);
    await stuck.flush();
  }
  assert.ok((await stuck.lastUsed()).has(FA));
  if (process.getuid?.() !== 0) assert.deepEqual(warnings, ['admin.usage.error']); // root writes anywhere
  await stuck.close();
  await w.close();
});

test('the timer flushes by itself, at most once per interval', async () => {
  const file = join(dir(), 'token-usage.json');
  const w = createTokenUsage({ file, flushMs: 100 });
  for (let i = 0; i < 1000; i++) w.note(FA);
  assert.equal(existsSync(file), false);
  await new Promise((r) => setTimeout(r, 350));
  assert.ok((await readUsageFile(file)).has(FA));
  await w.close();
});
