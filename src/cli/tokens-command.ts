/**
 * `linkis-gateway tokens ...`: the CLI face of the token operations. Each subcommand is one entry of the
 * table src/cli/main.ts dispatches on. Output is for people by default and JSON with --json; the whole token
 * is printed only by `create`, once.
 */
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

function table(tokens: TokenView[]): string {
  const rows = [['FINGERPRINT', 'TOKEN', 'LINE', 'USERS'], ...tokens.map((t) => [t.fingerprint, t.masked, String(t.line), showUsers(t.users)])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 3 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
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

function changeCommand(op: ChangeEdit['op'], usage: string, summary: string, verb: string): Command {
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

export const TOKEN_COMMANDS: Record<string, Command> = {
  'tokens list': {
    usage: 'tokens list',
    summary: 'list tokens (by fingerprint) and the users each may act as',
    options: COMMON,
    run: (ctx) =>
      withBackend(ctx, async (b) => {
        const l = await b.list();
        if (ctx.flag('json')) return ctx.out(JSON.stringify(l, null, 2));
        ctx.out(`${b.target} (version ${l.etag})\n`);
        ctx.out(l.tokens.length ? table(l.tokens) : '(no tokens)');
        for (const p of l.problems) ctx.err(`problem: line ${p.line}: ${p.message}`);
        if (l.problems.length) ctx.err('The gateway refuses this file until it is fixed by hand; the previous rules stay in force.');
      }),
  },
  'tokens create': {
    usage: 'tokens create USER... | "*"',
    summary: 'create a strong random token for these users (printed once)',
    options: COMMON,
    run: (ctx) =>
      withBackend(ctx, async (b) => {
        const c = await b.create(usersArg(ctx.args, true), ctx.opt('if-match'));
        if (ctx.flag('json')) return ctx.out(JSON.stringify(c, null, 2));
        ctx.out(`Created a token for ${showUsers(c.usersAfter)} (fingerprint ${c.fingerprint}):\n\n  ${c.token}\n\nIt is shown only this once: store it now.`);
      }),
  },
  'tokens add-users': changeCommand('add-users', 'tokens add-users FINGERPRINT USER...', 'let a token act as more users', 'Added to'),
  'tokens remove-users': changeCommand('remove-users', 'tokens remove-users FINGERPRINT USER...', 'stop a token acting as these users', 'Removed from'),
  'tokens set-users': changeCommand('set-users', 'tokens set-users FINGERPRINT USER... | "*"', "replace a token's users", 'Set'),
  'tokens delete': changeCommand('delete', 'tokens delete FINGERPRINT', 'delete a token: every service using it is refused at once', 'Deleted'),
};
