import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { watchFile, type WatchOptions } from '../../src/control-plane/file-watch';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (pred()) return true;
    await sleep(20);
  }
  return pred();
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'file-watch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Watches `file`, runs `change`, expects onChange within 2 s. */
async function expectChange(
  t: { after(fn: () => void): void },
  file: string,
  change: () => void,
  opts: WatchOptions = {},
): Promise<number> {
  let calls = 0;
  const w = watchFile(file, () => calls++, opts);
  t.after(() => w.close());
  await sleep(50); // let the watcher arm
  change();
  assert.ok(await waitFor(() => calls > 0, 2000), 'onChange within 2 s');
  return calls;
}

const changes: Array<{ name: string; change: (dir: string, file: string) => void }> = [
  { name: 'in-place write', change: (_d, f) => writeFileSync(f, 'a=2\n') },
  { name: 'in-place append of the same size', change: (_d, f) => writeFileSync(f, 'b=1\n') },
  {
    name: 'atomic rename over the file',
    change: (d, f) => {
      writeFileSync(join(d, '.proxy.properties.tmp'), 'a=3\n');
      renameSync(join(d, '.proxy.properties.tmp'), f);
    },
  },
  {
    name: 'delete and recreate',
    change: (_d, f) => {
      unlinkSync(f);
      writeFileSync(f, 'a=4\n');
    },
  },
];

// pollMs 60 s: proves fs.watch alone catches it; defaults: the shipped behaviour.
for (const c of changes) {
  for (const [mode, opts] of [['defaults', {}], ['fs.watch alone', { pollMs: 60_000 }]] as const) {
    test(`watchFile notices: ${c.name} (${mode})`, async (t) => {
      const dir = tempDir(t);
      const file = join(dir, 'proxy.properties');
      writeFileSync(file, 'a=1\n');
      await expectChange(t, file, () => c.change(dir, file), opts);
    });
  }
}

test('watchFile notices a Kubernetes ConfigMap ..data symlink swap', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, '..v1'));
  writeFileSync(join(dir, '..v1', 'proxy.properties'), 'a=1\n');
  symlinkSync('..v1', join(dir, '..data'));
  symlinkSync('..data/proxy.properties', join(dir, 'proxy.properties'));
  const swap = (v: string) => () => {
    mkdirSync(join(dir, v));
    writeFileSync(join(dir, v, 'proxy.properties'), `a=${v}\n`);
    symlinkSync(v, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  await expectChange(t, join(dir, 'proxy.properties'), swap('..v2'));
  await expectChange(t, join(dir, 'proxy.properties'), swap('..v3'), { pollMs: 60_000 });
});

test('one burst of writes gives one onChange; unrelated files give none', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'proxy.properties');
  writeFileSync(file, 'a=1\n');
  let calls = 0;
  const w = watchFile(file, () => calls++, { debounceMs: 100, pollMs: 200 });
  t.after(() => w.close());
  writeFileSync(join(dir, 'other.txt'), 'x');
  await sleep(600);
  assert.equal(calls, 0, 'unrelated file');
  for (let i = 0; i < 5; i++) {
    writeFileSync(file, `a=${i}${'x'.repeat(i)}\n`);
    await sleep(10);
  }
  assert.ok(await waitFor(() => calls > 0, 2000));
  await sleep(600);
  assert.equal(calls, 1);
});

test('a throwing onChange does not stop the watching', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'proxy.properties');
  writeFileSync(file, 'a=1\n');
  let calls = 0;
  const w = watchFile(file, () => {
    calls++;
    throw new Error('listener bug');
  });
  t.after(() => w.close());
  await sleep(50);
  writeFileSync(file, 'a=2\n');
  assert.ok(await waitFor(() => calls === 1, 2000));
  writeFileSync(file, 'a=33\n');
  assert.ok(await waitFor(() => calls === 2, 2000));
});

test('close() stops callbacks and leaves no timers or watchers', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'proxy.properties');
  writeFileSync(file, 'a=1\n');
  // Handles close asynchronously, so compare counts after a moment to settle.
  const count = () =>
    process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap' || r === 'Timeout').length;
  await sleep(50);
  const before = count();
  let calls = 0;
  const w = watchFile(file, () => calls++, { debounceMs: 50, pollMs: 100 });
  assert.equal(count(), before + 2, 'a watcher and a poll timer while open');
  writeFileSync(file, 'a=2\n'); // leaves a debounce timer pending
  await sleep(60);
  w.close();
  w.close(); // idempotent
  await sleep(50);
  assert.equal(count(), before);
  writeFileSync(file, 'a=3\n');
  await sleep(400);
  assert.equal(calls, 0);
});

test('a process that closes its watcher exits on its own', (t) => {
  const dir = tempDir(t);
  const script = join(dir, 'child.ts');
  const src = resolve(__dirname, '../../src/control-plane/file-watch.ts');
  writeFileSync(
    script,
    `import { writeFileSync } from 'node:fs';
     import { watchFile } from ${JSON.stringify(src)};
     const file = ${JSON.stringify(join(dir, 'p.properties'))};
     writeFileSync(file, 'a=1');
     const w = watchFile(file, () => { w.close(); console.log('changed'); });
     setTimeout(() => writeFileSync(file, 'a=22'), 50);\n`,
  );
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
    cwd: resolve(__dirname, '..', '..'),
    timeout: 10_000,
    encoding: 'utf8',
  });
  assert.equal(r.error, undefined, 'child did not exit by itself');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'changed');
});
