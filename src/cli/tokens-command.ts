/**
 * `linkis-gateway tokens ...`: the CLI face of the token operations. Each subcommand is one entry of the
 * table src/cli/main.ts dispatches on. Output is for people by default and JSON with --json; the whole token
 * is printed only by `create`, once.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { UsageError, type CliContext, type Command } from './command';
import { apiBackend, directBackend, type TokensBackend } from '../admin/tokens-backends';
import { checkUsers, type TokenView, type Users } from '../admin/tokens-file';
import type { ChangeEdit, ChangeResult } from '../admin/tokens-service';

/** Options every tokens subcommand takes. */
const COMMON = ['conf', 'admin-url', 'admin-token', 'as', 'if-match', 'json'];

const showUsers = (u: Users | null | undefined): string => (u === null || u === undefined ? '(none)' : u === '*' ? '* (any user)' : u.join(','));

function backendFor(ctx: CliContext): TokensBackend {
  const url = ctx.opt('admin-url') ?? ctx.env.LINKIS_GATEWAY_ADMIN_URL;
  const token = ctx.opt('admin-token') ?? ctx.env.LINKIS_GATEWAY_ADMIN_TOKEN;
  if (ctx.opt('admin-url') && ctx.opt('conf')) throw new UsageError('give either --admin-url (a running gateway) or --conf (the files directly), not both');
  if (url && !ctx.opt('conf')) {
    if (!token) throw new UsageError('--admin-url needs an admin token: --admin-token TOKEN or LINKIS_GATEWAY_ADMIN_TOKEN');
    return apiBackend(url, token);
  }
  return directBackend(ctx.opt('conf') ?? ctx.env.LINKIS_GATEWAY_CONF ?? 'conf', ctx.opt('as'));
}

/** Users as separate words or comma-separated, or `*`. */
function usersArg(words: string[], allowStar: boolean): Users {
  const list = words.flatMap((w) => w.split(',')).filter((w) => w.trim() !== '');
  if (list.length === 0) throw new UsageError('name at least one user');
  return checkUsers(list, allowStar);
}

/** `2026-11-28 11:19Z`: minutes are enough to tell a token in use from one forgotten. */
const when = (iso: string | undefined): string => (iso ? `${iso.slice(0, 16).replace('T', ' ')}Z` : '-');

function table(tokens: TokenView[]): string {
  const head = ['FINGERPRINT', 'TOKEN', 'LINE', 'LAST USED', 'CREATED', 'LABEL', 'USERS'];
  const rows = [head, ...tokens.map((t) => [t.fingerprint, t.masked, String(t.line), t.lastUsed ? when(t.lastUsed) : 'never', when(t.created), t.label ?? '-', showUsers(t.users)])];
  // Code points, not UTF-16 units, so a label in Chinese lines up as well as a terminal lets it.
  const len = (c: string) => Array.from(c).length;
  const widths = head.map((_, i) => Math.max(...rows.map((r) => len(r[i]!))));
  return rows.map((r) => r.map((c, i) => (i === head.length - 1 ? c : c + ' '.repeat(widths[i]! - len(c)))).join('  ')).join('\n');
}

async function withBackend(ctx: CliContext, fn: (b: TokensBackend) => Promise<void>): Promise<number> {
  const backend = backendFor(ctx);
  try {
    await fn(backend);
    return 0;
  } finally {
    await backend.close();
  }
}

function printChange(ctx: CliContext, verb: string, r: ChangeResult): void {
  if (ctx.flag('json')) return ctx.out(JSON.stringify(r, null, 2));
  if (!r.changed) return ctx.out(`${r.fingerprint}: nothing to change (users: ${showUsers(r.usersAfter)})`);
  ctx.out(r.usersAfter === null ? `Deleted ${r.fingerprint} (it could act as: ${showUsers(r.usersBefore)})` : `${verb} ${r.fingerprint}: ${showUsers(r.usersBefore)} -> ${showUsers(r.usersAfter)}`);
}

function changeCommand(op: Exclude<ChangeEdit['op'], 'set-label'>, usage: string, summary: string, verb: string): Command {
  return {
    usage,
    summary,
    options: COMMON,
    run: (ctx) =>
      withBackend(ctx, async (b) => {
        const [fingerprint, ...rest] = ctx.args;
        if (!fingerprint) throw new UsageError('name the token by its fingerprint (see `tokens list`)');
        let edit: ChangeEdit;
        if (op === 'delete') {
          if (rest.length) throw new UsageError('delete takes only the fingerprint');
          edit = { op, fingerprint };
        } else if (op === 'set-users') edit = { op, fingerprint, users: usersArg(rest, true) };
        else edit = { op, fingerprint, users: usersArg(rest, false) as string[] };
        printChange(ctx, verb, await b.change(edit, ctx.opt('if-match')));
      }),
  };
}

/** import and export work on the store itself (the file, or the shared store in Redis), never through an API. */
function storeBackend(ctx: CliContext): TokensBackend {
  if (ctx.opt('admin-url')) throw new UsageError('import and export work on the store directly: give --conf (whose gateway.properties names the store), not --admin-url');
  return directBackend(ctx.opt('conf') ?? ctx.env.LINKIS_GATEWAY_CONF ?? 'conf', ctx.opt('as'));
}

export const TOKEN_COMMANDS: Record<string, Command> = {
  'tokens import': {
    usage: 'tokens import FILE',
    summary: 'replace the whole allowlist with FILE (proxy.properties syntax), validated and audited; with gateway.allowlist.store=redis, the shared store',
    options: ['conf', 'as', 'if-match', 'json'],
    run: async (ctx) => {
      const [file, ...rest] = ctx.args;
      if (!file || rest.length) throw new UsageError('name one file to import (- for standard input)');
      const text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
      const b = storeBackend(ctx);
      try {
        const r = await b.importText!(ctx.opt('if-match'), text);
        if (ctx.flag('json')) ctx.out(JSON.stringify(r, null, 2));
        else ctx.out(r.changed ? `Imported ${r.tokens} token${r.tokens === 1 ? '' : 's'} into ${b.target} (version ${r.etag})` : `${b.target} already holds exactly this (version ${r.etag})`);
        return 0;
      } finally {
        await b.close();
      }
    },
  },
  'tokens export': {
    usage: 'tokens export [FILE]',
    summary: 'write the allowlist, byte for byte, to FILE or standard output (a backup, or proxy.properties to import elsewhere)',
    options: ['conf', 'as'],
    run: async (ctx) => {
      const [file, ...rest] = ctx.args;
      if (rest.length) throw new UsageError('export takes at most one file');
      const b = storeBackend(ctx);
      try {
        const { text, etag } = await b.exportText!();
        if (file && file !== '-') {
          writeFileSync(file, text, { mode: 0o600 }); // it holds every token
          ctx.err(`Exported ${b.target} (version ${etag}) to ${file}`);
        } else process.stdout.write(text);
        return 0;
      } finally {
        await b.close();
      }
    },
  },
  'tokens list': {
    usage: 'tokens list [SEARCH]',
    summary: 'list tokens (by fingerprint, with label, creation and last use) and the users each may act as',
    options: COMMON,
    run: (ctx) =>
      withBackend(ctx, async (b) => {
        const search = ctx.args.join(' ').trim();
        const l = await b.list(search || undefined);
        if (ctx.flag('json')) return ctx.out(JSON.stringify(l, null, 2));
        ctx.out(`${b.target} (version ${l.etag})\n`);
        ctx.out(l.tokens.length ? table(l.tokens) : search ? `(no token matches "${search}")` : '(no tokens)');
        if (search && l.tokens.length) ctx.out(`\n${l.tokens.length} of ${l.total} tokens match "${search}"`);
        for (const p of l.problems) ctx.err(`problem: line ${p.line}: ${p.message}`);
        if (l.problems.length) ctx.err('The gateway refuses this file until it is fixed by hand; the previous rules stay in force.');
      }),
  },
  'tokens create': {
    usage: 'tokens create USER... | "*" [--label TEXT]',
    summary: 'create a strong random token for these users (printed once), with a label naming who uses it',
    options: [...COMMON, 'label'],
    run: (ctx) =>
      withBackend(ctx, async (b) => {
        const c = await b.create(usersArg(ctx.args, true), ctx.opt('if-match'), ctx.opt('label'));
        if (ctx.flag('json')) return ctx.out(JSON.stringify(c, null, 2));
        const label = c.labelAfter ? ` "${c.labelAfter}"` : '';
        ctx.out(`Created a token${label} for ${showUsers(c.usersAfter)} (fingerprint ${c.fingerprint}):\n\n  ${c.token}\n\nIt is shown only this once: store it now.`);
      }),
  },
  'tokens set-label': {
    usage: 'tokens set-label FINGERPRINT TEXT... | ""',
    summary: "set a token's label (the comment line above it in proxy.properties); \"\" removes it",
    options: COMMON,
    run: (ctx) =>
      withBackend(ctx, async (b) => {
        const [fingerprint, ...words] = ctx.args;
        if (!fingerprint) throw new UsageError('name the token by its fingerprint (see `tokens list`)');
        if (words.length === 0) throw new UsageError('give the label ("" to remove it)');
        const r = await b.change({ op: 'set-label', fingerprint, label: words.join(' ') }, ctx.opt('if-match'));
        if (ctx.flag('json')) return ctx.out(JSON.stringify(r, null, 2));
        const show = (l: string | null | undefined) => (l ? `"${l}"` : '(none)');
        ctx.out(r.changed ? `Label of ${r.fingerprint}: ${show(r.labelBefore)} -> ${show(r.labelAfter)}` : `${r.fingerprint}: nothing to change (label ${show(r.labelAfter)})`);
      }),
  },
  'tokens add-users': changeCommand('add-users', 'tokens add-users FINGERPRINT USER...', 'let a token act as more users', 'Added to'),
  'tokens remove-users': changeCommand('remove-users', 'tokens remove-users FINGERPRINT USER...', 'stop a token acting as these users', 'Removed from'),
  'tokens set-users': changeCommand('set-users', 'tokens set-users FINGERPRINT USER... | "*"', "replace a token's users", 'Set'),
  'tokens delete': changeCommand('delete', 'tokens delete FINGERPRINT', 'delete a token: every service using it is refused at once', 'Deleted'),
};
