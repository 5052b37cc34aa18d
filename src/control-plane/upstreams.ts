/**
 * The configured Entrance instances and what the gateway knows about each: health and draining.
 * Follow-ups look an instance up by the name in their execID; submissions ask the balancer for one.
 */
import type { EntranceInstance } from './config-values';
import { drainHere, type DrainChange, type DrainCoordinator, type DrainOutcome } from './draining';

export type { DrainChange, DrainCoordinator, DrainOutcome } from './draining';
export { drainHere } from './draining';

export interface Upstream {
  readonly name: string;
  /** What the instance is, for messages: `Entrance` or `publicservice`. */
  readonly role: string;
  readonly url: string;
  healthy: boolean;
  draining: boolean;
  consecutiveFailures: number;
  inFlight: number;
  /** What the service registry says of it (gateway.discovery); absent for configured instances. */
  registration?: Registration;
}

/** An instance as a service registry lists it (src/control-plane/discovery/). */
export interface DiscoveredInstance {
  /** The name the instance writes into its execIDs. */
  name: string;
  url: string;
  /** The registry's word for it, for logs: Eureka's status, or UP/DOWN/DISABLED/ZERO_WEIGHT from Nacos. */
  status: string;
  /** The registry lets it take new jobs (Eureka UP; Nacos healthy, enabled, weight > 0). */
  up: boolean;
  /** When the registry says it came up (ms): jobInstanceKey's instanceRegistryTimestamp; 0 when unknown. */
  registeredAt: number;
}

export interface Registration {
  status: string;
  up: boolean;
  registeredAt: number;
  /** False once it left the registry: it still serves follow-ups for the jobs it holds, until it stops answering. */
  listed: boolean;
}

/** Takes new submissions: healthy, not draining, and (when discovered) UP in the registry. */
export function takesSubmissions(u: Upstream): boolean {
  return u.healthy && !u.draining && (u.registration?.up ?? true);
}

export interface UpstreamRegistry {
  get(name: string): Upstream | undefined;
  all(): readonly Upstream[];
  /** Next healthy, non-draining instance in round-robin order, skipping `exclude`; undefined if none. */
  pick(exclude?: ReadonlySet<string>): Upstream | undefined;
  /** A connection to the instance failed (refused, reset before answer, timed out). */
  markFailure(name: string): void;
  /** The instance answered. */
  markSuccess(name: string): void;
  /** An active check's verdict (after its thresholds); an instance it takes out stays out until it brings it back. */
  setHealthy(name: string, healthy: boolean, why: string): void;
  /** In this process only: what a coordinator applies in each worker. False for an unknown name. */
  setDraining(name: string, draining: boolean): boolean;
  /**
   * Drains or undrains for the whole gateway through the coordinator (by default this process alone);
   * resolves once it is in force. Null for an unknown name.
   */
  drain(change: DrainChange): Promise<DrainOutcome | null>;
  /** main installs the cluster-wide, audited coordinator; tests keep the default. */
  setDrainCoordinator(coordinator: DrainCoordinator): void;
  /**
   * Applies a registry listing: adds new instances, updates status and registry time, and keeps departed
   * ones for follow-ups (no new submissions) until they stop answering, then removes them. Configured
   * instances are never touched. Returns the names added.
   */
  sync(found: readonly DiscoveredInstance[]): string[];
  onChange(listener: (u: Upstream, why: string) => void): () => void;
  close(): void;
}

export interface RegistryOptions {
  /** Names the kind of service in messages; default `Entrance`. */
  role?: string;
  /** Consecutive connection failures that take an instance out of the balancer (passive ejection). */
  failureThreshold: number;
  /** How long an ejected instance stays out before the balancer tries it again, unless a check revives it. */
  ejectMs: number;
  now?: () => number;
}

export function createUpstreamRegistry(instances: EntranceInstance[], opts: RegistryOptions): UpstreamRegistry {
  const now = opts.now ?? Date.now;
  const role = opts.role ?? 'Entrance';
  const list: Upstream[] = instances.map((i) => ({ name: i.name, role, url: i.url, healthy: true, draining: false, consecutiveFailures: 0, inFlight: 0 }));
  const byName = new Map(list.map((u) => [u.name, u]));
  const ejectedAt = new Map<string, number>();
  // Taken out by an active check: only a check brings it back (neither a follow-up it answers nor ejectMs).
  const checkedOut = new Set<string>();
  const listeners = new Set<(u: Upstream, why: string) => void>();
  let cursor = 0;
  let coordinator: DrainCoordinator | undefined;

  const changed = (u: Upstream, why: string) => listeners.forEach((l) => l(u, why));
  const setHealthy = (u: Upstream, healthy: boolean, why: string) => {
    if (u.healthy === healthy) return;
    u.healthy = healthy;
    if (healthy) {
      ejectedAt.delete(u.name);
      u.consecutiveFailures = 0;
    } else ejectedAt.set(u.name, now());
    changed(u, why);
  };

  const registry: UpstreamRegistry = {
    get: (name) => byName.get(name),
    all: () => list,
    pick(exclude) {
      const n = list.length;
      for (let i = 0; i < n; i++) {
        const u = list[(cursor + i) % n];
        if (u.draining || exclude?.has(u.name) || u.registration?.up === false) continue;
        // After ejectMs an ejected instance is offered again until a request succeeds or fails: passive recovery
        // without a checker (the active checker, when on, decides sooner).
        if (!u.healthy && (checkedOut.has(u.name) || now() - (ejectedAt.get(u.name) ?? 0) < opts.ejectMs)) continue;
        cursor = (cursor + i + 1) % n;
        return u;
      }
      return undefined;
    },
    markFailure(name) {
      const u = byName.get(name);
      if (!u) return;
      u.consecutiveFailures++;
      if (u.consecutiveFailures >= opts.failureThreshold) {
        if (!u.healthy) ejectedAt.set(u.name, now()); // a failed trial restarts the ejection period
        setHealthy(u, false, `${u.consecutiveFailures} consecutive connection failures`);
      }
    },
    markSuccess(name) {
      const u = byName.get(name);
      if (!u) return;
      u.consecutiveFailures = 0;
      if (!checkedOut.has(u.name)) setHealthy(u, true, 'answered a request');
    },
    setHealthy(name, healthy, why) {
      const u = byName.get(name);
      if (!u) return;
      if (healthy) checkedOut.delete(name);
      else checkedOut.add(name);
      setHealthy(u, healthy, why);
    },
    setDraining(name, draining) {
      const u = byName.get(name);
      if (!u) return false;
      if (u.draining !== draining) {
        u.draining = draining;
        changed(u, draining ? 'draining' : 'no longer draining');
      }
      return true;
    },
    drain: async (change) => (byName.has(change.name) ? (coordinator ?? drainHere(registry))(change) : null),
    setDrainCoordinator(c) {
      coordinator = c;
    },
    sync(found) {
      const added: string[] = [];
      const listed = new Set<string>();
      const add = (f: DiscoveredInstance) => {
        const u: Upstream = { name: f.name, role, url: f.url, healthy: true, draining: false, consecutiveFailures: 0, inFlight: 0, registration: { status: f.status, up: f.up, registeredAt: f.registeredAt, listed: true } };
        list.push(u);
        byName.set(u.name, u);
        added.push(u.name);
        changed(u, `registered (${f.status}) at ${f.url}`);
      };
      const remove = (u: Upstream, why: string) => {
        list.splice(list.indexOf(u), 1);
        byName.delete(u.name);
        ejectedAt.delete(u.name);
        checkedOut.delete(u.name);
        changed(u, why);
      };
      for (const f of found) {
        listed.add(f.name);
        const u = byName.get(f.name);
        if (!u) add(f);
        else if (!u.registration) continue; // configured by name: the configuration wins
        else if (u.url !== f.url) {
          // Same name at a new address: a new upstream (requests in flight finish on the old object).
          remove(u, `moved to ${f.url}`);
          add(f);
        } else {
          const was = u.registration;
          u.registration = { status: f.status, up: f.up, registeredAt: f.registeredAt, listed: true };
          if (was.status !== f.status || !was.listed) changed(u, `registry: ${f.status}`);
        }
      }
      for (const u of [...list]) {
        if (!u.registration || listed.has(u.name)) continue;
        if (u.registration.listed) {
          u.registration = { ...u.registration, status: 'GONE', up: false, listed: false };
          changed(u, 'left the registry: follow-ups only, while it answers');
        } else if (!u.healthy) remove(u, 'removed: left the registry and stopped answering');
      }
      return added;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      listeners.clear();
    },
  };
  return registry;
}
