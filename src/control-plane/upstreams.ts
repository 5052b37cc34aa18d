/**
 * The configured Entrance instances and what the gateway knows about each: health and draining.
 * Follow-ups look an instance up by the name in their execID; submissions ask the balancer for one.
 */
import type { EntranceInstance } from './config-values';

export interface Upstream {
  readonly name: string;
  /** What the instance is, for messages: `Entrance` or `publicservice`. */
  readonly role: string;
  readonly url: string;
  healthy: boolean;
  draining: boolean;
  consecutiveFailures: number;
  inFlight: number;
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
  setDraining(name: string, draining: boolean): boolean;
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

  return {
    get: (name) => byName.get(name),
    all: () => list,
    pick(exclude) {
      const n = list.length;
      for (let i = 0; i < n; i++) {
        const u = list[(cursor + i) % n];
        if (u.draining || exclude?.has(u.name)) continue;
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
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      listeners.clear();
    },
  };
}
