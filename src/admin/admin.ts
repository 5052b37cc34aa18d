/**
 * Puts the admin parts together for the gateway process: the repo (the file), the audit log, the reload
 * path for file changes, and, when admin.properties names at least one admin, the admin listener's app.
 * main listens; this module never opens a port.
 */
import type { RequestListener } from 'node:http';
import type { Logger } from 'winston';
import type { AllowlistStore } from '../control-plane/allowlist-store';
import type { GatewayConfig } from '../control-plane/config';
import type { UpstreamRegistry } from '../control-plane/upstreams';
import { createAdminApp, type AdminAppDeps } from './api';
import { createAuditLog, type AuditLog } from './audit';
import { loadAdminCredentials } from './credentials';
import { createFileChanges } from './file-changes';
import { createTokenUsage, usageFileBeside, type TokenUsage } from './token-usage';
import { createTokensRepo, type TokensRepo } from './tokens-repo';
import { createTokensService, type TokensService } from './tokens-service';

export interface AdminDeps {
  config: GatewayConfig;
  /** The allowlist file in force (demo mode uses its own). */
  proxyUserFile: string;
  logger: Logger;
  store: AllowlistStore;
  registry: UpstreamRegistry;
  extraRoutes?: AdminAppDeps['extraRoutes'];
  /** The shared store's repo (gateway.allowlist.store=redis): written there, and no file to watch. */
  sharedRepo?: TokensRepo;
}

export interface Admin {
  /** For watchFile on proxy.properties: reloads, and logs and audits hand edits as such. */
  onFileChange(): void;
  /** The admin listener's request handler; null when no admin is configured (the listener stays off). */
  handler: RequestListener | null;
  /** Why the listener is off, for the log. */
  offReason?: string;
  repo: TokensRepo;
  audit: AuditLog;
  service: TokensService;
  /** Last use per token: the data plane's onAllowed goes to `usage.note`. */
  usage: TokenUsage;
  /** Resolves once the file change being handled (if any) is done. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Throws ConfigError for a malformed admin.properties: an admin listener should not half-work. */
export function createAdmin(deps: AdminDeps): Admin {
  const { config, logger, store } = deps;
  const audit = createAuditLog({ file: config.admin.auditFile, logger, replica: config.replica });
  // The file store: its watcher tells the admin's own writes from hand edits. The shared store has no hand edits.
  const changes = deps.sharedRepo ? null : createFileChanges({ file: deps.proxyUserFile, store, logger, audit });
  const repo = deps.sharedRepo ?? createTokensRepo({ file: deps.proxyUserFile, onWritten: changes!.noteWritten });
  const usage = createTokenUsage({ file: usageFileBeside(config.admin.auditFile), logger, known: () => ({ size: store.current().size, fingerprints: () => fingerprintsOf(store.current()) }) });
  const service = createTokensService({ repo, audit, tokenPolicy: config.tokenPolicy, usage });
  const credentials = loadAdminCredentials(config.admin.credentialsFile);
  let handler: RequestListener | null = null;
  let offReason: string | undefined;
  if (!credentials) offReason = `${config.admin.credentialsFile} does not exist (see conf/admin.properties.example)`;
  else if (credentials.size === 0) offReason = `${config.admin.credentialsFile} names no admin`;
  else handler = createAdminApp({ service, credentials, registry: deps.registry, logger, extraRoutes: deps.extraRoutes });
  return {
    onFileChange: changes?.onFileChange ?? (() => undefined),
    handler,
    offReason,
    repo,
    audit,
    service,
    usage,
    idle: changes?.idle ?? (async () => undefined),
    async close() {
      await usage.close();
      await repo.close();
      await changes?.idle();
      await audit.close();
    },
  };
}

// One Set per allowlist version, not one per flush.
const fingerprintSets = new WeakMap<object, ReadonlySet<string>>();
function fingerprintsOf(allowlist: ReturnType<AllowlistStore['current']>): ReadonlySet<string> {
  let set = fingerprintSets.get(allowlist);
  if (!set) fingerprintSets.set(allowlist, (set = new Set(allowlist.entries().map((e) => e.fingerprint))));
  return set;
}
