/**
 * Reads Linkis's services from Eureka's REST API: `GET {zone}/apps/{APP}` for a full listing, and
 * `GET {zone}/apps/delta` in between where the server offers it (403 when eureka.shouldDisableDelta).
 * A full fetch still happens every fullRefreshMs, after any failure and on a change of zone, so a delta
 * missed or misapplied cannot leave the set stale for longer than that.
 */
import type { DiscoveredInstance } from '../upstreams';
import { redactUrl as redact } from './discovery-config';
import { getJson, RegistryError } from './registry-http';
import { eurekaApplication, eurekaDelta, onePerName, type EurekaRecord, type RegistryClient, type RegistryListing } from './registrations';

export interface EurekaOptions {
  /** defaultZone URLs, tried in order; the one that answered is asked first next time. */
  urls: string[];
  /** Spring application names (`linkis-cg-entrance`); Eureka keeps them in upper case. */
  services: string[];
  timeoutMs: number;
  fullRefreshMs: number;
  address: 'hostname' | 'ip';
  now?: () => number;
}

export function createEurekaClient(opts: EurekaOptions): RegistryClient {
  const now = opts.now ?? Date.now;
  const apps = opts.services.map((s) => s.toUpperCase());
  // Per app: Eureka's instanceId → record. Replaced by every full fetch, patched by deltas.
  let records: Map<string, Map<string, EurekaRecord>> | undefined;
  let lastFull = 0;
  let zone = 0;
  // A server that refused a delta (403: deltas disabled, or not serving yet) is asked again a full period later.
  let deltaRefusedAt = Number.NEGATIVE_INFINITY;

  const full = async (base: string): Promise<Map<string, Map<string, EurekaRecord>>> => {
    const out = new Map<string, Map<string, EurekaRecord>>();
    for (const app of apps) {
      const answer = await getJson(`${base}/apps/${encodeURIComponent(app)}`, opts.timeoutMs);
      // 404: Eureka knows no instance of the app (none registered, or none yet after Eureka restarted).
      if (answer.status === 404) {
        out.set(app, new Map());
        continue;
      }
      if (answer.status !== 200) throw new RegistryError(`${redact(base)}/apps/${app}: HTTP ${answer.status}`);
      const list = eurekaApplication(answer.body, opts.address);
      if (!list) throw new RegistryError(`${redact(base)}/apps/${app}: not a Eureka application document`);
      out.set(app, new Map(list.map((r) => [r.id, r])));
    }
    return out;
  };

  /** Patches `current` in place once the whole answer is read and understood; false when the server offers no deltas. */
  const delta = async (base: string, current: Map<string, Map<string, EurekaRecord>>): Promise<boolean> => {
    const answer = await getJson(`${base}/apps/delta`, opts.timeoutMs);
    if (answer.status === 403 || answer.status === 404) return false;
    if (answer.status !== 200) throw new RegistryError(`${redact(base)}/apps/delta: HTTP ${answer.status}`);
    const changes = eurekaDelta(answer.body, apps, opts.address);
    if (!changes) throw new RegistryError(`${redact(base)}/apps/delta: not a Eureka applications document`);
    // Eureka keeps the latest change per instance, so applying the same delta twice is harmless.
    for (const c of changes) {
      const app = current.get(c.app)!;
      if (c.action === 'DELETED') app.delete(c.record.id);
      else app.set(c.record.id, c.record);
    }
    return true;
  };

  const listing = (current: Map<string, Map<string, EurekaRecord>>): RegistryListing => {
    const instances: Record<string, DiscoveredInstance[]> = {};
    const problems: string[] = [];
    opts.services.forEach((service, i) => {
      const found: DiscoveredInstance[] = [];
      for (const r of current.get(apps[i]!)!.values()) {
        if (r.instance) found.push(r.instance);
        else if (r.problem) problems.push(`${service}: ${r.problem}`);
      }
      instances[service] = onePerName(found);
    });
    return { instances, problems };
  };

  return {
    async fetch() {
      const errors: string[] = [];
      for (let i = 0; i < opts.urls.length; i++) {
        const at = (zone + i) % opts.urls.length;
        const base = opts.urls[at]!.replace(/\/+$/, '');
        try {
          const deltaOffered = now() - deltaRefusedAt >= opts.fullRefreshMs;
          const fullDue = !records || at !== zone || !deltaOffered || now() - lastFull >= opts.fullRefreshMs;
          if (!fullDue && records) {
            if (await delta(base, records)) return listing(records);
            deltaRefusedAt = now();
          }
          records = await full(base);
          // A listing without an application may be a Eureka still filling after a restart (the refresh loop
          // does not believe it): ask for a full one again next time rather than patch deltas onto it.
          lastFull = [...records.values()].some((m) => m.size === 0) ? 0 : now();
          zone = at;
          return listing(records);
        } catch (err) {
          errors.push((err as Error).message);
          // Whatever zone answers next starts from a full listing.
          lastFull = 0;
        }
      }
      throw new RegistryError(errors.join('; '));
    },
  };
}

