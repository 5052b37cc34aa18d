/**
 * Gateway configuration: read once from `<conf>/gateway.properties` and validated before anything
 * starts. A bad value stops the gateway with a message naming the key and the file; nothing later in
 * the process reads files or the environment for settings.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parsePropertiesBytes } from '../linkis/properties';
import { CONFIG_KEYS, DEFAULTS } from './config-keys';
import { createKeyReader } from './config-reader';
import { publicServicePrefixes, sessionSecret, validateAdmin, validateMetrics, validateSharedStore, type AdminConfig, type MetricsConfig, type SharedStoreConfig } from './config-sections';
import { parseInstances, parseSize, type EntranceInstance } from './config-values';
import { isInstanceName } from '../linkis/execid';
import { closestKey } from './did-you-mean';
import { validateDiscovery, type DiscoveryConfig } from './discovery/discovery-config';

export { CONFIG_KEYS } from './config-keys';
export { isLoopbackHost, parseInstances, parseSize } from './config-values';

export type { EntranceInstance } from './config-values';

export interface GatewayConfig {
  confDir: string;
  file: string;
  server: { host: string; port: number };
  /** Empty means demo mode: main starts simulated Entrances. */
  instances: EntranceInstance[];
  cryptKey: string;
  ticketCookie: string;
  proxyUserFile: string;
  /**
   * maxSockets per Entrance for short calls, and as many again for log streams and file reads; maxPerUser
   * and maxPerClient bound one token+user's and one client address's concurrent upstream requests (0: off).
   */
  upstream: { connectTimeoutMs: number; responseTimeoutMs: number; maxSockets: number; maxPerUser: number; maxPerClient: number };
  bodyLimitBytes: number;
  /** Largest execute/submit body (also bounded by bodyLimitBytes): scanned and spliced before it is forwarded. */
  submissionLimitBytes: number;
  ticketCacheMs: number;
  log: { level: string; format: 'json' | 'pretty' | 'auto' };
  /** Instances that take no new submissions (follow-ups still reach them). */
  draining: string[];
  health: {
    mode: 'tcp' | 'http' | 'off';
    path: string;
    intervalMs: number;
    timeoutMs: number;
    healthyThreshold: number;
    unhealthyThreshold: number;
    passiveFailures: number;
    passiveEjectMs: number;
  };
  rateLimit: { windowMs: number; perClient: number; perUser: number; redisUrl?: string };
  trustProxy: string[];
  limits: { requestTimeoutMs: number; headersTimeoutMs: number; keepAliveTimeoutMs: number; maxHeaderBytes: number };
  shutdownGraceMs: number;
  admin: AdminConfig;
  metrics: MetricsConfig;
  /** Processes serving the public port (node:cluster); 1 runs the gateway in the main process. */
  workers: number;
  /** linkis-ps-publicservice: job history, result files and logs. Empty instances: those calls get a 503 naming the key. */
  publicservice: { instances: EntranceInstance[]; prefixes: string[] };
  /** How long a taskID → Entrance lookup (or what a submission answer taught) is reused. */
  taskCacheMs: number;
  /** Sessions from user/login and user/proxy. An empty secret means: generated once into `<conf>/session.secret`. */
  session: { secret: string; timeoutMs: number; cookieSecure: boolean };
  /** `warn`: weak tokens are reported and still work; `strict`: a weak token makes proxy.properties invalid. */
  tokenPolicy: 'warn' | 'strict';
  /** Entrances (and publicservice) from Linkis's service registry instead of the lists above; `static` by default. */
  discovery: DiscoveryConfig;
  sharedStore: SharedStoreConfig;
  /** This replica's name in the audit (gateway.replica.name, or the host name). */
  replica: string;
}

export class ConfigError extends Error {
  /**
   * `message`: each problem on its own line as `file:line: what` (`file: what` for a key not in the file),
   * the same text check-config prints. `problems`: each as `key: what` or `line N: what`, without the file.
   * `partial`: the configuration with defaults in place of bad values, so check-config can still check the
   * files it names (proxy.properties, admin.properties) and report every problem in one run.
   */
  constructor(
    message: string,
    readonly file: string = '',
    readonly problems: string[] = [],
    readonly partial?: GatewayConfig,
  ) {
    super(message);
  }
}

export function loadConfig(confDir: string): GatewayConfig {
  const dir = resolve(confDir);
  const file = join(dir, 'gateway.properties');
  if (!existsSync(file)) throw new ConfigError(`${file}: file not found (select a conf directory with --conf DIR or LINKIS_GATEWAY_CONF)`, file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${file}: cannot be read: ${(err as Error).message}`, file);
  }
  // The same Java properties parser as proxy.properties: one format, read one way. Later lines win, as in Java.
  const parsed = parsePropertiesBytes(bytes);
  const raw: Record<string, string> = {};
  const lineOf = new Map<string, number>();
  for (const e of parsed.entries) {
    raw[e.key] = e.value;
    lineOf.set(e.key, e.line);
  }
  // A syntax problem skips only its entry: the rest is still validated, so one run reports every problem.
  const problems = parsed.problems.map((p) => ({ line: p.line, text: `line ${p.line}: ${p.message}`, shown: p.message }));
  let partial: GatewayConfig | undefined;
  try {
    if (!problems.length) return validateConfig(raw, dir, file);
    partial = validateConfig(raw, dir, file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    partial = err.partial;
    for (const p of err.problems) problems.push({ line: lineOf.get(p.slice(0, p.indexOf(':'))) ?? 0, text: p, shown: p });
  }
  // By line, like check-config, with the key's line in each message (start-up prints the same file:line).
  problems.sort((a, b) => (a.line || Number.MAX_SAFE_INTEGER) - (b.line || Number.MAX_SAFE_INTEGER));
  const message = problems.map((p) => `${file}${p.line ? `:${p.line}` : ''}: ${p.shown}`).join('\n');
  throw new ConfigError(message, file, problems.map((p) => p.text), partial);
}

/** Pure validation of key/value pairs; exported for table tests and check-config. */
export function validateConfig(raw: Record<string, string>, confDir: string, file: string): GatewayConfig {
  const r = createKeyReader(raw);
  const { problems, get, int, nonEmpty } = r;
  for (const key of Object.keys(raw)) {
    if (!key.startsWith('gateway.') || key in DEFAULTS) continue;
    const near = closestKey(key, CONFIG_KEYS);
    problems.push(`${key}: unknown key${near ? `; did you mean ${near}?` : ' (the keys are listed in README.md, "Configuration reference")'}`);
  }

  const host = nonEmpty('gateway.server.host');
  const port = int('gateway.server.port', 0, 65535);
  const instances = parseInstances(get('gateway.entrance.instances'), problems);
  const cryptKey = nonEmpty('wds.linkis.crypt.key');
  const ticketCookie = get('wds.linkis.session.ticket.key');
  if (!/^[A-Za-z0-9_.-]+$/.test(ticketCookie)) problems.push(`wds.linkis.session.ticket.key: "${ticketCookie}" is not a valid cookie name`);
  const proxyFileSetting = nonEmpty('wds.linkis.gateway.conf.proxy.user.config');
  const bodyLimitBytes = parseSize(get('gateway.request.body.limit'));
  if (bodyLimitBytes === null || bodyLimitBytes < 1024 || bodyLimitBytes > 1024 ** 3) {
    problems.push(`gateway.request.body.limit: "${get('gateway.request.body.limit')}" is not a size between 1kb and 1gb (e.g. 512kb, 10mb)`);
  }
  // Submissions are scanned and spliced on the data plane's thread (a few ms per 2 MB): keep them small.
  const submissionLimitBytes = parseSize(get('gateway.submission.max.bytes'));
  if (submissionLimitBytes === null || submissionLimitBytes < 1024 || submissionLimitBytes > 64 * 1024 ** 2) {
    problems.push(`gateway.submission.max.bytes: "${get('gateway.submission.max.bytes')}" is not a size between 1kb and 64mb (e.g. 512kb, 2mb)`);
  }
  const format = r.oneOf('gateway.log.format', ['json', 'pretty', 'auto'] as const);
  const level = r.oneOf('gateway.log.level', ['error', 'warn', 'info', 'debug'] as const);

  const publicserviceInstances = parseInstances(get('gateway.publicservice.instances'), problems, 'gateway.publicservice.instances');
  const discovery = validateDiscovery(r, { entrance: instances.length, publicservice: publicserviceInstances.length });
  const draining = get('gateway.entrance.draining').split(',').map((x) => x.trim()).filter(Boolean);
  for (const d of draining) {
    // Discovered instances are not known yet: a name is applied when the registry lists it.
    if (discovery.mode === 'static' && !instances.some((i) => i.name === d)) problems.push(`gateway.entrance.draining: "${d}" is not in gateway.entrance.instances`);
    else if (discovery.mode !== 'static' && !isInstanceName(d)) problems.push(`gateway.entrance.draining: "${d}" is not host:port`);
  }
  const healthMode = r.oneOf('gateway.health.check.mode', ['tcp', 'http', 'off'] as const);
  const healthPath = get('gateway.health.check.path');
  if (!/^\/[\x21-\x7e]*$/.test(healthPath)) problems.push(`gateway.health.check.path: "${healthPath}" must be a path starting with /`);
  const redisUrl = get('gateway.ratelimit.redis.url');
  if (redisUrl && !/^rediss?:\/\/\S+$/.test(redisUrl)) problems.push(`gateway.ratelimit.redis.url: "${redisUrl}" is not a redis:// or rediss:// URL`);
  const trustProxy = get('gateway.trust.proxy').split(',').map((x) => x.trim()).filter(Boolean);
  for (const t of trustProxy) {
    if (!/^(loopback|linklocal|uniquelocal|[0-9a-fA-F:.]+(\/[0-9]{1,3})?)$/.test(t)) problems.push(`gateway.trust.proxy: "${t}" is not an address, CIDR, or loopback/linklocal/uniquelocal`);
  }

  const config: GatewayConfig = {
    confDir,
    file,
    server: { host, port },
    instances,
    cryptKey,
    ticketCookie,
    proxyUserFile: isAbsolute(proxyFileSetting) ? proxyFileSetting : join(confDir, proxyFileSetting),
    upstream: {
      connectTimeoutMs: int('gateway.upstream.connect.timeout.ms', 1, 600_000),
      responseTimeoutMs: int('gateway.upstream.response.timeout.ms', 1, 3_600_000),
      maxSockets: int('gateway.upstream.max.sockets', 1, 65_535),
      maxPerUser: int('gateway.upstream.max.per.user', 0, 65_535),
      maxPerClient: int('gateway.upstream.max.per.client', 0, 65_535),
    },
    bodyLimitBytes: bodyLimitBytes ?? 0,
    submissionLimitBytes: submissionLimitBytes ?? 0,
    ticketCacheMs: int('gateway.ticket.cache.ms', 0, 3_600_000),
    log: { level, format },
    draining,
    health: {
      mode: healthMode,
      path: healthPath,
      intervalMs: int('gateway.health.check.interval.ms', 100, 3_600_000),
      timeoutMs: int('gateway.health.check.timeout.ms', 10, 600_000),
      healthyThreshold: int('gateway.health.check.healthy.threshold', 1, 100),
      unhealthyThreshold: int('gateway.health.check.unhealthy.threshold', 1, 100),
      passiveFailures: int('gateway.health.passive.failures', 1, 1000),
      passiveEjectMs: int('gateway.health.passive.eject.ms', 100, 3_600_000),
    },
    rateLimit: {
      windowMs: int('gateway.ratelimit.window.ms', 100, 86_400_000),
      perClient: int('gateway.ratelimit.client.limit', 0, 1_000_000_000),
      perUser: int('gateway.ratelimit.user.limit', 0, 1_000_000_000),
      redisUrl: redisUrl || undefined,
    },
    trustProxy,
    limits: {
      requestTimeoutMs: int('gateway.server.request.timeout.ms', 1000, 86_400_000),
      headersTimeoutMs: int('gateway.server.headers.timeout.ms', 100, 600_000),
      keepAliveTimeoutMs: int('gateway.server.keepalive.timeout.ms', 100, 600_000),
      maxHeaderBytes: int('gateway.server.max.header.bytes', 1024, 1_048_576),
    },
    shutdownGraceMs: int('gateway.shutdown.grace.ms', 0, 3_600_000),
    workers: get('gateway.workers') === 'auto' ? availableParallelism() : int('gateway.workers', 1, 256),
    admin: validateAdmin(r, confDir, port),
    metrics: validateMetrics(r, port),
    publicservice: {
      instances: publicserviceInstances,
      prefixes: publicServicePrefixes(r),
    },
    taskCacheMs: int('gateway.task.cache.ms', 0, 3_600_000),
    session: {
      secret: sessionSecret(r),
      timeoutMs: int('gateway.session.timeout.ms', 60_000, 30 * 86_400_000),
      cookieSecure: r.bool('gateway.session.cookie.secure'),
    },
    tokenPolicy: r.oneOf('gateway.token.policy', ['warn', 'strict'] as const),
    discovery,
    sharedStore: validateSharedStore(r, redisUrl),
    replica: get('gateway.replica.name') || hostname(),
  };
  if (problems.length) throw new ConfigError(problems.map((p) => `${file}: ${p}`).join('\n'), file, problems, config);
  return config;
}
