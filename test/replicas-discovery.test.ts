/**
 * Three gateway replicas (real processes) reading Linkis's registry (a Eureka stand-in) in front of
 * simulated Entrances: an Entrance registered mid-traffic gets submissions from all three within one
 * refresh interval; one marked DOWN gets none from any replica while the follow-ups of its jobs still
 * reach it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSimulatedLinkis, type SimulatedLinkis } from '../src/simulator/linkis';
import { asUser, call, ENTRANCE } from './support/harness';
import { startMain, writeConf, type MainProcess } from './support/process-harness';
import { startRegistryStandin, type RegistryStandin } from './support/registry-standin';

const REFRESH_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function submitVia(gw: MainProcess): Promise<string> {
  const r = await call(`${gw.url}${ENTRANCE}/submit`, {
    method: 'POST',
    headers: { ...asUser('alice'), 'content-type': 'application/json' },
    body: JSON.stringify({ executionContent: { code: 'select 1', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' } }),
  });
  assert.equal(r.status, 200, r.text);
  return r.body.data.execID;
}

describe('three replicas following the registry', () => {
  let linkis: SimulatedLinkis;
  let reg: RegistryStandin;
  let firstId = '';
  const gws: MainProcess[] = [];
  before(async () => {
    reg = await startRegistryStandin();
    linkis = await startSimulatedLinkis({ entrances: 2 });
    firstId = reg.register('linkis-cg-entrance', { port: linkis.entrances[0]!.port }).id;
    reg.register('linkis-ps-publicservice', { port: linkis.publicservice.port });
    for (let i = 0; i < 3; i++) {
      gws.push(
        await startMain(
          writeConf({
            'gateway.discovery': 'eureka',
            'gateway.discovery.urls': reg.eurekaUrl,
            'gateway.discovery.refresh.ms': String(REFRESH_MS),
            'gateway.discovery.timeout.ms': '500',
            'gateway.health.check.mode': 'off',
          }),
        ),
      );
    }
  });
  after(async () => {
    for (const gw of gws) await gw.stop();
    await linkis.close();
    await reg.close();
  });

  it('a new Entrance gets submissions from every replica within one refresh; a DOWN one gets none but keeps its follow-ups', async () => {
    const [first, second] = linkis.entrances as [typeof linkis.entrances[0], typeof linkis.entrances[0]];
    const early = await Promise.all(gws.map(submitVia));
    assert.ok(early.every((id) => first.jobs.has(id)), 'only the registered Entrance at first');

    reg.register('linkis-cg-entrance', { port: second.port });
    await sleep(REFRESH_MS * 2); // one refresh interval, plus the time a refresh takes
    for (const gw of gws) {
      const before = second.jobs.size;
      for (let i = 0; i < 4; i++) await submitVia(gw);
      assert.ok(second.jobs.size > before, 'this replica sends submissions to the new Entrance');
    }

    // The first Entrance goes DOWN: no replica sends it a submission; its jobs are still answered by it.
    reg.setStatus(firstId, 'DOWN');
    await sleep(REFRESH_MS * 2);
    const jobsBefore = first.jobs.size;
    for (const gw of gws) for (let i = 0; i < 4; i++) await submitVia(gw);
    assert.equal(first.jobs.size, jobsBefore, 'no submission to a DOWN instance');
    for (const [i, gw] of gws.entries()) {
      const s = await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(early[i]!)}/status`, { headers: asUser('alice') });
      assert.equal(s.body.status, 0, s.text);
      assert.equal(s.body.data.execID, early[i]);
    }
  });
});
