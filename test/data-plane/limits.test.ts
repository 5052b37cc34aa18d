/**
 * Timeouts and limits, each breach with its own clear answer, against the real main process (its server
 * options are what is tested): oversized headers, unparsable headers, slow headers, slow bodies,
 * oversized bodies, an Entrance that accepts no connection, and one that goes silent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntranceSimulator } from '../../src/simulator/entrance';
import { createTicketCodec } from '../../src/linkis/ticket';
import { ENTRANCE, TOKEN, asUser, call, isEnvelope, startSimulators } from '../support/harness';
import { startBlackhole, startMain, writeConf, type Blackhole, type MainProcess } from '../support/process-harness';
import { rawHead, rawRequest, type RawExchange } from '../support/raw-http';

const codec = createTicketCodec('bdp-for-server');
const AUTH: Array<[string, string]> = [
  ['Proxy-User', 'alice'],
  ['Validation-Code', TOKEN],
];

function envelopeOf(x: RawExchange, index = 0): any {
  const r = x.responses[index];
  assert.ok(r, `a response (got ${JSON.stringify(x.raw.toString('latin1').slice(0, 300))})`);
  assert.match(r.headers['content-type'] ?? '', /^application\/json/);
  const body = JSON.parse(r.body.toString('utf8'));
  assert.ok(isEnvelope(body), r.body.toString('utf8'));
  return body;
}

describe('limits and timeouts (main process)', () => {
  let sim: EntranceSimulator;
  let hole: Blackhole;
  let gw: MainProcess;
  let execId: string;
  const holeName = () => `127.0.0.1:${hole.port}`;

  before(async () => {
    [sim] = await startSimulators(1);
    hole = await startBlackhole();
    gw = await startMain(
      writeConf({
        'gateway.entrance.instances': `${sim.instance},${holeName()}`,
        'gateway.server.max.header.bytes': '4096',
        'gateway.server.headers.timeout.ms': '500',
        'gateway.server.request.timeout.ms': '1000',
        'gateway.request.body.limit': '2kb',
        'gateway.upstream.connect.timeout.ms': '300',
        'gateway.upstream.response.timeout.ms': '500',
        'gateway.health.check.mode': 'off',
        'gateway.ratelimit.client.limit': '0',
        'gateway.ratelimit.user.limit': '0',
      }),
    );
    const r = await call(`${sim.url}${ENTRANCE}/submit`, {
      method: 'POST',
      headers: { cookie: `linkis_user_session_ticket_id_v1=${codec.mint('alice')}; dataworkcloud_inner_request=true`, 'content-type': 'application/json' },
      body: JSON.stringify({ executionContent: { code: 'select 1', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' } }),
    });
    execId = r.body.data.execID;
  });
  after(async () => {
    assert.equal(await gw.stop(), 0, 'the gateway exits 0 after all of this');
    await sim.close();
    await hole.close();
  });

  const statusPath = () => `${ENTRANCE}/${encodeURIComponent(execId)}/status`;

  it('headers over gateway.server.max.header.bytes: 431 envelope; just under the limit is served', async () => {
    const big = await rawRequest(gw.port, rawHead('GET', statusPath(), [...AUTH, ['X-Padding', 'a'.repeat(5000)]]));
    assert.equal(big.responses[0]?.status, 431, big.raw.toString('latin1').slice(0, 200));
    const body = envelopeOf(big);
    assert.equal(body.status, 1);
    assert.equal(body.data.errorCode, 'BAD_HEADER');
    assert.match(body.message, /too large/);
    assert.equal(big.responses[0].headers.connection, 'close');
    assert.ok(big.closedByServer);

    const fits = await rawRequest(gw.port, rawHead('GET', statusPath(), [...AUTH, ['X-Padding', 'a'.repeat(3000)], ['Connection', 'close']]));
    assert.equal(fits.responses[0]?.status, 200);
  });

  it('CR, LF, NUL and other breakage inside headers over a raw socket: a 400 envelope, never Node\'s bare "Bad Request"', async () => {
    const before = sim.received.length;
    const cases: Array<[string, string]> = [
      ['CRLF then a second Proxy-User on a bare LF', `GET ${statusPath()} HTTP/1.1\r\nHost: x\r\nProxy-User: alice\r\nValidation-Code: ${TOKEN}\r\nX-A: a\nProxy-User: root\r\n\r\n`],
      ['bare CR inside a value', `GET ${statusPath()} HTTP/1.1\r\nHost: x\r\nProxy-User: alice\rroot\r\nValidation-Code: ${TOKEN}\r\n\r\n`],
      ['bare LF line ends', `GET ${statusPath()} HTTP/1.1\nHost: x\nProxy-User: alice\nValidation-Code: ${TOKEN}\n\n`],
      ['NUL inside a value', `GET ${statusPath()} HTTP/1.1\r\nHost: x\r\nProxy-User: alice\0root\r\nValidation-Code: ${TOKEN}\r\n\r\n`],
      ['obsolete line folding', `GET ${statusPath()} HTTP/1.1\r\nHost: x\r\nProxy-User: alice\r\n root\r\nValidation-Code: ${TOKEN}\r\n\r\n`],
      ['space inside a header name', `GET ${statusPath()} HTTP/1.1\r\nHost: x\r\nProxy User: alice\r\n\r\n`],
      ['not HTTP at all', 'HELLO\r\n\r\n'],
    ];
    for (const [name, data] of cases) {
      const x = await rawRequest(gw.port, data);
      assert.equal(x.responses[0]?.status, 400, `${name}: ${x.raw.toString('latin1').slice(0, 200)}`);
      const body = envelopeOf(x);
      assert.equal(body.status, 1, name);
      assert.equal(body.data.errorCode, 'BAD_HEADER', name);
      assert.ok(x.closedByServer, `${name}: the connection is closed after the answer`);
    }
    assert.equal(sim.received.length, before, 'none of them reached the Entrance');
  });

  it('headers sent too slowly: a 408 envelope after gateway.server.headers.timeout.ms, and the connection closed', async () => {
    // Node checks header timeouts on a timer (connectionsCheckingInterval), which main.ts ties to the
    // configured timeouts: the answer comes within the timeout plus one check interval, not 30 s later.
    let trickle: NodeJS.Timeout | undefined;
    const x = await rawRequest(gw.port, `GET ${statusPath()} HTTP/1.1\r\nHost: x\r\n`, {
      onOpen: (socket) => {
        let n = 0;
        trickle = setInterval(() => {
          if (!socket.destroyed) socket.write(`X-Slow-${n++}: y\r\n`);
        }, 100);
      },
    });
    clearInterval(trickle);
    assert.equal(x.responses[0]?.status, 408, x.raw.toString('latin1').slice(0, 200));
    const body = envelopeOf(x);
    assert.equal(body.status, 1);
    assert.equal(body.data.errorCode, 'REQUEST_TIMEOUT');
    assert.ok(x.closedByServer);
    assert.ok(x.ms >= 450 && x.ms < 1500, `answered after ${x.ms.toFixed(0)} ms (headers timeout 500 ms)`);
  });

  it('a body sent too slowly: 408 after gateway.server.request.timeout.ms, and nothing reaches an Entrance', async () => {
    const before = sim.received.length;
    const body = JSON.stringify({ executionContent: { code: 'select 1', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' } });
    let trickle: NodeJS.Timeout | undefined;
    const head = `POST ${ENTRANCE}/submit HTTP/1.1\r\nHost: x\r\nProxy-User: alice\r\nValidation-Code: ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const x = await rawRequest(gw.port, head, {
      onOpen: (socket) => {
        let i = 0;
        trickle = setInterval(() => {
          if (!socket.destroyed && i < body.length - 1) socket.write(body[i++]);
        }, 100);
      },
    });
    clearInterval(trickle);
    assert.equal(x.responses[0]?.status, 408, x.raw.toString('latin1').slice(0, 300));
    assert.equal(x.responses.length, 1, 'one answer only: the gateway does not answer the abandoned request a second time');
    const env = envelopeOf(x);
    assert.equal(env.data.errorCode, 'REQUEST_TIMEOUT');
    assert.ok(x.closedByServer);
    assert.ok(x.ms >= 950 && x.ms < 2500, `answered after ${x.ms.toFixed(0)} ms (request timeout 1000 ms)`);
    assert.equal(sim.received.length, before, 'the half-received submission never reached the Entrance');
    // The access line tells the same story as the answer: a request timeout, not a client that went away.
    await waitFor(() => gw.lines().some((l) => l.message === 'access' && l.errorCode === 'REQUEST_TIMEOUT' && l.path === `${ENTRANCE}/submit`));
    const line = gw.lines().find((l) => l.message === 'access' && l.errorCode === 'REQUEST_TIMEOUT' && l.path === `${ENTRANCE}/submit`)!;
    assert.equal(line.status, 408);
  });

  it('a body over gateway.request.body.limit: 413 envelope, declared or chunked', async () => {
    const big = JSON.stringify({ executionContent: { code: 'x'.repeat(3000), runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' } });
    const declared = await call(`${gw.url}${ENTRANCE}/submit`, { method: 'POST', headers: { ...asUser(), 'content-type': 'application/json' }, body: big });
    assert.equal(declared.status, 413, declared.text);
    assert.equal(declared.body.status, 1);
    assert.equal(declared.body.data.errorCode, 'BODY_TOO_LARGE');
    const chunked = `POST ${ENTRANCE}/submit HTTP/1.1\r\nHost: x\r\nProxy-User: alice\r\nValidation-Code: ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`;
    const x = await rawRequest(gw.port, chunked);
    assert.equal(x.responses[0]?.status, 413);
    assert.equal(envelopeOf(x).data.errorCode, 'BODY_TOO_LARGE');
    assert.equal(x.responses[0].headers.connection, 'close');
  });

  it('an Entrance that accepts no connection: 504 with failure connect-timeout after gateway.upstream.connect.timeout.ms', async () => {
    const started = performance.now();
    const r = await call(`${gw.url}${ENTRANCE}/operation/metrics/runningtask?instance=${holeName()}`, { headers: asUser('alice', TOKEN, { 'x-request-id': 'limits-connect-timeout' }) });
    const took = performance.now() - started;
    assert.equal(r.status, 504, r.text);
    assert.equal(r.body.status, 1);
    assert.equal(r.body.data.errorCode, 'UPSTREAM_TIMEOUT');
    assert.equal(r.body.data.instance, holeName());
    assert.ok(took >= 280 && took < 1500, `answered after ${took.toFixed(0)} ms (connect timeout 300 ms)`);
    await waitFor(() => gw.lines().some((l) => l.requestId === 'limits-connect-timeout' && l.message === 'access'));
    const line = gw.lines().find((l) => l.requestId === 'limits-connect-timeout' && l.message === 'access')!;
    assert.equal(line.failure, 'connect-timeout');
    assert.equal(line.errorCode, 'UPSTREAM_TIMEOUT');
  });

  it('an Entrance that goes silent: 504 with failure timeout after gateway.upstream.response.timeout.ms', async () => {
    sim.mode = 'hang';
    try {
      const started = performance.now();
      const r = await call(`${gw.url}${statusPath()}`, { headers: asUser('alice', TOKEN, { 'x-request-id': 'limits-idle-timeout' }) });
      const took = performance.now() - started;
      assert.equal(r.status, 504, r.text);
      assert.equal(r.body.data.errorCode, 'UPSTREAM_TIMEOUT');
      assert.equal(r.body.data.instance, sim.instance);
      assert.ok(took >= 480 && took < 1500, `answered after ${took.toFixed(0)} ms (response timeout 500 ms)`);
      await waitFor(() => gw.lines().some((l) => l.requestId === 'limits-idle-timeout' && l.message === 'access'));
      assert.equal(gw.lines().find((l) => l.requestId === 'limits-idle-timeout' && l.message === 'access')!.failure, 'timeout');
    } finally {
      sim.mode = 'normal';
    }
    const ok = await call(`${gw.url}${statusPath()}`, { headers: asUser() });
    assert.equal(ok.status, 200, 'served again once the Entrance answers');
  });
});

async function waitFor(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
