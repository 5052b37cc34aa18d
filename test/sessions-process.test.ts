/**
 * Sessions as an operator runs them: across `gateway.workers` (a login on one worker is good on every
 * other), across a restart (the secret generated into the conf directory stays), across replicas sharing
 * the conf directory (a logout on one ends the session on the other), and never two secrets.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSimulatedLinkis, type SimulatedLinkis } from '../src/simulator/linkis';
import { LinkisHttp } from './support/linkis-clients';
import { startMain, writeConf, type MainProcess } from './support/process-harness';

const TOKEN = 'session-test-token-0123456789abcdef';

describe('sessions across workers, restarts and replicas', () => {
  let linkis: SimulatedLinkis;
  let conf: string;
  const running: MainProcess[] = [];
  before(async () => {
    linkis = await startSimulatedLinkis({ entrances: 1 });
    conf = writeConf(
      {
        'gateway.entrance.instances': linkis.entrances.map((e) => `${e.instance}=${e.url}`).join(','),
        'gateway.publicservice.instances': `${linkis.publicservice.instance}=${linkis.publicservice.url}`,
        'gateway.workers': '2',
      },
      `${TOKEN}=alice\n`,
    );
  });
  after(async () => {
    for (const p of running) await p.stop();
    await linkis.close();
  });
  const start = async () => {
    const p = await startMain(conf);
    running.push(p);
    for (let i = 0; i < 50 && p.lines().filter((l) => l.message === 'listening').length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    return p;
  };

  it('a login works on every worker, survives a restart, and a logout on one replica ends it on another', async () => {
    const first = await start();
    const secretFile = join(conf, 'session.secret');
    assert.equal(statSync(secretFile).mode & 0o777, 0o600);
    const secret = readFileSync(secretFile, 'utf8');

    const client = new LinkisHttp(first.url);
    await client.ok('POST', 'user/login', undefined, { userName: 'alice', password: TOKEN });
    // fetch opens new connections, which the cluster spreads over both workers.
    assert.equal(first.lines().filter((l) => l.message === 'listening').length, 2);
    for (let i = 0; i < 12; i++) {
      const r = await client.send('GET', 'jobhistory/list');
      assert.equal(r.env.status, 0, JSON.stringify(r.env));
    }

    await first.stop();
    const second = await start();
    assert.equal(readFileSync(secretFile, 'utf8'), secret, 'one secret, kept');
    const again = new LinkisHttp(second.url);
    client.jar.copyTo(again.jar);
    assert.equal((await again.send('GET', 'jobhistory/list')).env.status, 0, 'the session survived the restart');

    // A replica sharing the conf directory (another process on the same files).
    const replica = await start();
    const onReplica = new LinkisHttp(replica.url);
    client.jar.copyTo(onReplica.jar);
    assert.equal((await onReplica.send('GET', 'jobhistory/list')).env.status, 0);
    await again.ok('POST', 'user/logout');
    let ended = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 5_000) {
      if ((await onReplica.send('GET', 'jobhistory/list')).http === 401) {
        ended = Date.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(ended > 0 && ended <= 2_000, `the logout reached the replica after ${ended} ms`);
  });
});
