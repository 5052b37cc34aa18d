/**
 * The token operations both front ends share: the admin API and the CLI's direct mode call these, so a
 * change is validated, written and audited the same way whoever makes it. Parsing and validating a file
 * of 60,000 tokens costs most of a second of CPU: it runs on a worker thread (tokens-worker.ts), so the
 * gateway's data plane keeps serving meanwhile.
 */
import { randomBytes } from 'node:crypto';
import type { PropertyProblem } from '../linkis/properties';
import type { AuditLog } from './audit';
import type { TokenEdit, TokenRules, TokenView, Users } from './tokens-file';
import type { TokensRepo } from './tokens-repo';
import { editOffThread, readTokensOffThread } from './tokens-worker';

export interface Actor {
  /** Who, for the audit: an admin name from admin.properties, or the CLI's `--as` / OS user. */
  name: string;
  via: 'api' | 'cli';
}

export interface TokenListing {
  etag: string;
  /** A weak token has `weak: "<reason>"`. */
  tokens: TokenView[];
  /** Non-empty when the file on disk is refused by the gateway (the previous rules are in force). */
  problems: PropertyProblem[];
}

export interface ChangeResult {
  fingerprint: string;
  usersBefore: Users | null;
  usersAfter: Users | null;
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
  list(): Promise<TokenListing>;
  create(actor: Actor, ifMatch: string, users: Users): Promise<Created>;
  change(actor: Actor, ifMatch: string, edit: ChangeEdit): Promise<ChangeResult>;
}

/** 24 random bytes, hex: 192 bits, and no character that needs escaping in the file or a header. */
export function generateToken(): string {
  return randomBytes(24).toString('hex');
}

export function createTokensService(deps: { repo: TokensRepo; audit: AuditLog; tokenPolicy?: TokenRules['tokenPolicy'] }): TokensService {
  const { repo, audit } = deps;
  // The gateway's policy: under `strict` a file with a weak token is refused here too (fix it by hand first).
  const rules: TokenRules = { tokenPolicy: deps.tokenPolicy ?? 'warn' };

  async function apply(actor: Actor, ifMatch: string, edit: TokenEdit): Promise<ChangeResult> {
    const { result, etagBefore, etagAfter, raced } = await repo.update(ifMatch, (text) => editOffThread(text, edit, rules));
    const { fingerprint, usersBefore, usersAfter, changed } = result;
    if (changed) await audit.record({ admin: actor.name, via: actor.via, operation: edit.op, token: fingerprint, usersBefore, usersAfter, etagBefore, etagAfter });
    // Someone replaced the file in the instant of our rename: their bytes are gone. A person must look.
    if (raced) await audit.record({ admin: null, via: 'file', operation: 'hand-edit', token: null, usersBefore: null, usersAfter: null, etagBefore, etagAfter, applied: false, lost: true });
    return { fingerprint, usersBefore, usersAfter, etag: etagAfter, changed };
  }

  return {
    async list() {
      const { text, etag } = await repo.read();
      const { tokens, problems } = await readTokensOffThread(text, rules);
      return { etag, tokens, problems };
    },
    async create(actor, ifMatch, users) {
      const token = generateToken();
      return { ...(await apply(actor, ifMatch, { op: 'create', token, users })), token };
    },
    change: (actor, ifMatch, edit) => apply(actor, ifMatch, edit),
  };
}
