/**
 * Faults on the new routes: publicservice calls and the job-history lookups behind taskID follow-ups,
 * against a real simulated Linkis whose publicservice is refused, cut, hung or broken. Every answer is an
 * envelope that says what failed; nothing falls back to another Entrance.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSimulatedLinkis, type SimulatedLinkis } from '../src/simulator/linkis';
import { call, startGateway, type TestGateway } from './support/harness';
import { startBlackhole, freePort } from './support/process-harness';

const TOKEN_HEADERS = { 'token-user': 'alice', 'token-code': 'test-token-0123456789abcdef' };
const API = '/api/rest_j/v1';

async function gatewayFor(linkis: SimulatedLinkis, publicservice: string, settings: Record<string, string> = {}): Promise<TestGateway> {
  return startGateway(linkis.entrances, { settings: { 'gateway.publicservice.instances': publicservice, 'gateway.task.cache.ms': '0', ...settings } });
}

async function submitAlice(gw: TestGateway): Promise<{ taskID: number; execID: string }> {
  const r = await call(`${gw.url}${API}/entrance/submit`, {
    method: 'POST',
    headers: { ...TOKEN_HEADERS, 'content-type': 'application/json' },
    body: JSON.stringify({ executionContent: { code: 'select 1', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' } }),
  });
  assert.equal(r.body.status, 0, r.text);
  return r.body.data;
}

describe('publicservice faults', () => {
  let linkis: SimulatedLinkis;
  before(async () => {
    linkis = await startSimulatedLinkis({ entrances: 2 });
  });
  after(() => linkis.close());

  it('not configured: a 503 naming the key for publicservice calls and taskIDs; prefixes not enabled: 404', async () => {
    const gw = await startGateway(linkis.entrances);
    try {
      for (const path of ['jobhistory/1/get', 'filesystem/openLog?path=x', 'entrance/1/status']) {
        const r = await call(`${gw.url}${API}/${path}`, { headers: TOKEN_HEADERS });
        assert.equal(r.status, 503, path);
        assert.equal(r.body.data.errorCode, 'PUBLICSERVICE_NOT_CONFIGURED');
        assert.match(r.body.message, /gateway\.publicservice\.instances/);
      }
      const off = await call(`${gw.url}${API}/udf/all`, { headers: TOKEN_HEADERS });
      assert.equal(off.status, 404);
      assert.equal(off.body.data.errorCode, 'PUBLICSERVICE_PREFIX_OFF');
      assert.match(off.body.message, /gateway\.publicservice\.prefixes/);
    } finally {
      await gw.close();
    }
  });

  it('one publicservice refused: calls and lookups go to the other; all refused: clear envelopes', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const gw = await gatewayFor(linkis, `${dead}=http://${dead},${linkis.publicservice.instance}=${linkis.publicservice.url}`);
    try {
      const { taskID } = await submitAlice(gw);
      for (let i = 0; i < 4; i++) {
        assert.equal((await call(`${gw.url}${API}/jobhistory/${taskID}/get`, { headers: TOKEN_HEADERS })).body.status, 0, 'a read moves to a live instance');
        assert.equal((await call(`${gw.url}${API}/entrance/${taskID}/status`, { headers: TOKEN_HEADERS })).body.status, 0, 'so does a lookup');
      }
    } finally {
      await gw.close();
    }
    const gw2 = await gatewayFor(linkis, `${dead}=http://${dead}`);
    const seen = linkis.entrances.map((e) => e.received.length);
    try {
      const r = await call(`${gw2.url}${API}/jobhistory/1/get`, { headers: TOKEN_HEADERS });
      assert.equal(r.status, 503);
      assert.equal(r.body.data.errorCode, 'UPSTREAM_REFUSED');
      assert.match(r.body.message, new RegExp(dead));
      const t = await call(`${gw2.url}${API}/entrance/1/status`, { headers: TOKEN_HEADERS });
      assert.ok(t.status >= 500 && t.status < 600 && ['NO_HEALTHY_PUBLICSERVICE', 'TASK_LOOKUP_FAILED'].includes(t.body.data.errorCode), t.text);
      linkis.entrances.forEach((e, i) => assert.equal(e.received.length, seen[i], 'no Entrance guessed'));
    } finally {
      await gw2.close();
    }
  });

  it('a publicservice that hangs, cuts its answer or sends garbage: envelopes, and lookups say the lookup failed', async () => {
    const gw = await gatewayFor(linkis, `${linkis.publicservice.instance}=${linkis.publicservice.url}`, { 'gateway.upstream.response.timeout.ms': '400' });
    try {
      const { taskID } = await submitAlice(gw);
      const cases: Array<[string, number, string, string]> = [
        ['hang', 504, 'UPSTREAM_TIMEOUT', 'TASK_LOOKUP_FAILED'],
        ['die-mid-response', 502, 'UPSTREAM_RESET', 'TASK_LOOKUP_FAILED'],
        ['garbage', 502, 'UPSTREAM_BAD_ANSWER', 'TASK_LOOKUP_FAILED'],
        ['html-error', 502, 'UPSTREAM_ERROR_ANSWER', 'TASK_NOT_FOUND'],
      ];
      for (const [mode, http, code, lookupCode] of cases) {
        linkis.publicservice.mode = mode as typeof linkis.publicservice.mode;
        const r = await call(`${gw.url}${API}/jobhistory/${taskID}/get`, { headers: TOKEN_HEADERS });
        if (mode !== 'html-error') assert.equal(r.status, http, `${mode}: ${r.text}`);
        assert.equal(r.body.data.errorCode, code, mode);
        const t = await call(`${gw.url}${API}/entrance/${taskID}/status`, { headers: TOKEN_HEADERS });
        assert.ok(['TASK_LOOKUP_FAILED', 'TASK_NOT_FOUND'].includes(t.body.data.errorCode), `${mode}: ${t.text}`);
        if (mode !== 'html-error') assert.equal(t.body.data.errorCode, lookupCode, mode);
      }
    } finally {
      linkis.publicservice.mode = 'normal';
      await gw.close();
    }
  });

  it('a publicservice that accepts no connection: the lookup fails in connect-timeout time, not forever', async () => {
    const hole = await startBlackhole();
    const gw = await gatewayFor(linkis, `hole:1=${hole.url}`, { 'gateway.upstream.connect.timeout.ms': '300' });
    try {
      const started = Date.now();
      const r = await call(`${gw.url}${API}/entrance/7/status`, { headers: TOKEN_HEADERS });
      assert.ok(r.status >= 500, r.text);
      assert.ok(Date.now() - started < 3_000, `answered after ${Date.now() - started} ms`);
    } finally {
      await gw.close();
      await hole.close();
    }
  });
});
