/**
 * Readers for the structured values in gateway.properties: pure, table-tested, reporting problems by key.
 */
import { isInstanceName } from '../linkis/execid';

export interface EntranceInstance {
  /** The name the Entrance writes into its execIDs (`host:port`). */
  name: string;
  /** How the gateway reaches it; differs from the name behind NAT or in containers. */
  url: string;
}

/** Loopback only: an IPv4 127/8 address, ::1 or localhost. Anything else reaches other machines. */
export function isLoopbackHost(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::1' || host === '[::1]' || host.toLowerCase() === 'localhost';
}

/** `host:port` or `host:port=http://address:port`, comma-separated. */
export function parseInstances(value: string, problems: string[], key = 'gateway.entrance.instances'): EntranceInstance[] {
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
