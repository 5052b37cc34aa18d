/**
 * Hostile input, property-based (fast-check), against ONE running gateway with real simulated Entrances
 * (one writing 1.x execIDs, one 0.x). Generated paths, execIDs, headers and bodies go out over raw
 * sockets, byte for byte as generated. On every request:
 *
 * - the answer is a Linkis envelope (JSON with method/status/message/data); only raw-socket garbage that is
 *   not HTTP may instead get a closed connection;
 * - never a 5xx for the client's own mistake: a 5xx is allowed only when an Entrance answered one;
 * - well-formed requests by an allowed user succeed;
 * - the gateway keeps answering /health.
 *
 * After the run, every request any Entrance received carries exactly one ticket cookie, decrypting to the
 * user the gateway authenticated for that request (correlated through the forwarded x-request-id), no
 * client identity header, and — for submissions — that user as executeUser.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { EntranceSimulator } from '../src/simulator/entrance';
import { startSimulatedLinkis } from '../src/simulator/linkis';
import { createTicketCodec } from '../src/linkis/ticket';
import { ENTRANCE, OTHER_TOKEN, TOKEN, call, isEnvelope, startGateway, type TestGateway } from './support/harness';
import { rawRequest } from './support/raw-http';

const codec = createTicketCodec('bdp-for-server');
const TICKET_COOKIE = 'linkis_user_session_ticket_id_v1';

interface Case {
  id: string;
  kind: string;
  wire: Buffer;
  /** The user the gateway must act as if it forwards this request; null: it must reach no Entrance. */
  authUser: string | null;
  /** Not HTTP (CR/LF/NUL inside headers): an envelope or a closed connection. */
  garbage?: boolean;
  /** A well-formed request by an allowed user: must succeed (HTTP 200, status 0). */
  mustSucceed?: boolean;
}

interface Auth {
  headers: Array<[string, string]>;
  authUser: string | null;
}

/** Any byte outside printable ASCII in a request target is percent-encoded (as UTF-8); the rest is sent as generated. */
function target(s: string): string {
  return Array.from(s)
    .map((ch) => (/^[\x21-\x7e]$/.test(ch) ? ch : encodeURIComponent(ch).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)))
    .join('');
}

function wire(method: string, path: string, id: string, headers: Array<[string, string]>, body?: Buffer, encoding: BufferEncoding = 'utf8'): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', `X-Request-Id: ${id}`, ...headers.map(([k, v]) => `${k}: ${v}`)];
  if (body) lines.push(`Content-Length: ${body.length}`);
  lines.push('Connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, encoding), body ?? Buffer.alloc(0)]);
}

// --- generators -----------------------------------------------------------------------------------

const VALID_USER = /^[A-Za-z0-9_][A-Za-z0-9._@-]{0,63}$/;
const validName = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._@-]{0,15}$/);
const auth: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('alice', 'bob').map((u) => ({ headers: [['Proxy-User', u], ['Validation-Code', TOKEN]] as Array<[string, string]>, authUser: u })) },
  { weight: 3, arbitrary: validName.map((u) => ({ headers: [['Proxy-User', u], ['Validation-Code', OTHER_TOKEN]] as Array<[string, string]>, authUser: u })) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom<Array<[string, string]>>(
        [],
        [['Proxy-User', 'alice']],
        [['Validation-Code', TOKEN]],
        [['Proxy-User', 'carol'], ['Validation-Code', TOKEN]],
        [['Proxy-User', 'alice'], ['Validation-Code', 'not-a-known-token-0000']],
        [['Proxy-User', ''], ['Validation-Code', TOKEN]],
        [['Proxy-User', 'x'.repeat(65)], ['Validation-Code', OTHER_TOKEN]],
        [['Proxy-User', '.alice'], ['Validation-Code', OTHER_TOKEN]],
        [['Proxy-User', 'alice bob'], ['Validation-Code', OTHER_TOKEN]],
        [['Proxy-User', 'alice,bob'], ['Validation-Code', TOKEN]],
        [['Proxy-User', '*'], ['Validation-Code', OTHER_TOKEN]],
        [['Token-User', 'carol'], ['Token-Code', TOKEN]],
        [['Token-User', 'alice']],
        [['Cookie', 'Token-User=alice']],
        [['Cookie', 'linkis_gateway_session=v1.AAAAAAAAAAAAAAAA.BBBBBBBB.CCCCCCCCCCCCCCCCCCCCCC']],
        [['Cookie', 'linkis_gateway_session=alice']],
      )
      .map((headers) => ({ headers, authUser: null })),
  },
  // Linkis's token forms (linkis-cli, the Java SDK): headers, or cookies of the same names.
  { weight: 2, arbitrary: fc.constantFrom('alice', 'bob').map((u) => ({ headers: [['Token-User', u], ['Token-Code', TOKEN]] as Array<[string, string]>, authUser: u })) },
  { weight: 1, arbitrary: fc.constantFrom('alice', 'bob').map((u) => ({ headers: [['Cookie', `a=1; Token-User=${u}; Token-Code=${TOKEN}`]] as Array<[string, string]>, authUser: u })) },
);

const SEGMENTS = ['', '.', '..', '%2e%2e', '%2E', '.%2e', '%252F', '%2F', '%5C', '%00', '%', '%zz', '%C0%AF', '%EF%BF%BF', 'submit', 'execute', 'operation', 'metrics', 'runningtask', 'status', 'log', 'kill', 'killJobs', '__proto__', 'constructor', 'exec_id', '0', '9'.repeat(25), ';', '~', '\u00e9', '\u2028', '\ud83d\ude00', 'a'.repeat(3000)];
const segment = fc.oneof(fc.constantFrom(...SEGMENTS), fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }));
const PREFIXES = [`${ENTRANCE}/`, `${ENTRANCE}//`, '/', '/api/rest_j/v1/', '/api/rest_j/v1/entrance', '/api/rest_j/v1/entrancex/', '//api/rest_j/v1/entrance/', '//', '//health', '/API/rest_j/v1/entrance/', '/api/rest_j/v1/entrance/../', '/health/', '/ready/../', '*', 'http://127.0.0.1/api/rest_j/v1/entrance/'];
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom('?instance=', '?instance=127.0.0.1:1', '?instance=%00', '?instance=a:b', '?fromLine=-1&size=abc', '?taskID=1&taskID=2', '?&&==', '?=#e\\@^', '?instance=127.0.0.1:9104&instance=x'),
  fc.string({ maxLength: 20 }).map((s) => `?${s}`),
);

const ACTIONS = ['status', 'log', 'progress', 'progressWithResource', 'kill', 'pause', 'killJobs', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'x'.repeat(70), 'st atus', ''];
const ID_VARIANTS = ['plain', 'encoded', 'double', 'dotdot', 'slashes', 'nul', 'overlong', 'unicode', 'truncated', 'lengthLie', 'numeric', 'negative', 'hugeNumeric', 'space', 'backslash', 'upper'] as const;

function mutateId(id: string, variant: (typeof ID_VARIANTS)[number]): string {
  switch (variant) {
    case 'plain':
      return id;
    case 'encoded':
      return encodeURIComponent(id);
    case 'double':
      return encodeURIComponent(encodeURIComponent(id));
    case 'dotdot':
      return `..%2F${encodeURIComponent(id)}`;
    case 'slashes':
      return `${encodeURIComponent(id)}//`;
    case 'nul':
      return `${encodeURIComponent(id)}%00`;
    case 'overlong':
      return encodeURIComponent(id) + 'A'.repeat(5000);
    case 'unicode':
      return encodeURIComponent(id.replace(/[0-9]+$/, '\u0661\u0662'));
    case 'truncated':
      return encodeURIComponent(id.slice(0, Math.max(1, id.length - 12)));
    case 'lengthLie':
      return encodeURIComponent(id.replace(/^(exec_id)?(\d)/, (_m, p: string | undefined, d: string) => `${p ?? ''}${(Number(d) + 1) % 10}`));
    case 'numeric':
      return '42';
    case 'negative':
      return '-1';
    case 'hugeNumeric':
      return '9'.repeat(400);
    case 'space':
      return encodeURIComponent(` ${id}`);
    case 'backslash':
      return encodeURIComponent(`${id}\\..\\`);
    case 'upper':
      return encodeURIComponent(id.toUpperCase());
  }
}

const deep = (n: number, open: string, close: string, inner = '1') => open.repeat(n) + inner + close.repeat(n);
const validSubmission = (code: string, creator = 'IDE') => ({ executionContent: { code, runType: 'sql' }, params: {}, labels: { engineType: 'spark-3.2.1', userCreator: `root-${creator}` } });
const wrongType = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 3 }));
const bodyText: fc.Arbitrary<{ text: string; valid: boolean }> = fc.oneof(
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map((text) => ({ text, valid: false })) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }).map((text) => ({ text, valid: false })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        deep(10_000, '[', ']'),
        deep(10_000, '{"a":', '}'),
        `{"executionContent":{"code":"x"},"labels":${deep(10_000, '{"a":', '}')}}`,
        `{"executionContent":${deep(10_000, '[', ']')}}`,
        `{"executeUser":"root","params":${deep(5_000, '{"variable":', '}', '{}')}}`,
        '{"executionContent":',
        '{"a":1}garbage',
        '\u0000{"a":1}',
        '\ufeff{"executionContent":{"code":"x","runType":"sql"}}',
        '{"__proto__":{"executeUser":"root"},"labels":{"__proto__":{"userCreator":"root-IDE"}}}',
        '{"executeUser":"alice","executeUser":"root"}',
        'null',
        '[]',
        '"submit"',
        '1e999',
      )
      .map((text) => ({ text, valid: false })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record(
        {
          executionContent: fc.oneof(wrongType, fc.record({ code: fc.oneof(fc.string(), wrongType), runType: fc.oneof(fc.constant('sql'), wrongType) })),
          labels: fc.oneof(wrongType, fc.record({ userCreator: fc.oneof(fc.constantFrom('root-IDE', 'x-', '-', 'noDash', '', 'a-b-c'), wrongType), engineType: fc.oneof(fc.constant('spark-3.2.1'), wrongType) }, { requiredKeys: [] })),
          executeUser: fc.oneof(fc.constant('root'), wrongType),
          submitUser: fc.oneof(fc.constant('root'), wrongType),
          umUser: wrongType,
          params: wrongType,
        },
        { requiredKeys: [] },
      )
      .map((o) => ({ text: JSON.stringify(o), valid: false })),
  },
  { weight: 1, arbitrary: fc.constantFrom(100_000, 300_000).map((n) => ({ text: JSON.stringify({ ...validSubmission('x'.repeat(n)), params: { variable: { v: 'y'.repeat(n) } }, source: { scriptPath: 'z'.repeat(n) } }), valid: true })) },
  { weight: 2, arbitrary: fc.tuple(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.stringMatching(/^[A-Za-z]{1,8}$/)).map(([code, creator]) => ({ text: JSON.stringify(validSubmission(code, creator)), valid: true })) },
);

// --- the suite ------------------------------------------------------------------------------------

test('hostile input: envelopes only, no 5xx for client mistakes, no crash, and every forwarded request acts as the authenticated user', async (t) => {
  // A whole simulated Linkis: numeric taskIDs are looked up in its job history (as the user) like real ones.
  const linkis = await startSimulatedLinkis({ entrances: 2 });
  const sims: EntranceSimulator[] = linkis.entrances;
  t.after(() => linkis.close());
  const gw: TestGateway = await startGateway(sims, {
    settings: { 'gateway.ratelimit.client.limit': '0', 'gateway.ratelimit.user.limit': '0', 'gateway.publicservice.instances': `${linkis.publicservice.instance}=${linkis.publicservice.url}` },
  });
  t.after(() => gw.close());
  const port = Number(new URL(gw.url).port);

  const cases = new Map<string, Case>();
  let n = 0;
  const nextId = (kind: string) => `hostile-${kind}-${++n}`;
  const violations: string[] = [];

  // Seed jobs owned by alice and bob on both Entrances, through the gateway.
  const jobs: Array<{ id: string; owner: string }> = [];
  for (const owner of ['alice', 'bob', 'alice', 'bob']) {
    const id = nextId('seed');
    const body = Buffer.from(JSON.stringify(validSubmission('select 1')));
    const c: Case = { id, kind: 'seed', authUser: owner, mustSucceed: true, wire: wire('POST', `${ENTRANCE}/submit`, id, [['Proxy-User', owner], ['Validation-Code', TOKEN], ['Content-Type', 'application/json']], body) };
    cases.set(id, c);
    const x = await rawRequest(port, c.wire);
    const env = JSON.parse(x.responses[0].body.toString());
    assert.equal(env.status, 0, JSON.stringify(env));
    jobs.push({ id: env.data.execID, owner });
  }
  assert.ok(sims.every((s) => s.jobs.size === 2), 'jobs on both Entrances');

  const check = async (c: Case): Promise<void> => {
    cases.set(c.id, c);
    const x = await rawRequest(port, c.wire, { waitMs: 10_000 });
    const where = `${c.kind} ${c.id}: ${JSON.stringify(c.wire.subarray(0, 160).toString('latin1'))}`;
    const res = x.responses[0];
    if (!res) {
      if (!(c.garbage && x.closedByServer)) violations.push(`${where}: no answer (closed by server: ${x.closedByServer}; got ${JSON.stringify(x.raw.toString('latin1').slice(0, 120))})`);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      body = undefined;
    }
    if (!isEnvelope(body) || typeof (body as { data?: unknown }).data !== 'object') {
      violations.push(`${where}: HTTP ${res.status} is not an envelope: ${res.body.toString('utf8').slice(0, 200)}`);
      return;
    }
    if (!/^application\/json/.test(res.headers['content-type'] ?? '')) violations.push(`${where}: content-type ${res.headers['content-type']}`);
    if (res.status >= 500) {
      // Access lines are written once per event-loop turn.
      for (let i = 0; i < 20 && !gw.logs.some((l) => l.message === 'access' && l.requestId === c.id); i++) await new Promise((ok) => setTimeout(ok, 10));
      const line = gw.logs.find((l) => l.message === 'access' && l.requestId === c.id);
      const upstream = Number(line?.upstreamStatus ?? 0);
      if (upstream < 500) violations.push(`${where}: HTTP ${res.status} without an Entrance failure: ${res.body.toString('utf8').slice(0, 300)}`);
    }
    if (c.mustSucceed && (res.status !== 200 || (body as { status: number }).status !== 0)) {
      violations.push(`${where}: a well-formed request failed: HTTP ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
    }
  };

  const health = async (label: string) => {
    const h = await call(`${gw.url}/health`);
    assert.equal(h.status, 200, `the gateway still answers /health after ${label}`);
  };
  // HOSTILE_SEED=<n> replays a run (fast-check prints the seed of a failing one).
  const runs = (numRuns: number) => ({ numRuns, endOnFailure: true, ...(process.env.HOSTILE_SEED ? { seed: Number(process.env.HOSTILE_SEED) } : {}) });
  const tally: Record<string, number> = {};
  const count = (k: string) => (tally[k] = (tally[k] ?? 0) + 1);

  // 1. Paths under the prefix and outside it, any method but HEAD (no body to carry an envelope).
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE'), fc.constantFrom(...PREFIXES), fc.array(segment, { maxLength: 4 }), query, auth, async (method, prefix, segs, q, a) => {
      count('paths');
      const id = nextId('path');
      const body = method === 'GET' || method === 'DELETE' || method === 'OPTIONS' || method === 'TRACE' ? undefined : Buffer.from('{}');
      // Whether the gateway may forward it is decided by the gateway; if it does, it must act as `a.authUser`.
      await check({ id, kind: 'path', authUser: a.authUser, wire: wire(method, target(prefix + segs.join('/')) + target(q), id, [...a.headers, ['Content-Type', 'application/json']], body) });
    }),
    runs(800),
  );
  await health('generated paths');

  // 2. execIDs: real ones, mutated (double-encoded, dot segments, NUL, overlong, unicode, lying lengths, ...).
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: jobs.length - 1 }), fc.constantFrom(...ID_VARIANTS), fc.constantFrom(...ACTIONS), auth, async (j, variant, action, a) => {
      count('execids');
      const id = nextId('execid');
      const job = jobs[j];
      const seg = mutateId(job.id, variant);
      const post = action === 'killJobs';
      const body = post ? Buffer.from(JSON.stringify({ idList: [job.id, '../x'], taskIDList: [1, 'x'] })) : undefined;
      const q = action === 'log' ? '?fromLine=0&size=5' : '';
      const wellFormed = (variant === 'plain' || variant === 'encoded') && ['status', 'log', 'progress', 'progressWithResource'].includes(action) && a.authUser === job.owner;
      await check({ id, kind: 'execid', authUser: a.authUser, mustSucceed: wellFormed, wire: wire(post ? 'POST' : 'GET', `${ENTRANCE}/${seg}/${target(action)}${q}`, id, [...a.headers, ['Content-Type', 'application/json']], body) });
    }),
    runs(800),
  );
  await health('generated execIDs');

  // 3. Headers: duplicates, non-ASCII users, huge values, CR/LF/NUL over the raw socket, forged cookies.
  const forgedCookie = fc
    .array(
      fc.constantFrom(
        `${TICKET_COOKIE}=${codec.mint('root')}`,
        `${TICKET_COOKIE}=${codec.mint('alice')}`,
        'dataworkcloud_inner_request=true',
        'dataworkcloud_inner_request=false',
        `bdp-user-ticket-id=${codec.mint('root')}`,
        `LINKIS_USER_SESSION_TICKET_ID_V1=${codec.mint('root')}`,
        `linkis_user_session_proxy_ticket_id_v1=${codec.mint('root')}`,
        `${TICKET_COOKIE}="${codec.mint('root')}"`,
        ` ${TICKET_COOKIE} = ${codec.mint('root')} `,
        'session=abc',
        'a=b=c',
        '=',
        ';;',
      ),
      { minLength: 1, maxLength: 6 },
    )
    .map((parts) => parts.join('; '));
  type HeaderCase = { headers: Array<[string, string]>; authUser: string | null; garbage?: boolean; encoding?: BufferEncoding; kind: string };
  const headerCase: fc.Arbitrary<HeaderCase> = fc.oneof(
    fc.tuple(fc.constantFrom('alice', 'bob', 'root'), fc.constantFrom('alice', 'bob', 'root')).map(([u1, u2]) => ({ kind: 'dup-user', headers: [['Proxy-User', u1], ['Validation-Code', OTHER_TOKEN], ['Proxy-User', u2]] as Array<[string, string]>, authUser: null })),
    fc.constant({ kind: 'dup-token', headers: [['Proxy-User', 'alice'], ['Validation-Code', TOKEN], ['Validation-Code', OTHER_TOKEN]] as Array<[string, string]>, authUser: null }),
    fc.tuple(fc.constantFrom('alic\u00e9', '\u00e5lice', 'al\u0131ce', '\u0430lice', 'alice\u200b', '\ud83d\ude00', 'alice\u00a0'), fc.constantFrom<BufferEncoding>('utf8', 'latin1')).map(([u, encoding]) => {
      // The gateway sees the bytes as latin1; writing 'ı' (U+0131) as latin1 sends '1': that one is a valid name.
      const seen = Buffer.from(u, encoding).toString('latin1');
      return { kind: 'non-ascii-user', headers: [['Proxy-User', u], ['Validation-Code', OTHER_TOKEN]] as Array<[string, string]>, authUser: VALID_USER.test(seen) ? seen : null, encoding };
    }),
    fc.constantFrom(65, 1000, 12_000, 20_000).map((len) => ({ kind: 'huge-user', headers: [['Proxy-User', 'a'.repeat(len)], ['Validation-Code', OTHER_TOKEN]] as Array<[string, string]>, authUser: null })),
    fc.constantFrom(1000, 12_000, 40_000).map((len) => ({ kind: 'huge-other', headers: [['Proxy-User', 'alice'], ['Validation-Code', TOKEN], ['X-Big', 'x'.repeat(len)]] as Array<[string, string]>, authUser: len < 16_000 ? 'alice' : null })),
    fc.constantFrom(1000, 40_000).map((len) => ({ kind: 'huge-token', headers: [['Proxy-User', 'alice'], ['Validation-Code', 'k'.repeat(len)]] as Array<[string, string]>, authUser: null })),
    fc
      .constantFrom(
        // A second header line: a duplicate, joined by Node, an invalid user name.
        { value: `alice\r\nProxy-User: root`, garbage: false },
        // Bare CR, bare LF, NUL: not HTTP.
        { value: 'alice\rroot', garbage: true },
        { value: 'alice\nProxy-User: root', garbage: true },
        { value: 'alice\u0000root', garbage: true },
        { value: 'alice\r\n root', garbage: true },
        { value: 'alice\r\n\tProxy-User: root', garbage: true },
      )
      .map(({ value, garbage }) => ({ kind: garbage ? 'crlf-garbage' : 'crlf-duplicate', headers: [['Proxy-User', value], ['Validation-Code', OTHER_TOKEN]] as Array<[string, string]>, authUser: null, garbage })),
    // A smuggled second request behind a legitimate one: only the first may reach an Entrance (as alice).
    fc.constant({ kind: 'smuggle', headers: [['Proxy-User', `alice\r\nValidation-Code: ${TOKEN}\r\nContent-Length: 0\r\n\r\nGET ${ENTRANCE}/submit HTTP/1.1\r\nHost: x\r\nProxy-User: root`], ['Validation-Code', OTHER_TOKEN]] as Array<[string, string]>, authUser: 'alice' }),
    fc.tuple(auth, forgedCookie).map(([a, cookie]) => ({ kind: 'forged-cookie', headers: [...a.headers, ['Cookie', cookie], ['Cookie', `${TICKET_COOKIE}=${codec.mint('root')}`]] as Array<[string, string]>, authUser: a.authUser })),
    fc.tuple(auth, fc.constantFrom('Token-User', 'Token-Code', 'X-Forwarded-For', 'Forwarded', 'X-Real-IP', 'Transfer-Encoding', 'Expect', 'Upgrade', 'Content-Length'), fc.constantFrom('root', 'chunked', '100-continue', 'websocket', '-1', '1, 2', '')).map(([a, name, value]) => ({
      kind: 'odd-header',
      headers: [...a.headers, [name, value]] as Array<[string, string]>,
      authUser: a.authUser,
    })),
  );
  await fc.assert(
    fc.asyncProperty(headerCase, fc.constantFrom('status', 'progress', 'log'), fc.nat({ max: jobs.length - 1 }), async (h, action, j) => {
      count('headers');
      const id = nextId('header');
      const path = `${ENTRANCE}/${encodeURIComponent(jobs[j].id)}/${action}`;
      await check({ id, kind: `header:${h.kind}`, authUser: h.authUser, garbage: h.garbage, wire: wire('GET', path, id, h.headers, undefined, h.encoding) });
    }),
    runs(500),
  );
  await health('generated headers');

  // 4. Bodies for execute and submit: broken JSON, 10,000-deep nesting, wrong types, huge strings, arrays.
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('submit', 'execute'), bodyText, auth, fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', ''), async (call_, b, a, type) => {
      count('bodies');
      const id = nextId('body');
      const headers: Array<[string, string]> = [...a.headers];
      if (type) headers.push(['Content-Type', type]);
      // `submit` needs executionContent and labels; the 0.x `execute` needs executeApplicationName: a body valid for one is not for the other.
      // A user name with '-' cannot be in labels.userCreator ("user-creator"): Linkis (and the simulator) split it at the first '-'.
      const mustSucceed = b.valid && call_ === 'submit' && a.authUser !== null && !a.authUser.includes('-');
      await check({ id, kind: `body:${call_}`, authUser: a.authUser, mustSucceed, wire: wire('POST', `${ENTRANCE}/${call_}`, id, headers, Buffer.from(b.text, 'utf8')) });
    }),
    runs(500),
  );
  await health('generated bodies');

  // --- what the Entrances received --------------------------------------------------------------
  let forwarded = 0;
  for (const sim of [...sims, linkis.publicservice]) {
    for (const r of sim.received) {
      forwarded++;
      const rid = String(r.headers['x-request-id'] ?? '');
      const c = cases.get(rid);
      const where = `${sim.instance} got ${r.method} ${r.path.slice(0, 120)} (x-request-id ${rid})`;
      if (!c) {
        violations.push(`${where}: no generated request has this id (a smuggled or unattributed request)`);
        continue;
      }
      if (c.authUser === null) {
        violations.push(`${where}: reached an Entrance although the gateway must refuse it (${c.kind})`);
        continue;
      }
      if (r.ticketUser !== c.authUser) violations.push(`${where}: ticket user ${r.ticketUser}, authenticated ${c.authUser}`);
      const cookies = String(r.headers.cookie ?? '')
        .split(';')
        .map((p) => p.trim())
        .filter(Boolean);
      const tickets = cookies.filter((p) => /ticket/i.test(p.slice(0, p.indexOf('=') === -1 ? p.length : p.indexOf('='))));
      if (tickets.length !== 1 || !tickets[0].startsWith(`${TICKET_COOKIE}=`)) violations.push(`${where}: ticket cookies ${JSON.stringify(tickets)}`);
      else if (codec.read(tickets[0].slice(TICKET_COOKIE.length + 1))?.user !== c.authUser) violations.push(`${where}: the ticket does not decrypt to ${c.authUser}`);
      const inner = cookies.filter((p) => p.startsWith('dataworkcloud_inner_request'));
      if (inner.length !== 1 || inner[0] !== 'dataworkcloud_inner_request=true') violations.push(`${where}: inner-request cookies ${JSON.stringify(inner)}`);
      for (const h of ['proxy-user', 'validation-code', 'token-user', 'token-code', 'jobinstancekey']) {
        // jobInstanceKey: only the gateway's own, for a taskID it looked up.
        if (r.headers[h] !== undefined && !(h === 'jobinstancekey' && /^\{"status":/.test(String(r.headers[h])))) violations.push(`${where}: header ${h} reached the Entrance`);
      }
      if (cookies.some((p) => /^(token-code|token-user|linkis_gateway_session)=/i.test(p))) violations.push(`${where}: a credential cookie reached it`);
      if (/\/(submit|execute)$/.test(r.path.split('?')[0])) {
        try {
          const body = JSON.parse(r.body);
          if (body.executeUser !== c.authUser) violations.push(`${where}: executeUser ${JSON.stringify(body.executeUser)}`);
          for (const f of ['submitUser', 'umUser']) if (f in body && body[f] !== c.authUser) violations.push(`${where}: ${f} ${JSON.stringify(body[f])}`);
          const uc = body.labels?.userCreator;
          if (uc !== undefined && !String(uc).startsWith(`${c.authUser}-`)) violations.push(`${where}: userCreator ${uc}`);
        } catch {
          violations.push(`${where}: a submission body that is not JSON reached the Entrance`);
        }
      }
    }
  }

  const tried = n;
  console.log(
    `hostile: ${tried} requests tried (${Object.entries(tally)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}, seeds 4), ${forwarded} reached an Entrance, ${violations.length} invariant violations, 0 crashes`,
  );
  assert.deepEqual(violations.slice(0, 20), [], `${violations.length} violations`);
  await health('the whole run');
  assert.ok(!gw.logs.some((l) => l.message === 'unexpected error in the data plane'), 'no unexpected errors');
});
