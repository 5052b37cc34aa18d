/**
 * Compacting a file other processes append to without a lock: what is kept stays, what is dropped goes,
 * and no line appended meanwhile (by real processes, O_APPEND, as logouts are written) is lost.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compactLineFile } from '../../src/control-plane/line-file-compaction';

function fileWith(lines: string[], mode = 0o600): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lgw-compact-'));
  const file = join(dir, 'sessions.revoked');
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''), { mode });
  return { dir, file };
}

test('keeps the kept lines in order, drops the rest, keeps the mode; no temp or lock file left', async () => {
  const { dir, file } = fileWith(['keep 1', 'drop 2', 'keep 3', 'drop 4', 'keep 5']);
  const r = await compactLineFile(file, (l) => l.startsWith('keep'));
  assert.deepEqual(r, { compacted: true, linesBefore: 5, linesAfter: 3 });
  assert.equal(readFileSync(file, 'utf8'), 'keep 1\nkeep 3\nkeep 5\n');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir), ['sessions.revoked']);
});

test('a torn last line (no newline yet) is not judged: it is carried over as it is', async () => {
  const { file } = fileWith(['drop 1', 'keep 2']);
  writeFileSync(file, readFileSync(file, 'utf8') + '{"id":"half', { flag: 'w' });
  await compactLineFile(file, (l) => l.startsWith('keep'));
  assert.equal(readFileSync(file, 'utf8'), 'keep 2\n{"id":"half\n');
});

test('a lock held by another compactor: skipped, file untouched; a lock left long ago is cleared for the next try', async () => {
  const { file } = fileWith(['drop 1', 'keep 2']);
  writeFileSync(`${file}.compact`, '');
  assert.equal((await compactLineFile(file, (l) => l.startsWith('keep'))).compacted, false);
  assert.equal(readFileSync(file, 'utf8'), 'drop 1\nkeep 2\n');
  const old = new Date(Date.now() - 60_000);
  utimesSync(`${file}.compact`, old, old);
  assert.equal((await compactLineFile(file, (l) => l.startsWith('keep'))).compacted, false);
  assert.ok(!existsSync(`${file}.compact`), 'the stale lock is gone');
  assert.equal((await compactLineFile(file, (l) => l.startsWith('keep'))).compacted, true);
  assert.equal(readFileSync(file, 'utf8'), 'keep 2\n');
});

test('no file: nothing to do', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lgw-compact-'));
  assert.equal((await compactLineFile(join(dir, 'none'), () => true)).compacted, false);
});

test('appenders in other processes, racing repeated compactions by two compactors: no appended line is lost', async () => {
  const { file } = fileWith(Array.from({ length: 5000 }, (_, i) => `old ${i}`));
  const PER = 3000;
  // Two processes appending as logouts do (appendFileSync: open O_APPEND, write one line, close).
  const appender = (tag: string) =>
    new Promise<number | null>((ok) => {
      const script = `const fs=require('fs');for(let i=0;i<${PER};i++){fs.appendFileSync(process.argv[1],'new ${tag} '+i+'\\n');if(i%50===0){const t=Date.now();while(Date.now()-t<1);}}`;
      spawn(process.execPath, ['-e', script, file], { stdio: 'ignore' }).once('exit', ok);
    });
  const appending = Promise.all([appender('a'), appender('b')]);
  let done = false;
  void appending.then(() => (done = true));
  let compactions = 0;
  while (!done) {
    const results = await Promise.all([0, 1].map(() => compactLineFile(file, (l) => l.startsWith('new'))));
    compactions += results.filter((r) => r.compacted).length;
  }
  assert.deepEqual(await appending, [0, 0]);
  const lines = new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean));
  const lost = ['a', 'b'].flatMap((tag) => Array.from({ length: PER }, (_, i) => `new ${tag} ${i}`)).filter((l) => !lines.has(l));
  assert.ok(compactions >= 2, `compactions ran during the appends: ${compactions}`);
  assert.deepEqual(lost.slice(0, 5), [], `${lost.length} appended lines lost over ${compactions} compactions`);
  assert.ok(![...lines].some((l) => l.startsWith('old')), 'the dropped lines are gone');
});
