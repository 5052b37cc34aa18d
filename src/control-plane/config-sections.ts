/**
 * The sections of gateway.properties that are validated as a whole (their keys depend on each other):
 * the admin and metrics listeners, the shared allowlist store, publicservice prefixes and the session secret.
 */
import { isAbsolute, join } from 'node:path';
import { PUBLIC_SERVICE_PREFIXES } from '../linkis/routes';
import type { KeyReader } from './config-reader';
import { isLoopbackHost } from './config-values';

/** The admin listener (src/admin/); off unless the credentials file names an admin. */
export interface AdminConfig {
  host: string;
  port: number;
  credentialsFile: string;
  auditFile: string;
  allowPublic: boolean;
}

/** /metrics, /health and /ready on a listener of their own, with or without admin credentials; port null: off. */
export interface MetricsConfig {
  host: string;
  port: number | null;
}

/**
 * Where the allowlist lives: `file` (proxy.properties, the default) or `redis`, shared by every replica with
 * logouts and admin draining (src/control-plane/redis-shared.ts). `checkMs`: the periodic version check.
 */
export interface SharedStoreConfig {
  mode: 'file' | 'redis';
  url?: string;
  prefix: string;
  checkMs: number;
}

export function validateAdmin(r: KeyReader, confDir: string, serverPort: number): AdminConfig {
  const host = r.nonEmpty('gateway.admin.host');
  const port = r.int('gateway.admin.port', 0, 65535);
  const allowPublic = r.bool('gateway.admin.allow.public');
  // The admin API edits who may act as whom: it must not be reachable from the network by accident.
  if (host && !allowPublic && !isLoopbackHost(host)) {
    r.problems.push(`gateway.admin.host: "${host}" is not a loopback address; the admin listener binds a public address only with gateway.admin.allow.public=true`);
  }
  if (port !== 0 && port === serverPort) r.problems.push(`gateway.admin.port: ${port} is also gateway.server.port; the admin listener needs its own port`);
  const file = (key: string) => {
    const v = r.nonEmpty(key);
    return isAbsolute(v) ? v : join(confDir, v);
  };
  return { host, port, credentialsFile: file('gateway.admin.credentials.file'), auditFile: file('gateway.admin.audit.file'), allowPublic };
}

export function validateMetrics(r: KeyReader, serverPort: number): MetricsConfig {
  const host = r.nonEmpty('gateway.metrics.host');
  // Read-only numbers, so no loopback rule as for the admin listener: Prometheus usually scrapes from elsewhere.
  if (r.get('gateway.metrics.port') === '') return { host, port: null };
  const port = r.int('gateway.metrics.port', 0, 65535);
  if (port !== 0 && port === serverPort) r.problems.push(`gateway.metrics.port: ${port} is also gateway.server.port; the metrics listener needs its own port`);
  if (port !== 0 && String(port) === r.get('gateway.admin.port')) {
    r.problems.push(`gateway.metrics.port: ${port} is also gateway.admin.port; /metrics is on the admin listener already, leave gateway.metrics.port empty`);
  }
  return { host, port };
}

export function validateSharedStore(r: KeyReader, rateLimitUrl: string): SharedStoreConfig {
  const mode = r.oneOf('gateway.allowlist.store', ['file', 'redis'] as const);
  const own = r.get('gateway.allowlist.redis.url');
  if (own && !/^rediss?:\/\/\S+$/.test(own)) r.problems.push(`gateway.allowlist.redis.url: "${own}" is not a redis:// or rediss:// URL`);
  // The rate limits' Redis serves by default: one Redis for everything replicas share.
  const url = own || rateLimitUrl || undefined;
  if (mode === 'redis' && !url) r.problems.push('gateway.allowlist.store: redis needs gateway.allowlist.redis.url (or gateway.ratelimit.redis.url)');
  const prefix = r.get('gateway.allowlist.redis.prefix');
  if (!/^[\x21-\x7e]{0,64}$/.test(prefix)) r.problems.push(`gateway.allowlist.redis.prefix: "${prefix}" must be at most 64 printable characters without spaces`);
  // 2 s is the promise for a missed message too: the check must run well within it.
  const checkMs = r.int('gateway.allowlist.redis.check.ms', 100, 2000);
  return { mode, url: mode === 'redis' ? url : undefined, prefix, checkMs };
}

export function publicServicePrefixes(r: KeyReader): string[] {
  const out = r.get('gateway.publicservice.prefixes').split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of out) {
    if (!PUBLIC_SERVICE_PREFIXES.includes(p)) {
      r.problems.push(`gateway.publicservice.prefixes: "${p}" is not a publicservice prefix (one of ${PUBLIC_SERVICE_PREFIXES.join(', ')})`);
    }
  }
  return out.filter((p) => PUBLIC_SERVICE_PREFIXES.includes(p));
}

export function sessionSecret(r: KeyReader): string {
  const value = r.get('gateway.session.secret');
  // The secret signs session cookies: a short one could be guessed offline from one cookie.
  if (value && value.length < 32) {
    r.problems.push(`gateway.session.secret: must be at least 32 characters (e.g. openssl rand -hex 32), or empty to generate one into the conf directory`);
  }
  return value;
}
