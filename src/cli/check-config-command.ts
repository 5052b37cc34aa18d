/**
 * `linkis-gateway check-config [--conf DIR]`: prints every problem as file:line: message, one per line, and
 * exits 1 when there is any, so a conf repository can check itself in CI before a deploy. Weak tokens
 * (gateway.token.policy=warn) are printed as file:line: warning: message and leave the exit code 0.
 */
import { resolve } from 'node:path';
import { checkConfigDir, formatProblem, formatWarning } from './check-config';
import type { Command } from './command';

const count = (n: number, what: string) => `${n} ${what}(s)`;

export const CHECK_CONFIG_COMMAND: Command = {
  usage: 'check-config [--conf DIR]',
  summary: 'validate gateway.properties, proxy.properties and admin.properties as the gateway does at start-up',
  options: ['conf', 'json'],
  async run(ctx) {
    const dir = resolve(ctx.opt('conf') ?? ctx.env.LINKIS_GATEWAY_CONF ?? 'conf');
    const r = checkConfigDir(dir);
    if (ctx.flag('json')) {
      ctx.out(JSON.stringify({ ok: r.ok, problems: r.problems, warnings: r.warnings, tokens: r.tokens }, null, 2));
      return r.ok ? 0 : 1;
    }
    for (const p of r.problems) ctx.err(formatProblem(p));
    for (const w of r.warnings) ctx.err(formatWarning(w));
    const warned = r.warnings.length > 0 ? `, ${count(r.warnings.length, 'warning')}` : '';
    if (r.ok) ctx.out(`${dir}: OK (${r.config!.instances.length} Entrance instance(s), ${r.tokens} token(s))${warned}`);
    else ctx.err(`${dir}: ${count(r.problems.length, 'problem')}${warned}`);
    return r.ok ? 0 : 1;
  },
};
