/**
 * Gateway configuration: read once from `<conf>/gateway.properties` and validated before anything
 * starts. A bad value stops the gateway with a message naming the key and the file; nothing later in
 * the process reads files or the environment for settings.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { propertiesReader } from 'properties-reader';
import { isInstanceName } from './execid';

export interface EntranceInstance {
  /** The name the Entrance writes into its execIDs (`host:port`). */
  name: string;
  /** How the gateway reaches it; differs from the name behind NAT or in containers. */
  url: string;
}

export interface GatewayConfig {
  confDir: string;
  file: string;
  server: { host: string; port: number };
  /** Empty means demo mode: main starts simulated Entrances. */
  instances: EntranceInstance[];
  cryptKey: string;
  ticketCookie: string;
  proxyUserFile: string;
  upstream: { connectTimeoutMs: number; responseTimeoutMs: number; maxSockets: number };
  bodyLimitBytes: number;
  ticketCacheMs: number;
  log: { level: string; format: 'json' | 'pretty' | 'auto' };
}

export class ConfigError extends Error {}

/** Every key the gateway understands, with its default; an unknown `gateway.*` key is a typo and fails. */
const DEFAULTS: Record<string, string> = {
  'gateway.server.host': '0.0.0.0',
  'gateway.server.port': '9001',
  'gateway.entrance.instances': '',
  'wds.linkis.crypt.key': 'bdp-for-server',
  'wds.linkis.session.ticket.key': 'linkis_user_session_ticket_id_v1',
  'wds.linkis.gateway.conf.proxy.user.config': 'proxy.properties',
  'gateway.upstream.connect.timeout.ms': '5000',
  'gateway.upstream.response.timeout.ms': '60000',
  'gateway.upstream.max.sockets': '256',
  'gateway.request.body.limit': '10mb',
  'gateway.ticket.cache.ms': '60000',
  'gateway.log.level': 'info',
  'gateway.log.format': 'auto',
};

export const CONFIG_KEYS = Object.keys(DEFAULTS);

export function loadConfig(confDir: string): GatewayConfig {
  const dir = resolve(confDir);
  const file = join(dir, 'gateway.properties');
  if (!existsSync(file)) throw new ConfigError(`${file}: file not found (select a conf directory with --conf DIR or LINKIS_GATEWAY_CONF)`);
  let raw: Record<string, string>;
  try {
    raw = propertiesReader({ sourceFile: file }).getAllProperties();
  } catch (err) {
    throw new ConfigError(`${file}: cannot be read: ${(err as Error).message}`);
  }
  return validateConfig(raw, dir, file);
}

/** Pure validation of key/value pairs; exported for table tests and check-config. */
export function validateConfig(raw: Record<string, string>, confDir: string, file: string): GatewayConfig {
  const problems: string[] = [];
  for (const key of Object.keys(raw)) {
    if (key.startsWith('gateway.') && !(key in DEFAULTS)) problems.push(`${key}: unknown key (known: ${CONFIG_KEYS.filter((k) => k.startsWith('gateway.')).join(', ')})`);
  }
  const get = (key: string): string => String(raw[key] ?? DEFAULTS[key]).trim();
  const int = (key: string, min: number, max: number): number => {
    const v = get(key);
    const n = Number(v);
    if (!/^[0-9]+$/.test(v) || n < min || n > max) {
      problems.push(`${key}: "${v}" is not a whole number between ${min} and ${max}`);
      return min;
    }
    return n;
  };
  const nonEmpty = (key: string): string => {
    const v = get(key);
    if (!v) problems.push(`${key}: must not be empty`);
    return v;
  };

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
  const format = get('gateway.log.format');
  if (!['json', 'pretty', 'auto'].includes(format)) problems.push(`gateway.log.format: "${format}" is not one of json, pretty, auto`);
  const level = get('gateway.log.level');
  if (!['error', 'warn', 'info', 'debug'].includes(level)) problems.push(`gateway.log.level: "${level}" is not one of error, warn, info, debug`);

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
    },
    bodyLimitBytes: bodyLimitBytes ?? 0,
    ticketCacheMs: int('gateway.ticket.cache.ms', 0, 3_600_000),
    log: { level, format: format as GatewayConfig['log']['format'] },
  };
  if (problems.length) throw new ConfigError(problems.map((p) => `${file}: ${p}`).join('\n'));
  return config;
}

/** `host:port` or `host:port=http://address:port`, comma-separated. */
export function parseInstances(value: string, problems: string[]): EntranceInstance[] {
  const key = 'gateway.entrance.instances';
  const out: EntranceInstance[] = [];
  const seen = new Set<string>();
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const name = (eq === -1 ? item : item.slice(0, eq)).trim();
    const address = eq === -1 ? `http://${name}` : item.slice(eq + 1).trim();
    if (!isInstanceName(name)) {
      problems.push(`${key}: "${name}" is not host:port`);
      continue;
    }
    let url: URL;
    try {
      url = new URL(address);
    } catch {
      problems.push(`${key}: "${address}" (for ${name}) is not a URL like http://address:port`);
      continue;
    }
    if (url.protocol !== 'http:' || (url.pathname !== '/' && url.pathname !== '') || url.search || url.username) {
      problems.push(`${key}: "${address}" (for ${name}) must be http://address:port with no path, query or credentials`);
      continue;
    }
    if (seen.has(name)) {
      problems.push(`${key}: "${name}" is listed twice`);
      continue;
    }
    seen.add(name);
    out.push({ name, url: url.origin });
  }
  return out;
}

/** "1048576", "512kb", "10mb", "1gb" → bytes; null when unreadable. */
export function parseSize(value: string): number | null {
  const m = /^([0-9]+)\s*(b|kb|mb|gb)?$/i.exec(value.trim());
  if (!m) return null;
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Number(m[1]) * unit;
}
