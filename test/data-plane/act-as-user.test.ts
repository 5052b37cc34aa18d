/**
 * The act-as-user step against a real publicservice: the calls that take their user from the query
 * unchecked (listDurationTop, jobstatistics) are asked for the authenticated user only, whatever the
 * client named; other calls keep their query byte for byte.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSimulatedLinkis, type SimulatedLinkis } from '../../src/simulator/linkis';
import { asUser, call, startGateway, type TestGateway } from '../support/harness';

const API = '/api/rest_j/v1';

describe('publicservice calls that name their user in the query', () => {
  let linkis: SimulatedLinkis;
  let gw: TestGateway;
  before(async () => {
    linkis = await startSimulatedLinkis({ entrances: 1 });
    gw = await startGateway(linkis.entrances, { settings: { 'gateway.publicservice.instances': `${linkis.publicservice.instance}=${linkis.publicservice.url}` } });
  });
  after(async () => {
    await gw.close();
    await linkis.close();
  });
  const last = () => linkis.publicservice.received.at(-1)!;

  it("alice cannot list bob's (or everyone's) longest jobs or job counts", async () => {
    for (const [sent, forwarded] of [
      [`jobhistory/listDurationTop?proxyUser=bob&pageSize=5`, `jobhistory/listDurationTop?pageSize=5&proxyUser=alice`],
      [`jobhistory/listDurationTop`, `jobhistory/listDurationTop?proxyUser=alice`],
      [`jobhistory/jobstatistics/taskCount?proxy%55ser=bob&proxyUser=carol`, `jobhistory/jobstatistics/taskCount?proxyUser=alice`],
      [`jobhistory/jobstatistics/engineCount?startDate=1`, `jobhistory/jobstatistics/engineCount?startDate=1&proxyUser=alice`],
    ]) {
      await call(`${gw.url}${API}/${sent}`, { headers: asUser('alice') });
      assert.equal(last().path, `${API}/${forwarded}`, sent);
      assert.equal(last().ticketUser, 'alice');
    }
  });

  it('other calls keep the query as sent', async () => {
    const sent = `${API}/jobhistory/list?proxyUser=bob&pageNow=1&pageSize=10`;
    await call(`${gw.url}${sent}`, { headers: asUser('alice') });
    assert.equal(last().path, sent, 'Linkis checks this one itself (proxyUser counts for job history admins only)');
  });
});
