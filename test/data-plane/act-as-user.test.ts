/**
 * The act-as-user step against a real publicservice: the calls that take their user from the query
 * unchecked (listDurationTop, jobstatistics) are asked for the authenticated user only, whatever the
 * client named; department views and BML's `creator` are dropped; other calls keep their query byte for
 * byte. And a filesystem call with a ".." segment in a parameter never reaches publicservice.
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

  it('department views are not served, and BML is asked as the user', async () => {
    for (const [sent, forwarded] of [
      [`jobhistory/list?pageNow=1&isDeptView=true&proxyUser=bob`, `jobhistory/list?pageNow=1&proxyUser=bob`],
      [`jobhistory/download-job-list?isDeptView=true`, `jobhistory/download-job-list`],
      [`filesystem/openScriptFromBML?resourceId=r1&creator=bob`, `filesystem/openScriptFromBML?resourceId=r1`],
    ]) {
      await call(`${gw.url}${API}/${sent}`, { headers: asUser('alice') });
      assert.equal(last().path, `${API}/${forwarded}`, sent);
    }
    const r = await call(`${gw.url}${API}/filesystem/chmod?filePath=${encodeURIComponent('file:///tmp/linkis/alice/../bob')}`, { headers: asUser('alice') });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.data.errorCode, 'BAD_PATH');
  });

  it('other calls keep the query as sent', async () => {
    const sent = `${API}/jobhistory/list?proxyUser=bob&pageNow=1&pageSize=10`;
    await call(`${gw.url}${sent}`, { headers: asUser('alice') });
    assert.equal(last().path, sent, 'Linkis checks this one itself (proxyUser counts for job history admins only)');
  });
});
