/**
 * `linkis-gateway entrances list|drain|undrain`: the Entrances a running gateway knows, and draining one
 * before restarting it. Draining is state of the running gateway (all its workers), not of a file, so
 * unlike `tokens` there is no --conf mode: these commands always go through the admin API.
 */
import { ApiRefusal } from '../admin/tokens-backends';
import { UsageError, type CliContext, type Command } from './command';

const OPTIONS = ['admin-url', 'admin-token', 'json', 'conf'];

interface EntranceView {
  name: string;
  address: string;
  healthy: boolean;
  draining: boolean;
  inFlight: number;
}

/** One admin API call; a refusal (or no answer) becomes ApiRefusal, which the CLI prints with exit code 1. */
async function callApi(ctx: CliContext, method: string, path: string, body?: unknown): Promise<{ message: string; data: Record<string, any> }> {
  if (ctx.opt('conf')) throw new UsageError('entrances commands act on a running gateway, not on files: give --admin-url URL instead of --conf');
  const url = ctx.opt('admin-url') ?? ctx.env.LINKIS_GATEWAY_ADMIN_URL;
  const token = ctx.opt('admin-token') ?? ctx.env.LINKIS_GATEWAY_ADMIN_TOKEN;
  if (!url) throw new UsageError('entrances commands need a running gateway: --admin-url URL (or LINKIS_GATEWAY_ADMIN_URL)');
  if (!token) throw new UsageError('--admin-url needs an admin token: --admin-token TOKEN or LINKIS_GATEWAY_ADMIN_TOKEN');
  const base = url.replace(/\/+$/, '').replace(/\/admin\/?$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}/admin/api/${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new ApiRefusal(`cannot reach the admin API at ${base} (${(err as Error).cause ?? (err as Error).message})`, undefined, {});
  }
  let env: { status?: number; message?: string; data?: Record<string, any> };
  try {
    env = JSON.parse(await res.text());
  } catch {
    throw new ApiRefusal(`${base} answered HTTP ${res.status} with something that is not a Linkis answer (is --admin-url the admin listener?)`, undefined, {});
  }
  if (env.status !== 0) throw new ApiRefusal(env.message ?? `HTTP ${res.status}`, env.data?.errorCode, env.data ?? {});
  return { message: env.message ?? '', data: env.data ?? {} };
}

function table(list: EntranceView[]): string {
  const state = (e: EntranceView) => (e.draining ? 'draining' : e.healthy ? 'healthy' : 'unhealthy');
  const rows = [['NAME', 'ADDRESS', 'STATE', 'IN FLIGHT'], ...list.map((e) => [e.name, e.address, state(e), String(e.inFlight)])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 3 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

function drainCommand(draining: boolean): Command {
  const verb = draining ? 'drain' : 'undrain';
  return {
    usage: `entrances ${verb} NAME`,
    summary: draining
      ? 'stop sending new jobs to an Entrance, on every worker of the gateway (its running jobs are still served)'
      : 'let a drained Entrance take new jobs again, on every worker of the gateway',
    options: OPTIONS,
    async run(ctx) {
      if (ctx.args.length !== 1) throw new UsageError(`name one Entrance (host:port, as \`entrances list\` shows it)`);
      const r = await callApi(ctx, 'PUT', `entrances/${encodeURIComponent(ctx.args[0]!)}/draining`, { draining });
      ctx.out(ctx.flag('json') ? JSON.stringify(r.data, null, 2) : r.message);
      return 0;
    },
  };
}

export const ENTRANCE_COMMANDS: Record<string, Command> = {
  'entrances list': {
    usage: 'entrances list',
    summary: 'list the Entrances a running gateway knows, with their state',
    options: OPTIONS,
    async run(ctx) {
      if (ctx.args.length) throw new UsageError('entrances list takes no arguments');
      const { data } = await callApi(ctx, 'GET', 'entrances');
      ctx.out(ctx.flag('json') ? JSON.stringify(data, null, 2) : data.entrances?.length ? table(data.entrances) : '(no Entrances)');
      return 0;
    },
  },
  'entrances drain': drainCommand(true),
  'entrances undrain': drainCommand(false),
};
