/**
 * What a client says about itself in headers, through a real gateway to the Entrance simulator (issue 11,
 * items 9 and 11): address claims are replaced by the address the gateway trusts, and only cookies with
 * RFC 6265 token names pass, after the minted ticket and the inner-request flag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createTicketCodec } from '../../src/linkis/ticket';
import { ENTRANCE, asUser, startAll, startGateway, startSimulators } from '../support/harness';
import { rawRequest } from '../support/raw-http';

const codec = createTicketCodec('bdp-for-server');
const TICKET = 'linkis_user_session_ticket_id_v1';
const SPOOFED: Array<[string, string]> = [
  ['X-Forwarded-For', '10.9.9.9, 10.8.8.8'],
  ['X-Real-IP', '10.9.9.9'],
  ['Forwarded', 'for=10.9.9.9;proto=https'],
  ['Proxy-Client-IP', '10.9.9.9'],
  ['WL-Proxy-Client-IP', '10.9.9.9'],
  ['HTTP_CLIENT_IP', '10.9.9.9'],
  ['HTTP_X_FORWARDED_FOR', '10.9.9.9'],
  ['Via', '1.1 evil-proxy'],
];

/** One GET over a raw socket, so header names (underscores, duplicates) go out exactly as written. */
async function rawGet(url: string, path: string, headers: Array<[string, string]>): Promise<number> {
  const lines = [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...headers.map(([k, v]) => `${k}: ${v}`), 'Connection: close', '', ''];
  const x = await rawRequest(Number(new URL(url).port), Buffer.from(lines.join('\r\n'), 'latin1'));
  return x.responses[0]!.status;
}

const auth = (): Array<[string, string]> => Object.entries(asUser()) as Array<[string, string]>;

test('client address headers never reach the Entrance; X-Forwarded-For is the socket address', async (t) => {
  const { sims, gw } = await startAll(t, 1);
  const [sim] = sims;
  const path = `${ENTRANCE}/operation/metrics/runningtask?instance=${encodeURIComponent(sim.instance)}`;
  assert.equal(await rawGet(gw.url, path, [...auth(), ...SPOOFED]), 200);
  const got = sim.received.at(-1)!.headers;
  for (const [name] of SPOOFED) if (name !== 'X-Forwarded-For') assert.equal(got[name.toLowerCase()], undefined, name);
  assert.equal(got['x-forwarded-for'], '127.0.0.1');
  // Without any client claim, the gateway still says where the request came from.
  assert.equal(await rawGet(gw.url, path, auth()), 200);
  assert.equal(sim.received.at(-1)!.headers['x-forwarded-for'], '127.0.0.1');
});

test('behind a trusted proxy (gateway.trust.proxy), X-Forwarded-For is the client that proxy names', async (t) => {
  const sims = await startSimulators(1);
  t.after(() => sims[0].close());
  const gw = await startGateway(sims, { settings: { 'gateway.trust.proxy': 'loopback' } });
  t.after(() => gw.close());
  const path = `${ENTRANCE}/operation/metrics/runningtask?instance=${encodeURIComponent(sims[0].instance)}`;
  assert.equal(await rawGet(gw.url, path, [...auth(), ['X-Forwarded-For', '203.0.113.7'], ['X-Real-IP', '10.9.9.9'], ['Via', '1.1 lb']]), 200);
  const got = sims[0].received.at(-1)!.headers;
  assert.equal(got['x-forwarded-for'], '203.0.113.7');
  assert.equal(got['x-real-ip'], undefined);
  assert.equal(got.via, undefined);
});

test('cookies: the minted ticket and the inner flag come first; names that are not tokens are dropped', async (t) => {
  const { sims, gw } = await startAll(t, 1);
  const [sim] = sims;
  const path = `${ENTRANCE}/operation/metrics/runningtask?instance=${encodeURIComponent(sim.instance)}`;
  const forged = codec.mint('root');
  const cookie = `"${TICKET}"=${forged}; "linkis_user_session_tick\\et_id_v1"=${forged}; keep=1; a b=2; dataworkcloud_inner_request=true`;
  assert.equal(await rawGet(gw.url, path, [...auth(), ['Cookie', cookie]]), 200);
  const rec = sim.received.at(-1)!;
  const sent = String(rec.headers.cookie);
  const minted = sent.split(';')[0]!.slice(TICKET.length + 1);
  assert.equal(codec.read(minted)?.user, 'alice');
  assert.equal(sent, `${TICKET}=${minted}; dataworkcloud_inner_request=true; keep=1`);
  assert.equal(rec.ticketUser, 'alice');
});

test('property: generated cookie names reach the Entrance iff they are RFC 6265 tokens (and not identity cookies)', async (t) => {
  const { sims, gw } = await startAll(t, 1);
  const [sim] = sims;
  const path = `${ENTRANCE}/operation/metrics/runningtask?instance=${encodeURIComponent(sim.instance)}`;
  const token = (n: string) => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(n);
  const char = fc.constantFrom(...'abcXYZ019_-.!#$%&\'*+^`|~"\\()<>@:/[]?{}'.split(''));
  const name = fc.oneof(fc.string({ unit: char, minLength: 1, maxLength: 6 }), fc.constantFrom(`"${TICKET}"`, `${TICKET.slice(0, 10)}\\${TICKET.slice(10)}`, 'x'));
  await fc.assert(
    fc.asyncProperty(fc.array(name, { minLength: 1, maxLength: 4 }), async (names) => {
      const cookie = names.map((n, i) => `${n}=v${i}`).join('; ');
      assert.equal(await rawGet(gw.url, path, [...auth(), ['Cookie', cookie]]), 200);
      const rec = sim.received.at(-1)!;
      assert.equal(rec.ticketUser, 'alice', cookie);
      const pairs = String(rec.headers.cookie).split('; ');
      assert.match(pairs[0]!, new RegExp(`^${TICKET}=`));
      assert.equal(pairs[1], 'dataworkcloud_inner_request=true');
      const want = names.map((n, i) => `${n}=v${i}`).filter((_, i) => token(names[i]!) && !/ticket/i.test(names[i]!));
      assert.deepEqual(pairs.slice(2), want, cookie);
    }),
    { numRuns: 80 },
  );
});
