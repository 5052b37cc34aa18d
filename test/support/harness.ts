/**
 * Starts real gateways and simulated Entrances on 127.0.0.1 port 0 for integration tests. Each test
 * builds its own set and closes it: nothing is shared between tests.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createAllowlistStore, type AllowlistStore } from '../../src/control-plane/allowlist-store';
import { validateConfig, type GatewayConfig } from '../../src/control-plane/config';
import { createGateway, type Gateway } from '../../src/gateway';
import { createAccessLog } from '../../src/ops/access-log';
import { createLogger } from '../../src/ops/logger';
import type { Logger } from 'winston';
import { createMetrics, type GatewayMetrics } from '../../src/ops/metrics';
import { createRateLimits, type RateLimits } from '../../src/data-plane/rate-limit';
import { createEntranceSimulator, type EntranceSimulator, type SimulatorOptions } from '../../src/simulator/entrance';
import { createTicketCodec } from '../../src/linkis/ticket';
import { createUpstreamRegistry, type UpstreamRegistry } from '../../src/control-plane/upstreams';
import { createRevokedSessionStore, type RevokedSessionStore } from '../../src/control-plane/session-store';
import { startDiscovery, type Discovery } from '../../src/control-plane/discovery/refresh';

/** Seals the test gateways' session cookies (a real gateway generates one into its conf directory). */
export const TEST_SESSION_SECRET = 'test-session-secret-0123456789abcdef0123456789';

export const TOKEN = 'test-token-0123456789abcdef';
export const OTHER_TOKEN = 'other-token-abcdef0123456789';
export const DEFAULT_PROXY_PROPERTIES = `# test allowlist\n${TOKEN}=alice,bob\n${OTHER_TOKEN}=*\n`;

export interface TestGateway {
  url: string;
  config: GatewayConfig;
  store: AllowlistStore;
  registry: UpstreamRegistry;
  /** linkis-ps-publicservice instances (from `gateway.publicservice.instances` in settings). */
  publicservice: UpstreamRegistry;
  revokedSessions: RevokedSessionStore;
  metrics: GatewayMetrics;
  rateLimits: RateLimits;
  /** Service discovery, when `gateway.discovery` is set in settings (as main starts it). */
  discovery?: Discovery;
  gateway: Gateway;
  server: Server;
  /** Every log line the gateway wrote, as parsed JSON. */
  logs: Array<Record<string, unknown>>;
  /** The gateway's logger, for parts a test wires beside it (e.g. the admin listener). */
  logger: Logger;
  /** The raw log text, to check that no secret appears anywhere. */
  rawLogs(): string;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  /** Entrances by name; default: the simulators' own instance names and URLs. */
  instances?: Array<{ name: string; url: string }>;
  proxyProperties?: string;
  settings?: Record<string, string>;
}

export async function startGateway(sims: EntranceSimulator[], opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const confDir = mkdtempSync(join(tmpdir(), 'lgw-test-'));
  const proxyFile = join(confDir, 'proxy.properties');
  writeFileSync(proxyFile, opts.proxyProperties ?? DEFAULT_PROXY_PROPERTIES);
  const instances = opts.instances ?? sims.map((s) => ({ name: s.instance, url: s.url }));
  const config = validateConfig(
    { 'gateway.entrance.instances': instances.map((i) => `${i.name}=${i.url}`).join(','), 'gateway.server.port': '0', 'gateway.log.format': 'json', ...opts.settings },
    confDir,
    join(confDir, 'gateway.properties'),
  );
  let raw = '';
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      const text = chunk.toString();
      raw += text;
      for (const line of text.split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger(config.log, { stream: sink, isTTY: false });
  const store = createAllowlistStore({ file: config.proxyUserFile, logger, tokenPolicy: config.tokenPolicy });
  const first = store.reload('start');
  if (!first.ok) throw new Error(`test allowlist invalid: ${JSON.stringify(first)}`);
  const registry = createUpstreamRegistry(config.instances, { failureThreshold: config.health.passiveFailures, ejectMs: config.health.passiveEjectMs });
  for (const name of config.draining) registry.setDraining(name, true);
  const publicservice = createUpstreamRegistry(config.publicservice.instances, { role: 'publicservice', failureThreshold: config.health.passiveFailures, ejectMs: config.health.passiveEjectMs });
  const revokedSessions = createRevokedSessionStore(confDir);
  const metrics = createMetrics([registry, publicservice], { processMetrics: false });
  const rateLimits = await createRateLimits({ ...config.rateLimit, trustProxy: config.trustProxy }, { logger, onLimited: (s) => metrics.rateLimited(s) });
  const mode = config.discovery.mode;
  const discovery = mode === 'static' ? undefined : await startDiscovery(config.discovery, { registry, publicservice, logger, draining: config.draining, onRefresh: (ok) => metrics.discoveryRefresh(mode, ok) });
  const gateway = createGateway({
    config,
    logger,
    allowlist: () => store.current(),
    allowlistLoaded: () => true,
    registry,
    publicservice,
    sessionSecret: TEST_SESSION_SECRET,
    revokedSessions,
    metrics,
    rateLimits,
    accessLog: createAccessLog({ logger, level: config.log.level, pretty: false, stream: sink, flushMs: 0 }),
    discovery,
  });
  const server = createServer(gateway.handle);
  server.on('clientError', gateway.onClientError);
  server.on('checkExpectation', gateway.onCheckExpectation);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    config,
    store,
    registry,
    publicservice,
    revokedSessions,
    metrics,
    rateLimits,
    discovery,
    gateway,
    server,
    logs,
    logger,
    rawLogs: () => raw,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      gateway.close();
      discovery?.close();
      await rateLimits.close();
      metrics.close();
      registry.close();
      publicservice.close();
      revokedSessions.close();
      store.close();
    },
  };
}

export async function startSimulators(n: number, opts: SimulatorOptions = {}): Promise<EntranceSimulator[]> {
  const sims: EntranceSimulator[] = [];
  for (let i = 0; i < n; i++) sims.push(await createEntranceSimulator({ taskIdStart: 1 + i * 1000, ...opts }));
  return sims;
}

/** `n` simulators behind one gateway with `settings`; all closed after the test. */
export async function startAll(t: { after: (fn: () => unknown) => void }, n: number, settings: Record<string, string> = {}) {
  const sims = await startSimulators(n);
  // close() on an already closed simulator resolves at once (server.close calls back with an error).
  t.after(async () => {
    for (const s of sims) await s.close();
  });
  const gw = await startGateway(sims, { settings });
  t.after(() => gw.close());
  return { sims, gw };
}

/**
 * A TCP pass-through in front of an Entrance, so the test can watch the gateway's upstream connections
 * open and close (the simulator keeps its sockets private).
 */
export async function startTcpPassThrough(targetPort: number): Promise<{ url: string; open: () => number; opened: () => number; close: () => Promise<void> }> {
  const conns = new Set<Socket>();
  let opened = 0;
  const server: TcpServer = createTcpServer((client) => {
    opened++;
    conns.add(client);
    const upstream = connect(targetPort, '127.0.0.1');
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      conns.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    open: () => conns.size,
    opened: () => opened,
    close: () =>
      new Promise<void>((ok) => {
        for (const c of conns) c.destroy();
        server.close(() => ok());
      }),
  };
}

export const ENTRANCE = '/api/rest_j/v1/entrance';

export function asUser(user = 'alice', token = TOKEN, extra: Record<string, string> = {}): Record<string, string> {
  return { 'proxy-user': user, 'validation-code': token, ...extra };
}

export async function call(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const res = await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

const codec = createTicketCodec('bdp-for-server');

/** Creates a job directly on the Entrance (the gateway may not send it submissions); returns its execID. */
export async function jobDirect(sim: EntranceSimulator, user = 'alice'): Promise<string> {
  const r = await call(`${sim.url}${ENTRANCE}/submit`, {
    method: 'POST',
    headers: { cookie: `linkis_user_session_ticket_id_v1=${codec.mint(user)}; dataworkcloud_inner_request=true`, 'content-type': 'application/json' },
    body: JSON.stringify({ executionContent: { code: 'select 1', runType: 'sql' }, labels: { engineType: 'spark-3.2.1', userCreator: `${user}-IDE` } }),
  });
  assert.equal(r.status, 200, r.text);
  return r.body.data.execID;
}

export async function submit(gw: TestGateway, user = 'alice', token = TOKEN, body?: unknown): Promise<{ status: number; body: any }> {
  return call(`${gw.url}${ENTRANCE}/submit`, {
    method: 'POST',
    headers: { ...asUser(user, token), 'content-type': 'application/json' },
    body: JSON.stringify(body ?? { executionContent: { code: 'show tables', runType: 'sql' }, params: {}, labels: { engineType: 'spark-3.2.1', userCreator: `${user}-IDE` } }),
  });
}

/** Asserts the Linkis envelope shape; returns it for further checks. */
export function isEnvelope(body: any): boolean {
  return body !== null && typeof body === 'object' && typeof body.method === 'string' && Number.isInteger(body.status) && typeof body.message === 'string' && typeof body.data === 'object';
}
