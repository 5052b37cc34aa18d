/**
 * `linkis-gateway check-config [--conf DIR]`: prints every problem as file:line: message and exits 1 when
 * there is any, so a conf repository can check itself in CI before a deploy.
 */
import { resolve } from 'node:path';
import { checkConfigDir, formatProblem } from './check-config';
import type { Command } from './command';

export const CHECK_CONFIG_COMMAND: Command = {
  usage: 'check-config [--conf DIR]',
  summary: 'validate gateway.properties, proxy.properties and admin.properties as the gateway does at start-up',
  options: ['conf', 'json'],
  async run(ctx) {
    const dir = resolve(ctx.opt('conf') ?? ctx.env.LINKIS_GATEWAY_CONF ?? 'conf');
    const r = checkConfigDir(dir);
    if (ctx.flag('json')) {
      ctx.out(JSON.stringify({ ok: r.ok, problems: r.problems, tokens: r.tokens }, null, 2));
      return r.ok ? 0 : 1;
    }
    for (const p of r.problems) ctx.err(formatProblem(p));
    if (r.ok) ctx.out(`${dir}: OK (${r.config!.instances.length} Entrance instance(s), ${r.tokens} token(s))`);
    else ctx.err(`${dir}: ${r.problems.length} problem(s)`);
    return r.ok ? 0 : 1;
  },
};
