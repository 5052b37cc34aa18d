/**
 * What an operator reads: the access line of a proxied request has every field, request ids travel
 * client → gateway → Entrance → client, and no token appears anywhere in the logs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntranceSimulator } from '../../src/simulator/entrance';
import { tokenFingerprint } from '../../src/control-plane/token-policy';
import { ENTRANCE, OTHER_TOKEN, TOKEN, asUser, call, startGateway, startSimulators, submit, type TestGateway } from '../support/harness';

describe('access log and request ids', () => {
  let sims: EntranceSimulator[];
  let gw: TestGateway;
  let execId: string;
  before(async () => {
    sims = await startSimulators(2);
    gw = await startGateway(sims);
    execId = (await submit(gw)).body.data.execID;
  });
  after(async () => {
    await gw.close();
    await Promise.all(sims.map((s) => s.close()));
  });
  const accessLine = (id: string) => gw.logs.find((l) => l.message === 'access' && l.requestId === id);
  const waitForLine = async (id: string) => {
    for (let i = 0; i < 50 && !accessLine(id); i++) await new Promise((r) => setTimeout(r, 10));
    return accessLine(id)!;
  };

  it('a client request id comes back, reaches the Entrance, and labels the access line with every field', async () => {
    const r = await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(execId)}/status`, { headers: asUser('alice', TOKEN, { 'x-request-id': 'job-poll-42' }) });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-request-id'), 'job-poll-42');
    const owner = sims.find((s) => s.jobs.has(execId))!;
    const got = owner.received.find((x) => x.headers['x-request-id'] === 'job-poll-42');
    assert.ok(got, 'the Entrance received the request id');
    const line = await waitForLine('job-poll-42');
    assert.ok(line, 'an access line with that request id');
    for (const field of ['timestamp', 'requestId', 'method', 'path', 'status', 'durationMs', 'bytes', 'user', 'token', 'instance', 'upstreamStatus', 'client']) {
      assert.ok(line[field] !== undefined, `access line lacks ${field}: ${JSON.stringify(line)}`);
    }
    assert.equal(line.method, 'GET');
    assert.equal(line.path, `${ENTRANCE}/${encodeURIComponent(execId)}/status`);
    assert.equal(line.status, 200);
    assert.equal(line.upstreamStatus, 200);
    assert.equal(line.user, 'alice');
    assert.equal(line.token, tokenFingerprint(TOKEN));
    assert.equal(line.instance, owner.instance);
    assert.equal(line.route, 'status');
    assert.ok((line.bytes as number) > 0);
  });

  it('the gateway’s own errors carry the request id in data.requestId and the envelope status in the log', async () => {
    const r = await call(`${gw.url}${ENTRANCE}/garbage-id/status`, { headers: asUser('alice', TOKEN, { 'x-request-id': 'bad-id-7' }) });
    assert.equal(r.status, 400);
    assert.equal(r.body.data.requestId, 'bad-id-7');
    const line = await waitForLine('bad-id-7');
    assert.equal(line.envelopeStatus, 1);
    assert.equal(line.errorCode, 'EXECID_MALFORMED');
  });

  it('uses the W3C traceparent trace id when there is no X-Request-Id', async () => {
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const r = await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(execId)}/progress`, { headers: asUser('alice', TOKEN, { traceparent: `00-${trace}-00f067aa0ba902b7-01` }) });
    assert.equal(r.headers.get('x-request-id'), trace);
  });

  it('replaces an unsafe request id with a generated one', async () => {
    for (const bad of ['has space', 'x'.repeat(200), 'semi;colon', '{"json":1}']) {
      const r = await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(execId)}/progress`, { headers: asUser('alice', TOKEN, { 'x-request-id': bad }) });
      const id = r.headers.get('x-request-id')!;
      assert.notEqual(id, bad);
      assert.match(id, /^[0-9a-f-]{36}$/);
    }
  });

  it('writes decision lines for refusals, and never a whole token', async () => {
    await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(execId)}/status`, { headers: asUser('alice', 'wrong-token-value-1', { 'x-request-id': 'refused-1' }) });
    await call(`${gw.url}${ENTRANCE}/${encodeURIComponent(execId)}/status`, { headers: asUser('mallory', TOKEN, { 'x-request-id': 'refused-2' }) });
    await waitForLine('refused-2');
    const refusals = gw.logs.filter((l) => l.event === 'auth.refused');
    assert.deepEqual(
      refusals.filter((l) => ['refused-1', 'refused-2'].includes(l.requestId as string)).map((l) => l.reason),
      ['unknown-token', 'user-not-allowed'],
    );
    const raw = gw.rawLogs();
    for (const secret of [TOKEN, OTHER_TOKEN, 'wrong-token-value-1']) assert.ok(!raw.includes(secret), `log contains ${secret}`);
  });

  it('a token pasted into the path (a ;parameter, after an encoded ?, as a segment) is not logged', async () => {
    const API = '/api/rest_j/v1';
    const enc = encodeURIComponent(TOKEN);
    const paths = [
      [`${API}/user/proxy;validationCode=${enc}?proxyUser=alice`, 'path-secret-1'],
      [`${API}/user/proxy%3FproxyUser=alice&validationCode=${enc}`, 'path-secret-2'],
      [`${ENTRANCE}/${enc}/status`, 'path-secret-3'],
      [`${API}/jobhistory/${enc}/get`, 'path-secret-4'],
      [`${ENTRANCE}/x;v=${enc}/status`, 'path-secret-5'],
    ];
    for (const [path, id] of paths) await call(`${gw.url}${path}`, { headers: asUser('alice', TOKEN, { 'x-request-id': id! }) });
    for (const [, id] of paths) {
      const line = await waitForLine(id!);
      assert.ok(line, id);
      assert.match(String(line.path), /\[redacted\]/, `${id}: ${line.path}`);
    }
    const raw = gw.rawLogs();
    assert.ok(!raw.includes(TOKEN) && !raw.includes(enc), 'the token is nowhere in the logs');
  });
});
