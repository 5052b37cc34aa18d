/**
 * Reads Linkis's services from Nacos's open API: `GET {server}/v1/ns/instance/list?serviceName=&groupName=
 * &namespaceId=` per service, every instance (healthy or not: an unhealthy one still holds jobs).
 *
 * Nacos records no registration time. The gateway uses the time it first saw an instance, with two
 * guards so an Entrance never takes a live job for a failed-over one (instanceRegistryTimestamp >
 * createTimestamp): instances already listed at the gateway's first successful read get 0 (they may
 * predate any job), and later ones get first-seen minus one refresh interval (no job on them is older).
 */
import { redactUrl as redact } from './discovery-config';
import { getJson, RegistryError } from './registry-http';
import { nacosHosts, onePerName, type NacosHost, type RegistryClient } from './registrations';
import type { DiscoveredInstance } from '../upstreams';

export interface NacosOptions {
  /** Server URLs with the context path (`http://127.0.0.1:8848/nacos`), tried in order. */
  urls: string[];
  services: string[];
  namespace: string;
  group: string;
  timeoutMs: number;
  refreshMs: number;
  now?: () => number;
}

export function createNacosClient(opts: NacosOptions): RegistryClient {
  const now = opts.now ?? Date.now;
  // Per service: instance name → the time the gateway first saw it (forgotten when it leaves the listing).
  const firstSeen = new Map<string, Map<string, number>>(opts.services.map((s) => [s, new Map()]));
  let readOnce = false;
  let server = 0;

  const read = async (base: string, service: string) => {
    const q = new URLSearchParams({ serviceName: service, groupName: opts.group, healthyOnly: 'false' });
    if (opts.namespace) q.set('namespaceId', opts.namespace);
    const answer = await getJson(`${base}/v1/ns/instance/list?${q}`, opts.timeoutMs);
    if (answer.status !== 200) throw new RegistryError(`${redact(base)}/v1/ns/instance/list (${service}): HTTP ${answer.status}`);
    const hosts = nacosHosts(answer.body);
    if (!hosts) throw new RegistryError(`${redact(base)}/v1/ns/instance/list (${service}): not a Nacos instance list`);
    return hosts;
  };

  return {
    async fetch() {
      const errors: string[] = [];
      for (let i = 0; i < opts.urls.length; i++) {
        const at = (server + i) % opts.urls.length;
        try {
          const answers: NacosHost[][] = [];
          for (const service of opts.services) answers.push(await read(opts.urls[at]!.replace(/\/+$/, ''), service));
          server = at;
          const t = now();
          const instances: Record<string, DiscoveredInstance[]> = {};
          const problems: string[] = [];
          opts.services.forEach((service, k) => {
            const seen = firstSeen.get(service)!;
            const listed = new Set<string>();
            const found: DiscoveredInstance[] = [];
            for (const h of answers[k]!) {
              if (!h.instance) {
                if (h.problem) problems.push(`${service}: ${h.problem}`);
                continue;
              }
              listed.add(h.instance.name);
              if (!seen.has(h.instance.name)) seen.set(h.instance.name, readOnce ? Math.max(1, t - opts.refreshMs) : 0);
              found.push({ ...h.instance, registeredAt: seen.get(h.instance.name)! });
            }
            // An empty listing is more likely a restarted Nacos than a cluster gone (the refresh keeps the last
            // set then): forgetting would later date every returning instance after its own jobs.
            if (listed.size > 0) for (const name of [...seen.keys()]) if (!listed.has(name)) seen.delete(name);
            instances[service] = onePerName(found);
          });
          readOnce = true;
          return { instances, problems };
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
      throw new RegistryError(errors.join('; '));
    },
  };
}

