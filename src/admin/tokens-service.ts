/**
 * The token operations both front ends share: the admin API and the CLI's direct mode call these, so a
 * change is validated, written and audited the same way whoever makes it. Parsing and validating a file
 * of 60,000 tokens costs most of a second of CPU: it runs on a worker thread (tokens-worker.ts), so the
 * gateway's data plane keeps serving meanwhile.
 */
import { randomBytes } from 'node:crypto';
import type { PropertyProblem } from '../linkis/properties';
import type { AuditLog, AuditRecord } from './audit';
import { diffOne } from './token-diff';
import type { TokenUsage } from './token-usage';
import type { TokenEdit, TokenRules, TokenView, Users } from './tokens-file';
import type { TokensRepo } from './tokens-repo';
import { AdminError } from './admin-error';
import { diffOffThread, editOffThread, readTokensOffThread } from './tokens-worker';

export interface Actor {
  /** Who, for the audit: an admin name from admin.properties, or the CLI's `--as` / OS user. */
  name: string;
  via: 'api' | 'cli';
}

export interface TokenListing {
  etag: string;
  /** A weak token has `weak: "<reason>"`. With a search, only the tokens that match. */
  tokens: TokenView[];
  /** Tokens in the file, whatever the search. */
  total: number;
  /** Non-empty when the file on disk is refused by the gateway (the previous rules are in force). */
  problems: PropertyProblem[];
}

export interface ChangeResult {
  fingerprint: string;
  usersBefore: Users | null;
  usersAfter: Users | null;
  /** '' for none; null when the token did not or does not exist. */
  labelBefore?: string | null;
  labelAfter?: string | null;
  /** The file's ETag after the change (unchanged when `changed` is false). */
  etag: string;
  changed: boolean;
}

export interface Created extends ChangeResult {
  /** The only time the whole token leaves the gateway. */
  token: string;
}

export type ChangeEdit = Exclude<TokenEdit, { op: 'create' }>;

export interface TokensService {
  /** `search`: case-insensitive, in the fingerprint, label, users and creator. */
  list(search?: string): Promise<TokenListing>;
  create(actor: Actor, ifMatch: string, users: Users, label?: string): Promise<Created>;
  change(actor: Actor, ifMatch: string, edit: ChangeEdit): Promise<ChangeResult>;
  /** The newest audit records, newest first. */
  recentAudit(limit: number): Promise<AuditRecord[]>;
  /** Replaces the whole allowlist with `text` (validated as the gateway would load it); audited as `import`. */
  importText(actor: Actor, ifMatch: string | undefined, text: string): Promise<{ etagBefore: string; etag: string; changed: boolean; tokens: number }>;
  /** The allowlist's text and version, byte for byte (an empty shared store exports as empty). */
  exportText(): Promise<{ text: string; etag: string }>;
}

/** 24 random bytes, hex: 192 bits, and no character that needs escaping in the file or a header. */
export function generateToken(): string {
  return randomBytes(24).toString('hex');
}

export function matchesSearch(t: TokenView, search: string): boolean {
  const q = search.trim().toLowerCase();
  if (!q) return true;
  const users = t.users === '*' ? ['*'] : t.users;
  return [t.fingerprint, t.label ?? '', t.createdBy ?? '', ...users].some((s) => s.toLowerCase().includes(q));
}

export interface TokensServiceDeps {
  repo: TokensRepo;
  audit: AuditLog;
  tokenPolicy?: TokenRules['tokenPolicy'];
  /** Last use per token, for listings. */
  usage?: Pick<TokenUsage, 'lastUsed'>;
  now?: () => Date;
}

export function createTokensService(deps: TokensServiceDeps): TokensService {
  const { repo, audit } = deps;
  const now = deps.now ?? (() => new Date());
  // The gateway's policy: under `strict` a file with a weak token is refused here too (fix it by hand first).
  const rules: TokenRules = { tokenPolicy: deps.tokenPolicy ?? 'warn' };

  async function apply(actor: Actor, ifMatch: string, edit: TokenEdit): Promise<ChangeResult> {
    const { result, etagAfter } = await repo.update(
      ifMatch,
      (text) => editOffThread(text, edit, rules),
      // Recorded with the writers' lock still held (see TokensRepo.update): no watcher takes it for a hand edit.
      async ({ result: r, etagBefore, etagAfter: after, raced }) => {
        const labels = edit.op === 'create' ? { label: r.labelAfter ?? '' } : edit.op === 'set-label' ? { labelBefore: r.labelBefore ?? '', labelAfter: r.labelAfter ?? '' } : {};
        const diff = diffOne(r.fingerprint, r.usersBefore, r.usersAfter);
        await audit.record({ admin: actor.name, via: actor.via, operation: edit.op, token: r.fingerprint, usersBefore: r.usersBefore, usersAfter: r.usersAfter, etagBefore, etagAfter: after, ...labels, ...diff });
        // Someone replaced the file in the instant of our rename: their bytes are gone. A person must look.
        if (raced) await audit.record({ admin: null, via: 'file', operation: 'hand-edit', token: null, usersBefore: null, usersAfter: null, etagBefore, etagAfter: after, applied: false, lost: true });
      },
    );
    const { fingerprint, usersBefore, usersAfter, labelBefore, labelAfter, changed } = result;
    return { fingerprint, usersBefore, usersAfter, labelBefore, labelAfter, etag: etagAfter, changed };
  }

  return {
    async list(search) {
      const { text, etag } = await repo.read();
      const [{ tokens, problems }, used] = await Promise.all([readTokensOffThread(text, rules), deps.usage?.lastUsed()]);
      if (used) for (const t of tokens) if (used.has(t.fingerprint)) t.lastUsed = new Date(used.get(t.fingerprint)!).toISOString();
      return { etag, tokens: search ? tokens.filter((t) => matchesSearch(t, search)) : tokens, total: tokens.length, problems };
    },
    async create(actor, ifMatch, users, label) {
      const token = generateToken();
      // When and by whom, in the token's own comment line (token-labels.ts), to the second.
      const created = { at: now().toISOString().replace(/\.\d+Z$/, 'Z'), by: actor.name };
      return { ...(await apply(actor, ifMatch, { op: 'create', token, users, label: label ?? '', created })), token };
    },
    change: (actor, ifMatch, edit) => apply(actor, ifMatch, edit),
    recentAudit: (limit) => audit.recent(limit),
    async importText(actor, ifMatch, text) {
      const { tokens, problems } = await readTokensOffThread(text, rules);
      // The same all-or-nothing check as a reload: a file the gateway would refuse never reaches the store.
      if (problems.length > 0) throw new AdminError('ADMIN_VALIDATION', `the file has problems (${problems.slice(0, 5).map((p) => `line ${p.line}: ${p.message}`).join('; ')})`, { problems });
      const etag = ifMatch ?? (await repo.read({ missingOk: true })).etag;
      const u = await repo.update(
        etag,
        (before) => ({ text, changed: before !== text, before }),
        async ({ result, etagBefore, etagAfter }) => {
          const diff = await diffOffThread(result.before, text).catch(() => ({}));
          await audit.record({ admin: actor.name, via: actor.via, operation: 'import', token: null, usersBefore: null, usersAfter: null, etagBefore, etagAfter, ...diff });
        },
        { initialize: true },
      );
      return { etagBefore: u.etagBefore, etag: u.etagAfter, changed: u.result.changed, tokens: tokens.length };
    },
    exportText: () => repo.read({ missingOk: true }),
  };
}
