/**
 * Where the CLI's token commands go: a running gateway's admin API, or the conf directory directly (no
 * gateway running, or none reachable). Both do the same validation, atomic locked write and audit: the
 * direct one runs the very code the admin API runs.
 */
import { userInfo } from 'node:os';
import { checkUserName } from '../control-plane/user-names';
import { loadConfig } from '../control-plane/config';
import { createLogger } from '../ops/logger';
import { AdminError } from './admin-error';
import { createAuditLog } from './audit';
import { createTokenUsage, usageFileBeside } from './token-usage';
import type { Users } from './tokens-file';
import { createTokensRepo } from './tokens-repo';
import { createTokensService, type ChangeEdit, type ChangeResult, type Created, type TokenListing, type TokensService } from './tokens-service';
import { allowlistKeys, createRedisTokensRepo } from './redis-allowlist';
import { connectRedisCommands } from '../control-plane/redis-shared';

export interface TokensBackend {
  /** For messages: where the changes go. */
  readonly target: string;
  list(search?: string): Promise<TokenListing>;
  /** `ifMatch` undefined: use the version read just before (read-modify-write in one command). */
  create(users: Users, ifMatch?: string, label?: string): Promise<Created>;
  change(edit: ChangeEdit, ifMatch?: string): Promise<ChangeResult>;
  /** Direct mode only (the store itself, file or Redis): proxy.properties in and out. */
  importText?(ifMatch: string | undefined, text: string): ReturnType<TokensService['importText']>;
  exportText?: TokensService['exportText'];
  close(): Promise<void>;
}

/** A refusal from the admin API, with its envelope's errorCode. */
export class ApiRefusal extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly data: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function directBackend(confDir: string, as: string | undefined): TokensBackend {
  const config = loadConfig(confDir);
  const admin = as ?? userInfo().username;
  const check = checkUserName(admin);
  if (!check.ok) throw new AdminError('ADMIN_VALIDATION', `--as: ${check.reason}`);
  // Audit records go to the audit file only; stderr gets nothing but errors.
  const logger = createLogger({ level: 'error', format: 'pretty' }, { stream: process.stderr, isTTY: false });
  // The shared store when the gateway uses one: the CLI then writes where every replica reads.
  const shared = config.sharedStore.mode === 'redis' ? connectRedisCommands(config.sharedStore.url!) : undefined;
  const where = shared ? `Redis ${config.sharedStore.url!.replace(/\/\/[^@/]*@/, '//')} (${allowlistKeys(config.sharedStore.prefix).text})` : config.proxyUserFile;
  const repo = shared
    ? createRedisTokensRepo({ send: shared.send, prefix: config.sharedStore.prefix, channel: `${config.sharedStore.prefix}changed`, where })
    : createTokensRepo({ file: config.proxyUserFile });
  const audit = createAuditLog({ file: config.admin.auditFile, logger, replica: config.replica });
  // Last use as the gateway recorded it; the CLI itself uses no token, so it only reads.
  const usage = createTokenUsage({ file: usageFileBeside(config.admin.auditFile), readOnly: true });
  const service = createTokensService({ repo, audit, tokenPolicy: config.tokenPolicy, usage });
  const actor = { name: admin, via: 'cli' as const };
  const etag = async (ifMatch?: string) => ifMatch ?? (await repo.read()).etag;
  return {
    target: where,
    importText: (ifMatch, text) => service.importText(actor, ifMatch, text),
    exportText: () => service.exportText(),
    list: (search) => service.list(search),
    create: async (users, ifMatch, label) => service.create(actor, await etag(ifMatch), users, label),
    change: async (edit, ifMatch) => service.change(actor, await etag(ifMatch), edit),
    async close() {
      await repo.close();
      await shared?.close();
      await audit.close();
      logger.close();
    },
  };
}

export function apiBackend(baseUrl: string, adminToken: string): TokensBackend {
  const base = baseUrl.replace(/\/+$/, '').replace(/\/admin\/?$/, '');
  async function call(method: string, path: string, body?: unknown, ifMatch?: string): Promise<Record<string, any>> {
    const headers: Record<string, string> = { authorization: `Bearer ${adminToken}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (ifMatch) headers['if-match'] = `"${ifMatch}"`;
    let res: Response;
    try {
      res = await fetch(`${base}/admin/api/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      throw new ApiRefusal(`cannot reach the admin API at ${base} (${(err as Error).cause ?? (err as Error).message})`, undefined, {});
    }
    const text = await res.text();
    let env: { status?: number; message?: string; data?: Record<string, any> };
    try {
      env = JSON.parse(text);
    } catch {
      throw new ApiRefusal(`${base} answered HTTP ${res.status} with something that is not a Linkis answer (is --admin-url the admin listener?)`, undefined, {});
    }
    if (env.status !== 0) throw new ApiRefusal(env.message ?? `HTTP ${res.status}`, env.data?.errorCode, env.data ?? {});
    return env.data ?? {};
  }
  const etag = async (ifMatch?: string) => ifMatch ?? ((await call('GET', 'tokens')).etag as string);
  const fp = (f: string) => `tokens/${encodeURIComponent(f)}`;
  return {
    target: `${base}/admin/api`,
    list: async (search) => (await call('GET', search ? `tokens?search=${encodeURIComponent(search)}` : 'tokens')) as TokenListing,
    async create(users, ifMatch, label) {
      const d = await call('POST', 'tokens', { users, ...(label ? { label } : {}) }, await etag(ifMatch));
      return { token: d.token, fingerprint: d.fingerprint, usersBefore: null, usersAfter: d.users, labelAfter: d.label ?? '', etag: d.etag, changed: true };
    },
    async change(edit, ifMatch) {
      const tag = await etag(ifMatch);
      switch (edit.op) {
        case 'add-users':
          return (await call('POST', `${fp(edit.fingerprint)}/users`, { add: edit.users }, tag)) as ChangeResult;
        case 'remove-users':
          return (await call('POST', `${fp(edit.fingerprint)}/users/remove`, { remove: edit.users }, tag)) as ChangeResult;
        case 'set-users':
          return (await call('PUT', `${fp(edit.fingerprint)}/users`, { users: edit.users }, tag)) as ChangeResult;
        case 'set-label':
          return (await call('PUT', `${fp(edit.fingerprint)}/label`, { label: edit.label }, tag)) as ChangeResult;
        case 'delete': {
          const d = await call('DELETE', fp(edit.fingerprint), undefined, tag);
          return { fingerprint: d.fingerprint, usersBefore: d.usersBefore, usersAfter: null, etag: d.etag, changed: true };
        }
      }
    },
    close: async () => undefined,
  };
}
