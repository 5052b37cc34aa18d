/**
 * Discovery in the real gateway process (src/main.ts): with gateway.discovery set and no instance list,
 * no demo starts; Entrances and publicservice come from the stand-in Eureka; the registry going away is
 * one log line and /ready's `discovery` check, and the gateway keeps serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulatedLinkis } from '../src/simulator/linkis';
import { asUser, call, ENTRANCE, submit } from './support/harness';
import { startMain, writeConf } from './support/process-harness';
import { startRegistryStandin } from './support/registry-standin';

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('main with gateway.discovery=eureka: serves what the registry lists and survives the registry going away', async (t) => {
  const reg = await startRegistryStandin();
  t.after(() => reg.close());
  const linkis = await startSimulatedLinkis({ entrances: 1 });
  t.after(() => linkis.close());
  const [entrance] = linkis.entrances;
  reg.auth = `Basic ${Buffer.from('linkis:secret-pw').toString('base64')}`;
  reg.register('linkis-cg-entrance', { port: entrance!.port });
  reg.register('linkis-ps-publicservice', { port: linkis.publicservice.port });
  const conf = writeConf({
    'gateway.discovery': 'eureka',
    'gateway.discovery.urls': reg.eurekaUrl.replace('http://', 'http://linkis:secret-pw@'),
    'gateway.discovery.refresh.ms': '200',
    'gateway.discovery.timeout.ms': '500',
  });
  const gw = await startMain(conf);
  t.after(() => gw.stop());
  const lines = () => gw.lines();

  assert.ok(!lines().some((l) => String(l.message).startsWith('demo mode')));
  const started = lines().find((l) => l.event === 'discovery.start');
  assert.deepEqual(started?.found, { 'linkis-cg-entrance': [`${entrance!.instance} UP`], 'linkis-ps-publicservice': [`${linkis.publicservice.instance} UP`] });
  assert.deepEqual(lines().find((l) => l.message === 'listening')?.instances, [entrance!.instance]);

  const s = await submit({ url: gw.url } as Parameters<typeof submit>[0]);
  assert.equal(s.status, 200, JSON.stringify(s.body));
  const history = await call(`${gw.url}/api/rest_j/v1/jobhistory/${s.body.data.taskID}/get`, { headers: asUser() });
  assert.equal(history.body.status, 0, history.text);
  assert.equal((await call(`${gw.url}/ready`)).body.data.discovery, true);

  await reg.stop();
  await until('/ready to report the registry', async () => (await call(`${gw.url}/ready`)).body.data.discovery === false);
  await new Promise((r) => setTimeout(r, 600));
  const ready = await call(`${gw.url}/ready`);
  assert.equal(ready.status, 200);
  const follow = await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(s.body.data.execID)}/status`, { headers: asUser() });
  assert.equal(follow.body.status, 0, follow.text);
  assert.equal((await submit({ url: gw.url } as Parameters<typeof submit>[0])).status, 200);
  const down = lines().filter((l) => l.event === 'discovery.unreachable');
  assert.equal(down.length, 1);
  assert.equal(down[0]!.level, 'warn');
  assert.deepEqual(down[0]!.kept, { 'linkis-cg-entrance': [entrance!.instance], 'linkis-ps-publicservice': [linkis.publicservice.instance] });

  await reg.start();
  await until('recovery', async () => (await call(`${gw.url}/ready`)).body.data.discovery === true);
  assert.equal(lines().filter((l) => l.event === 'discovery.recovered').length, 1);
  assert.ok(!gw.stdout().includes('secret-pw') && !gw.stderr().includes('secret-pw'), 'the registry password never reaches the log');
  assert.equal(await gw.stop(), 0);
});
