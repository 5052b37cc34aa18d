/**
 * Draining as the admin API asks for it: for the whole gateway, not for the one process that took the
 * request. UpstreamRegistry.drain goes through a coordinator: drainHere for a gateway without workers,
 * src/ops/cluster-draining.ts with workers; main wraps it so each change is audited (src/admin/audit.ts).
 */

/** An admin's request to drain (or undrain) an instance. */
export interface DrainChange {
  name: string;
  draining: boolean;
  /** Who asked, for the audit. */
  admin: string;
}

export interface DrainOutcome {
  /** False when the instance already was in that state (nothing to audit). */
  changed: boolean;
  /** Gateway processes serving traffic, and how many of them confirmed the state is in force. */
  workers: number;
  applied: number;
  /** Recorded in the shared store (gateway.allowlist.store=redis): every replica applies it within 2 s. */
  shared?: boolean;
}

/** Puts a drain in force wherever this gateway serves; resolves once it is. */
export type DrainCoordinator = (change: DrainChange) => Promise<DrainOutcome>;

/** The coordinator of a gateway without workers: this process is the whole gateway. */
export function drainHere(registry: { get(name: string): { draining: boolean } | undefined; setDraining(name: string, draining: boolean): boolean }): DrainCoordinator {
  return async ({ name, draining }) => {
    const changed = registry.get(name)?.draining !== draining;
    registry.setDraining(name, draining);
    return { changed, workers: 1, applied: 1 };
  };
}
