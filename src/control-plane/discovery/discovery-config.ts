/**
 * The `gateway.discovery.*` keys: where Linkis's service registry is and what to read from it. Pure,
 * called by validateConfig; problems are reported by key like every other setting.
 */
import type { KeyReader } from '../config-reader';

export interface DiscoveryConfig {
  /** `static`: the configured instance lists only (the default); `eureka` or `nacos`: read the registry. */
  mode: 'static' | 'eureka' | 'nacos';
  /** Eureka: the defaultZone URLs (`http://host:20303/eureka/`); Nacos: server URLs with the context path. */
  urls: string[];
  refreshMs: number;
  /** Eureka: a full fetch at least this often, deltas in between (a missed delta cannot last longer). */
  fullRefreshMs: number;
  timeoutMs: number;
  entranceService: string;
  /** Empty: publicservice comes from gateway.publicservice.instances. */
  publicserviceService: string;
  /** How the gateway reaches a Eureka registration: its `hostName` (as Linkis's gateway does) or its `ipAddr`. */
  eurekaAddress: 'hostname' | 'ip';
  nacosNamespace: string;
  nacosGroup: string;
}


const SERVICE = /^[A-Za-z0-9._@-]{1,128}$/;

export function validateDiscovery(r: KeyReader, configured: { entrance: number; publicservice: number }): DiscoveryConfig {
  const { get, int, problems } = r;
  const mode = r.oneOf('gateway.discovery', ['static', 'eureka', 'nacos'] as const);
  const refreshMs = int('gateway.discovery.refresh.ms', 100, 3_600_000);
  const fullRefreshMs = int('gateway.discovery.full.refresh.ms', 100, 86_400_000);
  if (fullRefreshMs < refreshMs) problems.push(`gateway.discovery.full.refresh.ms: ${fullRefreshMs} is shorter than gateway.discovery.refresh.ms (${refreshMs})`);
  const config: DiscoveryConfig = {
    mode,
    urls: [],
    refreshMs,
    fullRefreshMs,
    timeoutMs: int('gateway.discovery.timeout.ms', 10, 600_000),
    entranceService: get('gateway.discovery.entrance.service'),
    publicserviceService: get('gateway.discovery.publicservice.service'),
    eurekaAddress: get('gateway.discovery.eureka.address') === 'ip' ? 'ip' : 'hostname',
    nacosNamespace: get('gateway.discovery.nacos.namespace'),
    nacosGroup: get('gateway.discovery.nacos.group'),
  };
  if (!['hostname', 'ip'].includes(get('gateway.discovery.eureka.address'))) problems.push(`gateway.discovery.eureka.address: "${get('gateway.discovery.eureka.address')}" is not one of hostname, ip`);
  if (!SERVICE.test(config.entranceService)) problems.push(`gateway.discovery.entrance.service: "${config.entranceService}" is not a service name`);
  if (config.publicserviceService && !SERVICE.test(config.publicserviceService)) problems.push(`gateway.discovery.publicservice.service: "${config.publicserviceService}" is not a service name`);
  if (config.nacosNamespace && !SERVICE.test(config.nacosNamespace)) problems.push(`gateway.discovery.nacos.namespace: "${config.nacosNamespace}" is not a namespace id`);
  if (!SERVICE.test(config.nacosGroup)) problems.push(`gateway.discovery.nacos.group: "${config.nacosGroup}" is not a group name`);

  const list = get('gateway.discovery.urls').split(',').map((s) => s.trim()).filter(Boolean);
  if (mode === 'static') return config;
  if (list.length === 0) problems.push(`gateway.discovery.urls: must name the ${mode === 'eureka' ? 'Eureka server (wds.linkis.eureka.defaultZone, e.g. http://127.0.0.1:20303/eureka/)' : 'Nacos server (e.g. 127.0.0.1:8848)'} with gateway.discovery=${mode}`);
  for (const item of list) {
    const url = registryUrl(mode, item);
    if (url) config.urls.push(url);
    else problems.push(`gateway.discovery.urls: "${redactUrl(item)}" is not ${mode === 'eureka' ? 'an http(s) URL like http://127.0.0.1:20303/eureka/' : 'host:port or an http(s) URL like http://127.0.0.1:8848/nacos'}`);
  }
  // One source per list: a static list beside the registry would be a second truth about the same services.
  if (configured.entrance > 0) problems.push(`gateway.entrance.instances: must be empty with gateway.discovery=${mode} (Entrances come from the registry)`);
  if (configured.publicservice > 0 && config.publicserviceService) {
    problems.push(`gateway.publicservice.instances: must be empty with gateway.discovery=${mode} unless gateway.discovery.publicservice.service is empty`);
  }
  return config;
}

/**
 * Eureka: the URL as given (defaultZone style, trailing slash optional). Nacos: `host:port` (as in
 * spring.cloud.nacos.discovery.server-addr) or a URL without a path means Nacos's default context `/nacos`.
 */
function registryUrl(mode: 'eureka' | 'nacos', item: string): string | undefined {
  const text = mode === 'nacos' && !/^[a-z]+:\/\//i.test(item) ? `http://${item}` : item;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || !url.hostname) return undefined;
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.username ? `${url.username}:${url.password}@` : ''}${url.host}${mode === 'nacos' && !path ? '/nacos' : path}`;
}

/** A registry URL fit for logs and messages: Eureka's basic-auth credentials may sit in it. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//***@');
}
