import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, statSync, symlinkSync, utimesSync, watch, writeFileSync, writeSync, chmodSync, realpathSync, lstatSync, renameSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { tokenFingerprint } from '../../src/control-plane/token-policy';
import { dirname, join } from 'node:path';
import { AdminError } from '../../src/admin/admin-error';
import { acquireFileLock } from '../../src/admin/lock-file';
import { applyEdit } from '../../src/admin/tokens-file';
import { createTokensRepo, etagOf, parseEtag } from '../../src/admin/tokens-repo';

const T1 = 'repo-test-token-0001';
const T2 = 'repo-test-token-0002';

function dirWith(text: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lgw-repo-'));
  const file = join(dir, 'proxy.properties');
  writeFileSync(file, text);
  return { dir, file };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<AdminError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AdminError, String(err));
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

test('two writers on one file (separate repos, as the CLI and the gateway are) with the same ETag: one wins, one conflict', async () => {
  const { file } = dirWith(`# c\n${T1}=alice\n`);
  const a = createTokensRepo({ file });
  const b = createTokensRepo({ file });
  const tag = (await a.read()).etag;
  const results = await Promise.allSettled([
    a.update(tag, (t) => applyEdit(t, { op: 'create', token: T2, users: ['from-a'] })),
    b.update(tag, (t) => applyEdit(t, { op: 'add-users', fingerprint: tokenFingerprint(T1), users: ['from-b'] })),
  ]);
  assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.equal((lost.reason as AdminError).code, 'ADMIN_CONFLICT');
  assert.equal((lost.reason as AdminError).data.etag, etagOf(readFileSync(file)));
  const text = readFileSync(file, 'utf8');
  assert.ok(text.includes('from-a') !== text.includes('from-b'), text);
  await Promise.all([a.close(), b.close()]);
});

test('writes are atomic and keep the mode; no temp or lock file is left; the ETag is the hash of the bytes', async () => {
  const { dir, file } = dirWith(`${T1}=alice\n`);
  chmodSync(file, 0o640);
  const written: string[] = [];
  const repo = createTokensRepo({ file, onWritten: (e) => written.push(e) });
  const { etag } = await repo.read();
  assert.equal(etag, etagOf(readFileSync(file)));
  const inodeBefore = statSync(file).ino;
  const r = await repo.update(etag, (t) => applyEdit(t, { op: 'create', token: T2, users: '*' }));
  assert.equal(statSync(file).mode & 0o777, 0o640);
  assert.notEqual(statSync(file).ino, inodeBefore, 'replaced by rename, not rewritten in place');
  assert.deepEqual(readdirSync(dir), ['proxy.properties']);
  assert.equal(r.etagAfter, etagOf(readFileSync(file)));
  assert.deepEqual(written, [r.etagAfter]);
  assert.equal(repo.lastWrittenEtag(), r.etagAfter);
  // An edit that changes nothing writes nothing.
  const same = await repo.update(r.etagAfter, (t) => applyEdit(t, { op: 'set-users', fingerprint: tokenFingerprint(T2), users: '*' }));
  assert.equal(same.etagAfter, r.etagAfter);
  assert.equal(written.length, 1);
  await repo.close();
  await rejectsWith(repo.update(r.etagAfter, (t) => ({ text: t, changed: true })), 'ADMIN_FILE_BUSY');
});

test('a symlinked file is written where it really lives; the link stays', async () => {
  const { dir, file } = dirWith(`${T1}=alice\n`);
  const link = join(dir, 'link.properties');
  symlinkSync(file, link);
  const repo = createTokensRepo({ file: link });
  await repo.update((await repo.read()).etag, (t) => applyEdit(t, { op: 'create', token: T2, users: ['bob'] }));
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(realpathSync(link), file);
  assert.match(readFileSync(file, 'utf8'), /=bob\n$/);
});

test('a missing file reads as empty, so the first token can be created', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lgw-repo-'));
  const repo = createTokensRepo({ file: join(dir, 'proxy.properties') });
  const { text, etag } = await repo.read();
  assert.equal(text, '');
  await repo.update(etag, (t) => applyEdit(t, { op: 'create', token: T1, users: ['alice'] }));
  assert.equal(readFileSync(join(dir, 'proxy.properties'), 'utf8'), `${T1}=alice\n`);
  assert.equal(statSync(join(dir, 'proxy.properties')).mode & 0o777, 0o600);
});

test('a live lock holder makes writers wait, then ADMIN_FILE_BUSY; the file is untouched', async () => {
  const { file } = dirWith(`${T1}=alice\n`);
  const held = await acquireFileLock(`${file}.lock`);
  const repo = createTokensRepo({ file, lock: { waitMs: 150 } });
  const err = await rejectsWith(repo.update((await repo.read()).etag, (t) => applyEdit(t, { op: 'create', token: T2, users: ['x'] })), 'ADMIN_FILE_BUSY');
  assert.match(err.message, new RegExp(`pid ${process.pid}`));
  assert.equal(readFileSync(file, 'utf8'), `${T1}=alice\n`);
  // Released: the next write goes through.
  await held.release();
  await repo.update((await repo.read()).etag, (t) => applyEdit(t, { op: 'create', token: T2, users: ['x'] }));
});

test('a lock left by a dead process, or an old one, is broken', async () => {
  const { file } = dirWith(`${T1}=alice\n`);
  const lock = `${file}.lock`;
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  writeFileSync(lock, JSON.stringify({ pid: Number(dead), host: hostname(), nonce: 'dead' }));
  const repo = createTokensRepo({ file, lock: { waitMs: 1000 } });
  await repo.update((await repo.read()).etag, (t) => applyEdit(t, { op: 'create', token: T2, users: ['x'] }));
  // An unreadable lock from another host, 20 s old: stale.
  writeFileSync(lock, 'garbage');
  utimesSync(lock, new Date(Date.now() - 20_000), new Date(Date.now() - 20_000));
  await repo.update((await repo.read()).etag, (t) => applyEdit(t, { op: 'add-users', fingerprint: tokenFingerprint(T1), users: ['y'] }));
  assert.match(readFileSync(file, 'utf8'), /=alice,y\n/);
});

test('parseEtag: a strong ETag, quoted or bare; nothing else', () => {
  const h = etagOf('x');
  assert.equal(parseEtag(`"${h}"`), h);
  assert.equal(parseEtag(h.toUpperCase()), h);
  for (const bad of ['*', `W/"${h}"`, '"abc"', '', `"${h}", "${h}"`]) assert.equal(parseEtag(bad), null, bad);
});

test('a hand edit made while a change is being validated (sed -i, an editor rename, >>, >) refuses the change with 409 and stays', async () => {
  const writers: Array<[string, (file: string) => void]> = [
    ['sed -i', (f) => spawnSync('sed', ['-i', 's/=alice$/=alice,hand/', f])],
    ['editor rename', (f) => spawnSync('sh', ['-c', `cp "$1" "$1.swp" && sed -i 's/=alice$/=alice,hand/' "$1.swp" && mv "$1.swp" "$1"`, 'sh', f])],
    ['>> append', (f) => spawnSync('sh', ['-c', `echo "${T2}=hand" >> "$1"`, 'sh', f])],
    ['> rewrite in place', (f) => spawnSync('sh', ['-c', `printf '%s=alice,hand\\n' "${T1}" > "$1"`, 'sh', f])],
  ];
  for (const [name, handEdit] of writers) {
    const { dir, file } = dirWith(`# c\n${T1}=alice\n`);
    const repo = createTokensRepo({ file });
    const tag = (await repo.read()).etag;
    // The edit is where seconds go at 60,000 tokens: the hand edit lands in the middle of it.
    const err = await rejectsWith(
      repo.update(tag, (t) => {
        const r = applyEdit(t, { op: 'add-users', fingerprint: tokenFingerprint(T1), users: ['admin-added'] });
        handEdit(file);
        return r;
      }),
      'ADMIN_CONFLICT',
    );
    const now = readFileSync(file);
    assert.match(now.toString(), /[=,]hand\n/, `${name}: the hand edit stays`);
    assert.doesNotMatch(now.toString(), /admin-added/, `${name}: the refused change is not written`);
    assert.equal(err.data.etag, etagOf(now), name);
    assert.deepEqual(readdirSync(dir).filter((f) => f !== 'proxy.properties'), [], `${name}: no temp or lock file left`);
    await repo.close();
  }
});

test('a writer holding the replaced file open appends to it during the replace: its line is put back, the change refused', async () => {
  const { file } = dirWith(`# c\n${T1}=alice\n`);
  const repo = createTokensRepo({ file });
  const tag = (await repo.read()).etag;
  // Like `cat >> file` started just before the rename: it writes into the old file once the new one is in place.
  const fd = openSync(file, 'a');
  const watcher = watch(dirname(file), (_e, name) => {
    if (name !== 'proxy.properties') return;
    watcher.close();
    writeSync(fd, `${T2}=late-appender\n`);
    closeSync(fd);
  });
  const err = await rejectsWith(repo.update(tag, (t) => applyEdit(t, { op: 'add-users', fingerprint: tokenFingerprint(T1), users: ['admin-added'] })), 'ADMIN_CONFLICT');
  const now = readFileSync(file, 'utf8');
  assert.equal(now, `# c\n${T1}=alice\n${T2}=late-appender\n`, 'the appender wins: its line is there, the refused change is not');
  assert.equal(err.data.etag, etagOf(now));
  assert.match(err.message, /kept/);
  await repo.close();
});

test('a writer that read the file before the rename renames its copy in right after (sed -i, an editor save): 409, its copy stays', async () => {
  const { dir, file } = dirWith(`# c\n${T1}=alice\n`);
  const repo = createTokensRepo({ file });
  const tag = (await repo.read()).etag;
  // Its copy was made from the version the change was based on, and lands just after the change's rename.
  const copy = join(dir, 'proxy.properties.sedXYZ');
  writeFileSync(copy, `# c\n${T1}=alice,hand\n`);
  const watcher = watch(dir, (_e, name) => {
    if (name !== 'proxy.properties') return;
    watcher.close();
    renameSync(copy, file);
  });
  const err = await rejectsWith(repo.update(tag, (t) => applyEdit(t, { op: 'add-users', fingerprint: tokenFingerprint(T1), users: ['admin-added'] })), 'ADMIN_CONFLICT');
  const now = readFileSync(file, 'utf8');
  assert.equal(now, `# c\n${T1}=alice,hand\n`, 'the later rename is the file; the refused change is not in it');
  assert.equal(err.data.etag, etagOf(now));
  assert.match(err.message, /not on disk/);
  assert.equal(repo.lastWrittenEtag(), null, 'the repo does not claim the write');
  await repo.close();
});

test('a writer that read the version just written renames its copy in right after: the change is in it, so it counts (200)', async () => {
  const { dir, file } = dirWith(`# c\n${T1}=alice\n`);
  const repo = createTokensRepo({ file });
  const tag = (await repo.read()).etag;
  const copy = join(dir, 'proxy.properties.sedXYZ');
  const watcher = watch(dir, (_e, name) => {
    if (name !== 'proxy.properties') return;
    watcher.close();
    // Like sed -i started just after the rename: it read the new version and adds its own edit.
    writeFileSync(copy, readFileSync(file, 'utf8').replace(`${T1}=alice,admin-added`, `${T1}=alice,admin-added`) + `${T2}=hand\n`);
    renameSync(copy, file);
  });
  const r = await repo.update(tag, (t) => applyEdit(t, { op: 'add-users', fingerprint: tokenFingerprint(T1), users: ['admin-added'] }));
  assert.equal(r.result.changed, true);
  const now = readFileSync(file, 'utf8');
  assert.match(now, /admin-added/);
  assert.match(now, /=hand\n/);
  await repo.close();
});

