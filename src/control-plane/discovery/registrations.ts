/**
 * From a registry's record to the gateway's instance: pure, table-tested.
 *
 * The name is the one Linkis writes into execIDs and its own gateway routes by. An Entrance names itself
 * `<host>:<server.port>` (DataWorkCloudApplication.initDWCApplication: `spring.cloud.client.ip-address`
 * with linkis.discovery.prefer-ip-address=true, else `eureka.instance.hostname` or the machine name), and
 * Linkis's gateway matches that against the registry's `getHost:getPort` (SpringRPCServerLoader), which is
 * Eureka's `hostName` and `port.$` (the IP already when eureka.instance.prefer-ip-address=true) and Nacos's
 * `ip` and `port`. So do we: an Entrance Linkis's own gateway can route to is one this gateway can.
 */
import { isInstanceName } from '../../linkis/execid';
import type { DiscoveredInstance } from '../upstreams';

export interface EurekaRecord {
  /** Eureka's key for the registration (deltas name it). */
  id: string;
  instance?: DiscoveredInstance;
  /** Why the record cannot be used, for the log. */
  problem?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '');
/** Eureka's JSON wraps repeated elements in an array, except older codecs that give one element bare. */
const many = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
const millis = (v: unknown): number => {
  const n = typeof v === 'number' ? v : Number(text(v));
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
};

function urlOf(host: string, port: number): string | undefined {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  try {
    const u = new URL(`http://${h}:${port}`);
    return u.pathname === '/' && u.hostname ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

/** One Eureka `instance` object (InstanceInfo as Eureka's Jackson codec writes it). */
export function eurekaRecord(raw: unknown, address: 'hostname' | 'ip'): EurekaRecord {
  if (!isObj(raw)) return { id: '', problem: 'an instance that is not an object' };
  const hostName = text(raw.hostName);
  const ipAddr = text(raw.ipAddr);
  const portField = raw.port;
  const port = Number(text(isObj(portField) ? portField.$ : portField));
  const id = text(raw.instanceId) || `${hostName}:${text(raw.app).toLowerCase()}:${port}`;
  if (isObj(portField) && text(portField['@enabled']) === 'false') return { id, problem: `${id}: its HTTP port is not enabled (HTTPS only is not supported)` };
  if (!hostName || !Number.isInteger(port) || port < 1 || port > 65535) return { id, problem: `${id}: no hostName and port` };
  const name = `${hostName}:${port}`;
  if (!isInstanceName(name)) return { id, problem: `${id}: "${name}" is not a host:port an execID can name` };
  const reach = address === 'ip' ? ipAddr : hostName;
  const url = reach ? urlOf(reach, port) : undefined;
  if (!url) return { id, problem: `${id}: no usable ${address === 'ip' ? 'ipAddr' : 'hostName'}` };
  const status = (text(raw.status) || 'UNKNOWN').toUpperCase();
  // The registry time an Entrance compares with a job's creation to call it failed over. Eureka makes a new
  // lease, so a new registrationTimestamp, on every register, and a live client registers again whenever its
  // status or data changes; serviceUpTimestamp is carried over from a live lease (AbstractInstanceRegistry
  // .register) and new only for a process that registered afresh. Never UP yet: the registration time.
  const lease = isObj(raw.leaseInfo) ? raw.leaseInfo : {};
  const registeredAt = millis(lease.serviceUpTimestamp) || millis(lease.registrationTimestamp);
  return { id, instance: { name, url, status, up: status === 'UP', registeredAt } };
}

/** `GET apps/{APP}`: `{application: {name, instance: [...]}}`. Null when the answer is not that. */
export function eurekaApplication(body: unknown, address: 'hostname' | 'ip'): EurekaRecord[] | null {
  if (!isObj(body) || !isObj(body.application)) return null;
  return many(body.application.instance).map((i) => eurekaRecord(i, address));
}

export interface EurekaChange {
  app: string;
  action: 'ADDED' | 'MODIFIED' | 'DELETED';
  record: EurekaRecord;
}

/**
 * `GET apps/delta`: `{applications: {application: [{name, instance: [{..., actionType}]}]}}`, every
 * application's recent changes (Eureka keeps the last 3 minutes); only `apps` (upper case) are kept.
 */
export function eurekaDelta(body: unknown, apps: readonly string[], address: 'hostname' | 'ip'): EurekaChange[] | null {
  if (!isObj(body) || !isObj(body.applications)) return null;
  const out: EurekaChange[] = [];
  for (const app of many(body.applications.application)) {
    if (!isObj(app)) continue;
    const name = text(app.name).toUpperCase();
    if (!apps.includes(name)) continue;
    for (const raw of many(app.instance)) {
      const action = isObj(raw) ? text(raw.actionType).toUpperCase() : '';
      if (action === 'ADDED' || action === 'MODIFIED' || action === 'DELETED') out.push({ app: name, action, record: eurekaRecord(raw, address) });
    }
  }
  return out;
}

export interface NacosHost {
  key: string;
  instance?: Omit<DiscoveredInstance, 'registeredAt'>;
  problem?: string;
}

/** `GET /nacos/v1/ns/instance/list`: `{hosts: [{ip, port, healthy, enabled, weight, metadata}]}`. Null when not that. */
export function nacosHosts(body: unknown): NacosHost[] | null {
  if (!isObj(body) || !Array.isArray(body.hosts)) return null;
  return body.hosts.map((raw): NacosHost => {
    if (!isObj(raw)) return { key: '', problem: 'a host that is not an object' };
    const ip = text(raw.ip);
    const port = Number(raw.port);
    const key = text(raw.instanceId) || `${ip}#${port}`;
    const name = `${ip}:${port}`;
    if (!ip || !Number.isInteger(port) || port < 1 || port > 65535 || !isInstanceName(name)) return { key, problem: `${key}: "${name}" is not a host:port an execID can name` };
    const url = urlOf(ip, port);
    if (!url) return { key, problem: `${key}: no usable ip` };
    const weight = raw.weight === undefined ? 1 : Number(raw.weight);
    // Nacos's console takes an instance offline with enabled=false; weight 0 is the other common way.
    const status = raw.enabled === false ? 'DISABLED' : raw.healthy === false ? 'DOWN' : !(weight > 0) ? 'ZERO_WEIGHT' : 'UP';
    return { key, instance: { name, url, status, up: status === 'UP' } };
  });
}

/**
 * One instance per name. Two registrations with one name happen (a restarted process registered again
 * before the old lease expired): the one that is UP wins, then the newest registration.
 */
export function onePerName(found: readonly DiscoveredInstance[]): DiscoveredInstance[] {
  const best = new Map<string, DiscoveredInstance>();
  for (const f of found) {
    const b = best.get(f.name);
    if (!b || (f.up && !b.up) || (f.up === b.up && f.registeredAt > b.registeredAt)) best.set(f.name, f);
  }
  return [...best.values()];
}

/** What one refresh read from the registry: each watched service's instances, and records it could not use. */
export interface RegistryListing {
  instances: Record<string, DiscoveredInstance[]>;
  problems: string[];
}

export interface RegistryClient {
  /** Reads every watched service; rejects when no registry URL answered. */
  fetch(): Promise<RegistryListing>;
}
