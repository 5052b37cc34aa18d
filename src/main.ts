/**
 * The gateway process: the only place that reads the command line and environment, listens, watches
 * files and handles signals. Everything it starts has close(), called in reverse order on shutdown.
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createAdmin, type Admin } from './admin/admin';
import { createAllowlistStore } from './control-plane/allowlist-store';
import { ConfigError, loadConfig, type GatewayConfig } from './control-plane/config';
import { demoCurl, startDemo, type Demo } from './demo';
import { watchFile } from './control-plane/file-watch';
import { createGateway } from './gateway';
import { createHealthChecker } from './control-plane/health-check';
import { createAccessLog } from './ops/access-log';
import { createLogger, isPretty } from './ops/logger';
import { createMetrics } from './ops/metrics';
import { createRateLimits } from './data-plane/rate-limit';
import { createUpstreamRegistry, drainHere } from './control-plane/upstreams';
import { auditedDraining } from './admin/audit';
import { joinClusterDraining, serveClusterDraining } from './ops/cluster-draining';
import { startMetricsListener } from './ops/metrics-listener';
import { startDiscovery, type Discovery } from './control-plane/discovery/refresh';
import { createRevokedSessionStore, loadSessionSecret } from './control-plane/session-store';
import { superviseWorkers } from './ops/workers';
import { createDrain } from './ops/shutdown';
import { connectSharedRedis } from './control-plane/redis-shared';
import { allowlistKeys, createRedisTokensRepo, followRedisAllowlist } from './admin/redis-allowlist';
import { createRedisRevokedSessions, followRedisDraining } from './control-plane/redis-sessions';
import { registerOpsRoutes, serveClusterMetrics, workerClusterMetrics, type OpsDeps } from './ops/ops-routes';

/** How long start-up waits for the shared store before serving with no rules (not ready) and trying on. */
const START_WAIT_MS = 3000;

function confDirFrom(argv: string[], env: NodeJS.ProcessEnv): string {
  const i = argv.indexOf('--conf');
  if (i !== -1 && argv[i + 1]) return resolve(argv[i + 1]);
  const eq = argv.find((a) => a.startsWith('--conf='));
  if (eq) return resolve(eq.slice('--conf='.length));
  return resolve(env.LINKIS_GATEWAY_CONF ?? 'conf');
}

function fail(message: string): never {
  process.stderr.write(`linkis-gateway: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadConfig(confDirFrom(process.argv.slice(2), process.env));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    fail(`configuration error\n${err.message}`);
  }
  let sessionSecret: string;
  try {
    // Before any worker starts: the first start generates the secret once, every worker reads the same one.
    sessionSecret = loadSessionSecret(config.session.secret, config.confDir);
  } catch (err) {
    fail(`configuration error\n${(err as Error).message}`);
  }
  const supervising = cluster.isPrimary && config.workers > 1 && (config.instances.length > 0 || config.discovery.mode !== 'static');
  // With workers every log line names its process (0: the supervising primary), see ops/logger.ts.
  const worker = cluster.isWorker ? cluster.worker!.id : supervising ? 0 : undefined;
  const logger = createLogger(config.log, { worker });
  const closers: Array<() => unknown> = [];
  const accessLog = createAccessLog({ logger, level: config.log.level, pretty: isPretty(config.log), worker });
  closers.push(() => accessLog.close());

  // Several workers: this process only supervises (demo mode stays single-process: its simulated
  // Entrances live in the gateway process).
  if (supervising) {
    const supervisor = superviseWorkers(config.workers, logger);
    serveClusterMetrics();
    serveClusterDraining(config.draining, logger);
    const stop = async (signal: NodeJS.Signals) => {
      await supervisor.stop(signal);
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
    // Workers exit at once when the primary is gone: let them drain first (see onFatal below).
    let failing = false;
    onFatal = (err, origin) => {
      logFatal(logger, err, origin);
      if (failing) return;
      failing = true;
      void supervisor.stop('SIGTERM').finally(() => process.exit(1));
    };
    return;
  }

  let demo: Demo | undefined;
  if (config.instances.length === 0 && config.discovery.mode === 'static') {
    demo = await startDemo(config);
    closers.push(() => demo!.close());
    config = { ...config, instances: demo.instances, proxyUserFile: demo.proxyUserFile, publicservice: { ...config.publicservice, instances: demo.publicservice } };
    logger.warn('demo mode: no gateway.entrance.instances configured, started a simulated Linkis (Entrances and publicservice)', {
      instances: demo.instances.map((i) => `${i.name}=${i.url}`),
      publicservice: demo.publicservice.map((i) => `${i.name}=${i.url}`),
    });
  }

  const registry = createUpstreamRegistry(config.instances, { failureThreshold: config.health.passiveFailures, ejectMs: config.health.passiveEjectMs });
  closers.push(() => registry.close());
  for (const name of config.draining) registry.setDraining(name, true);
  // Draining is an admin's decision, not trouble: info. Health changes are worth a warning.
  registry.onChange((u, why) => logger.log(why === 'draining' || why === 'no longer draining' ? 'info' : 'warn', 'entrance state changed', { event: 'entrance.state', instance: u.name, healthy: u.healthy, draining: u.draining, registry: u.registration?.status, why }));
  // gateway.allowlist.store=redis: the allowlist, logouts and admin draining shared by every replica
  // (control-plane/redis-*.ts). Demo mode keeps its own temporary file.
  const shared = config.sharedStore.mode === 'redis' && !demo ? connectSharedRedis({ url: config.sharedStore.url!, prefix: config.sharedStore.prefix, checkMs: config.sharedStore.checkMs, logger }) : undefined;
  if (shared) closers.push(() => shared.close());
  // Draining is gateway-wide: a worker takes the primary's state before it serves (ops/cluster-draining.ts);
  // with the shared store every process of every replica follows Redis instead.
  const clusterDraining = cluster.isWorker && !shared ? await joinClusterDraining(registry) : undefined;
  const redisDraining = shared ? followRedisDraining(shared, registry, config.draining) : undefined;
  if (redisDraining) closers.push(() => redisDraining.close());
  if (clusterDraining) closers.push(() => clusterDraining.close());
  const publicservice = createUpstreamRegistry(config.publicservice.instances, { role: 'publicservice', failureThreshold: config.health.passiveFailures, ejectMs: config.health.passiveEjectMs });
  closers.push(() => publicservice.close());
  publicservice.onChange((u, why) => logger.warn('publicservice state changed', { event: 'publicservice.state', instance: u.name, healthy: u.healthy, why }));
  const metrics = createMetrics([registry, publicservice]);
  closers.push(() => metrics.close());
  // gateway.discovery: Entrances (and publicservice) from Linkis's registry; the first read before listening.
  let discovery: Discovery | undefined;
  if (config.discovery.mode !== 'static') {
    const mode = config.discovery.mode;
    discovery = await startDiscovery(config.discovery, { registry, publicservice, logger, draining: config.draining, onRefresh: (ok) => metrics.discoveryRefresh(mode, ok) });
    closers.push(() => discovery!.close());
  }

  const sharedWhere = shared ? `Redis ${config.sharedStore.url!.replace(/\/\/[^@/]*@/, '//')} (${allowlistKeys(config.sharedStore.prefix).text})` : undefined;
  const store = createAllowlistStore({ file: sharedWhere ?? config.proxyUserFile, logger, tokenPolicy: config.tokenPolicy, onReload: (r) => metrics.allowlistReload(r.ok, r.tokens) });
  const follower = shared ? followRedisAllowlist(shared, store) : undefined;
  // Logouts by any worker or replica sharing the conf directory (or the shared store) end the session everywhere.
  const revokedSessions = shared ? createRedisRevokedSessions(shared, config.sharedStore.checkMs) : createRevokedSessionStore(config.confDir);
  closers.push(() => revokedSessions.close());
  if (shared && !(await shared.start(START_WAIT_MS))) {
    // Fail closed, not fatal: nothing is allowed (not ready) until Redis answers; a Redis outage must not stop replicas starting.
    logger.error(`shared store not readable at start (${shared.problem()}): nothing is allowed until it is`, { event: 'shared.store.start' });
  }
  const first = shared ? { ok: true, tokens: store.current().size, problems: [], error: undefined } : store.reload('start');
  if (!first.ok) {
    const lines = first.problems.map((p) => `${config.proxyUserFile}:${p.line}: ${p.message}`);
    fail(`${config.proxyUserFile}: ${first.error ?? 'invalid'}\n${lines.join('\n')}`);
  }
  closers.push(() => store.close());
  // /metrics, /health and /ready on the admin listener; `gateway` is created below, before any request.
  const ops: OpsDeps = { metrics, readiness: () => gateway.readiness(), clusterMetrics: cluster.isWorker ? workerClusterMetrics(metrics) : undefined };
  let admin: Admin;
  try {
    const sharedRepo = shared ? createRedisTokensRepo({ send: shared.send, prefix: shared.prefix, channel: shared.channel, where: sharedWhere!, onWritten: follower!.noteWritten }) : undefined;
    admin = createAdmin({ config, proxyUserFile: config.proxyUserFile, logger, store, registry, extraRoutes: (app) => registerOpsRoutes(app, ops), sharedRepo });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    fail(`configuration error\n${err.message}`);
  }
  closers.push(() => admin.close());
  registry.setDrainCoordinator(auditedDraining(redisDraining?.coordinator ?? clusterDraining?.coordinator ?? drainHere(registry), admin.audit));
  if (!shared) {
    // Reloads on every change; tells the admin API's and CLI's writes from hand edits (logged and audited).
    const watcher = watchFile(config.proxyUserFile, admin.onFileChange);
    closers.push(() => watcher.close());
    const revocationWatch = watchFile(revokedSessions.file, () => revokedSessions.reload());
    closers.push(() => revocationWatch.close());
  }

  if (config.health.mode !== 'off') {
    for (const pool of [registry, publicservice]) {
      const checker = createHealthChecker(pool, { ...config.health, mode: config.health.mode });
      closers.push(() => checker.close());
    }
  }
  const rateLimits = await createRateLimits(
    { ...config.rateLimit, trustProxy: config.trustProxy },
    { logger, onLimited: (scope) => metrics.rateLimited(scope) },
  );
  closers.push(() => rateLimits.close());
  const gateway = createGateway({ config, logger, allowlist: () => store.current(), allowlistLoaded: () => follower?.loaded() ?? first.ok, registry, publicservice, sessionSecret, revokedSessions, metrics, rateLimits, accessLog, onTokenUsed: admin.usage.note, discovery, sharedStore: shared });
  closers.push(() => gateway.close());

  // Node enforces the header and request timeouts only when it checks its connections, every 30 s by
  // default: check at a quarter of the shorter timeout, so a slow client is answered close to it.
  const connectionsCheckingInterval = Math.max(50, Math.min(30_000, Math.floor(Math.min(config.limits.headersTimeoutMs, config.limits.requestTimeoutMs) / 4)));
  const server = createServer(
    // requireHostHeader: false, so that a request without Host gets the gateway's envelope, not Node's bare 400.
    { requestTimeout: config.limits.requestTimeoutMs, headersTimeout: config.limits.headersTimeoutMs, keepAliveTimeout: config.limits.keepAliveTimeoutMs, maxHeaderSize: config.limits.maxHeaderBytes, connectionsCheckingInterval, requireHostHeader: false },
    (req, res) => {
      // While draining, answer what arrives on open connections, then let the connection close.
      if (drain.stopping) res.shouldKeepAlive = false;
      gateway.handle(req, res);
    },
  );
  server.on('clientError', gateway.onClientError);
  server.on('checkExpectation', gateway.onCheckExpectation);
  server.on('connect', gateway.onConnect);
  const drain = createDrain(server, logger, config.shutdownGraceMs, closers);
  await new Promise<void>((ok, failed) => server.once('error', failed).listen(config.server.port, config.server.host, ok));
  const { port } = server.address() as AddressInfo;

  // The admin listener: its own port, loopback unless gateway.admin.allow.public (checked in config).
  if (admin.handler) {
    const adminServer = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, admin.handler);
    await new Promise<void>((ok, failed) => adminServer.once('error', failed).listen(config.admin.port, config.admin.host, ok)).catch((err: NodeJS.ErrnoException) =>
      fail(`the admin listener cannot listen on ${config.admin.host}:${config.admin.port} (${err.code ?? err.message}); see gateway.admin.host and gateway.admin.port`),
    );
    closers.push(() => new Promise<void>((ok) => adminServer.close(() => ok()).closeAllConnections()));
    const adminPort = (adminServer.address() as AddressInfo).port;
    const adminHost = config.admin.host.includes(':') && !config.admin.host.startsWith('[') ? `[${config.admin.host}]` : config.admin.host;
    logger.info('admin listening', { event: 'admin.listening', url: `http://${adminHost}:${adminPort}/admin/`, port: adminPort, auditFile: config.admin.auditFile });
  } else {
    logger.warn(`admin listener off (no admin API${config.metrics.port === null ? ', no /metrics: see gateway.metrics.port' : ''}): ${admin.offReason}`, { event: 'admin.off', credentialsFile: config.admin.credentialsFile });
  }
  // gateway.metrics.port: /metrics, /health and /ready whether or not an admin is configured.
  if (config.metrics.port !== null) {
    const listener = await startMetricsListener({ host: config.metrics.host, port: config.metrics.port, ops, logger }).catch((err: Error) => fail(err.message));
    closers.push(() => listener.close());
  }

  const shownHost = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  const url = `http://${shownHost}:${port}`;
  logger.info('listening', { url, port, instances: registry.all().map((u) => u.name), proxyUserFile: sharedWhere ?? config.proxyUserFile, tokens: store.current().size });
  if (demo) {
    process.stdout.write(
      `\nlinkis-gateway is running at ${url} in demo mode (a simulated Linkis: 2 Entrances and a publicservice).\n` +
        `Allowlist: ${demo.proxyUserFile} (token for alice,bob; edit it live)\n\nSubmit a job as alice:\n\n${demoCurl(url, demo.token)}\n\n` +
        `Then poll: curl -s -H 'Proxy-User: alice' -H 'Validation-Code: ${demo.token}' ${url}/api/rest_j/v1/entrance/<execID>/status\n\n`,
    );
  }

  // Graceful shutdown (src/ops/shutdown.ts): in-flight requests finish within the grace period, exit 0.
  process.on('SIGTERM', () => drain.stop('SIGTERM'));
  process.on('SIGINT', () => drain.stop('SIGINT'));
  // From here on, something uncaught drains like SIGTERM and then exits 1 (see onFatal below).
  onFatal = (err, origin) => {
    logFatal(logger, err, origin);
    // The drain itself runs in the unknown state: bound it, so the process cannot linger half-broken.
    setTimeout(() => process.exit(1), config.shutdownGraceMs + 5_000).unref();
    drain.stop(origin, 1);
  };
}

/**
 * Last resort for an exception or rejection nothing caught. The process is in an unknown state, so it does
 * not go on serving: it logs the error with its stack and drains like SIGTERM (requests in flight finish,
 * the listener closes), then exits 1 for its supervisor to restart it. Node's default would drop every
 * connection at once. Before the listener is up there is nothing to drain: log and exit 1.
 */
let onFatal: (err: unknown, origin: string) => void = (err, origin) => {
  process.stderr.write(`linkis-gateway: ${origin}: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
};
process.on('uncaughtException', (err, origin) => onFatal(err, origin));
process.on('unhandledRejection', (reason) => onFatal(reason, 'unhandledRejection'));

function logFatal(logger: { error(message: string, meta: Record<string, unknown>): unknown }, err: unknown, origin: string): void {
  logger.error('uncaught error: draining and exiting', { event: 'fatal', origin, error: (err as Error)?.stack ?? String(err) });
}

main().catch((err) => {
  process.stderr.write(`linkis-gateway: failed to start: ${(err as Error)?.stack ?? err}\n`);
  process.exit(1);
});
