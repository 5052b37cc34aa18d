/**
 * `linkis-gateway check-config`: every problem of every file in a conf directory in one run, each with its
 * file and line, using the very validation the gateway runs at start-up (loadConfig, loadAllowlistFile with
 * the configured gateway.token.policy, loadAdminCredentials), so both name the same file:line. A problem
 * in gateway.properties does not stop the check: proxy.properties and admin.properties are still checked.
 * Weak tokens under the `warn` policy are warnings: reported, but the directory is still OK.
 */
import { join, resolve } from 'node:path';
import { loadAdminCredentials } from '../admin/credentials';
import { loadAllowlistFile } from '../control-plane/allowlist-store';
import { ConfigError, loadConfig, type GatewayConfig } from '../control-plane/config';

export interface ConfigProblem {
  file: string;
  line?: number;
  message: string;
}

export interface CheckResult {
  /** No problem (warnings do not count). */
  ok: boolean;
  problems: ConfigProblem[];
  /** Weak tokens in proxy.properties under gateway.token.policy=warn: they work, but should be replaced. */
  warnings: ConfigProblem[];
  config?: GatewayConfig;
  /** Tokens in proxy.properties when it loaded. */
  tokens?: number;
}

export function checkConfigDir(confDir: string): CheckResult {
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const gatewayFile = join(resolve(confDir), 'gateway.properties');
  let config: GatewayConfig | undefined;
  // The files gateway.properties names, from its valid settings or, when it has problems, from its
  // defaults-filled partial reading: the other files are checked either way, so one run reports everything.
  let names: GatewayConfig | undefined;
  let badKeys: string[] = [];
  try {
    config = names = loadConfig(confDir);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // The message is what start-up prints: one `file:line: what` per line, so both name the same place.
    const file = err.file || gatewayFile;
    for (const line of err.message.split('\n')) if (line.trim() !== '') problems.push(located(file, line));
    names = err.partial;
    badKeys = err.problems.map((p) => p.slice(0, p.indexOf(':')));
  }
  let tokens: number | undefined;
  // A file whose own setting is bad is not guessed at: that setting's problem is already reported.
  if (names && !badKeys.includes('wds.linkis.gateway.conf.proxy.user.config')) {
    const file = names.proxyUserFile;
    const loaded = loadAllowlistFile(file, { tokenPolicy: names.tokenPolicy });
    if (loaded.ok) tokens = loaded.allowlist.size;
    else {
      if (loaded.problems.length === 0) problems.push({ file, message: loaded.error });
      for (const p of loaded.problems) problems.push({ file, line: p.line, message: p.message });
    }
    for (const w of loaded.warnings) warnings.push({ file, line: w.line, message: w.message });
  }
  if (names && !badKeys.includes('gateway.admin.credentials.file')) {
    const file = names.admin.credentialsFile;
    try {
      loadAdminCredentials(file);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // Its problems are only in the message, one per line, each already `file:line: ` or `file: `.
      for (const line of err.message.split('\n')) problems.push(located(file, line));
    }
  }
  return { ok: problems.length === 0, problems: unique(problems), warnings: unique(warnings), config, tokens };
}

/** One message line that may already start with `file: ` or `file:N: `: the location taken out of the text. */
function located(file: string, text: string): ConfigProblem {
  if (text.startsWith(`${file}:`)) {
    const rest = text.slice(file.length + 1);
    const m = /^(\d+): ([\s\S]*)$/.exec(rest);
    if (m) return { file, line: Number(m[1]), message: m[2]! };
    return { file, message: rest.replace(/^ /, '') };
  }
  return { file, message: text };
}

function unique(list: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return list.filter((p) => {
    const key = formatProblem(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`;
}

export function formatWarning(w: ConfigProblem): string {
  return `${w.file}${w.line ? `:${w.line}` : ''}: warning: ${w.message}`;
}
