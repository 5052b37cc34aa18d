/**
 * The refresh loop: reads the registry every refreshMs and syncs the Entrance and publicservice pools.
 * Fail-static: when the registry cannot be read (or suddenly lists none of a service it listed, as a
 * restarted Eureka does until every client registered again) the last known set stays in force; the
 * first failure is logged once, recovery once, and healthy() feeds /ready's `discovery` check.
 */
import type { Logger } from 'winston';
import type { UpstreamRegistry } from '../upstreams';
import { redactUrl, type DiscoveryConfig } from './discovery-config';
import { createEurekaClient } from './eureka';
import { createNacosClient } from './nacos';
import type { RegistryClient } from './registrations';

export interface DiscoveryDeps {
  registry: UpstreamRegistry;
  publicservice: UpstreamRegistry;
  logger: Logger;
  /** Every refresh's outcome (metrics). */
  onRefresh?: (ok: boolean) => void;
  /** gateway.entrance.draining: applied to those names when the registry first lists them. */
  draining?: readonly string[];
  /** Tests: another client than the one the configuration names. */
  client?: RegistryClient;
}

export interface Discovery {
  /** One refresh now; true when the registry answered and its listing was applied. */
  refresh(): Promise<boolean>;
  /** False while the registry cannot be read: the last known instances stay in force. */
  healthy(): boolean;
  close(): void;
}

/** Reads the registry once (so the gateway starts with its instances), then every refreshMs. */
export async function startDiscovery(config: DiscoveryConfig, deps: DiscoveryDeps): Promise<Discovery> {
  const pools = [{ service: config.entranceService, registry: deps.registry }];
  if (config.publicserviceService) pools.push({ service: config.publicserviceService, registry: deps.publicservice });
  const services = pools.map((p) => p.service);
  const client =
    deps.client ??
    (config.mode === 'nacos'
      ? createNacosClient({ urls: config.urls, services, namespace: config.nacosNamespace, group: config.nacosGroup, timeoutMs: config.timeoutMs, refreshMs: config.refreshMs })
      : createEurekaClient({ urls: config.urls, services, timeoutMs: config.timeoutMs, fullRefreshMs: config.fullRefreshMs, address: config.eurekaAddress }));
  const where = { registry: config.mode, urls: config.urls.map(redactUrl) };
  const { logger } = deps;
  const drainFirst = new Set(deps.draining ?? []);
  const reported = new Set<string>();
  let ok: boolean | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> | undefined;

  const failed = (error: string): false => {
    if (ok !== false) {
      const kept = Object.fromEntries(pools.map((p) => [p.service, p.registry.all().map((u) => u.name)]));
      logger.warn('service registry unreachable: keeping the last known instances', { event: 'discovery.unreachable', ...where, error, kept });
    }
    ok = false;
    deps.onRefresh?.(false);
    return false;
  };

  const round = async (): Promise<boolean> => {
    let listing;
    try {
      listing = await client.fetch();
    } catch (err) {
      return closed ? false : failed((err as Error).message);
    }
    if (closed) return false;
    for (const p of pools) {
      const knew = p.registry.all().some((u) => u.registration?.listed);
      if (knew && (listing.instances[p.service] ?? []).length === 0) return failed(`the registry lists no ${p.service} instance, where it listed some`);
    }
    for (const p of pools) {
      for (const name of p.registry.sync(listing.instances[p.service] ?? [])) {
        if (p.registry === deps.registry && drainFirst.delete(name)) p.registry.setDraining(name, true);
      }
    }
    // Each unusable record once, not every refresh.
    for (const problem of listing.problems) {
      if (reported.has(problem)) continue;
      reported.add(problem);
      logger.warn('service registry: a registration the gateway cannot use', { event: 'discovery.skipped', ...where, problem });
    }
    if (ok === false) logger.info('service registry reachable again', { event: 'discovery.recovered', ...where });
    ok = true;
    deps.onRefresh?.(true);
    return true;
  };

  // One round at a time: a slow registry is not asked again before it answered.
  const refresh = () => (running ??= round().finally(() => (running = undefined)));
  // Fixed rate: the next round starts refreshMs after this one started (a slow answer does not add up).
  const next = (started: number) => {
    if (closed) return;
    timer = setTimeout(tick, Math.max(0, config.refreshMs - (Date.now() - started)));
    timer.unref();
  };
  const tick = () => {
    const started = Date.now();
    void refresh().finally(() => next(started));
  };

  const started = Date.now();
  if (await refresh()) {
    const found = Object.fromEntries(pools.map((p) => [p.service, p.registry.all().map((u) => `${u.name} ${u.registration?.status ?? ''}`.trim())]));
    logger.info('service discovery on', { event: 'discovery.start', ...where, refreshMs: config.refreshMs, found });
  }
  next(started);
  return {
    refresh,
    healthy: () => ok === true,
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
