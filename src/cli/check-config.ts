/**
 * `linkis-gateway check-config`: every problem in a conf directory, each with its file and line, using
 * the very validation the gateway runs at start-up (loadConfig, loadAllowlistFile with the configured
 * gateway.token.policy, loadAdminCredentials). Weak tokens under the `warn` policy are warnings: reported,
 * but the directory is still OK.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadAdminCredentials } from '../admin/credentials';
import { loadAllowlistFile } from '../control-plane/allowlist-store';
import { ConfigError, loadConfig, type GatewayConfig } from '../control-plane/config';
import { parseProperties } from '../linkis/properties';

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
  try {
    config = loadConfig(confDir);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...gatewayProblems(err, err.file || gatewayFile));
  }
  let tokens: number | undefined;
  if (config) {
    const file = config.proxyUserFile;
    const loaded = loadAllowlistFile(file, { tokenPolicy: config.tokenPolicy });
    if (loaded.ok) tokens = loaded.allowlist.size;
    else {
      if (loaded.problems.length === 0) problems.push({ file, message: loaded.error });
      for (const p of loaded.problems) problems.push({ file, line: p.line, message: p.message });
    }
    for (const w of loaded.warnings) warnings.push({ file, line: w.line, message: w.message });
  }
  if (config) {
    try {
      loadAdminCredentials(config.admin.credentialsFile);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // Its problems are only in the message, one per line, each already `file:line: ` or `file: `.
      for (const line of err.message.split('\n')) problems.push(located(config.admin.credentialsFile, line));
    }
  }
  return { ok: problems.length === 0, problems: unique(problems), warnings: unique(warnings), config, tokens };
}

/**
 * A ConfigError from loadConfig carries each problem twice: in `problems` (`key: what`, or `line N: what`
 * for a syntax problem) and in `message` (the same, each prefixed with the file, joined with newlines, for
 * whoever prints the error whole). Use one of the two, never both: `problems` when there are any (they
 * give the key, hence the line), the message only when it is all there is (file not found, unreadable).
 */
function gatewayProblems(err: ConfigError, file: string): ConfigProblem[] {
  if (err.problems.length === 0) return err.message.split('\n').filter((l) => l.trim() !== '').map((l) => located(file, l));
  const lines = keyLines(file);
  return err.problems.map((p) => {
    const syntax = /^line (\d+): ([\s\S]*)$/.exec(p);
    if (syntax) return { file, line: Number(syntax[1]), message: syntax[2]! };
    return { file, line: lines.get(p.slice(0, p.indexOf(':'))), message: p };
  });
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

/** Where each key is set (its last occurrence wins, as in the properties reader). */
function keyLines(file: string): Map<string, number> {
  const lines = new Map<string, number>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return lines;
  }
  for (const e of parseProperties(text).entries) lines.set(e.key, e.line);
  return lines;
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`;
}

export function formatWarning(w: ConfigProblem): string {
  return `${w.file}${w.line ? `:${w.line}` : ''}: warning: ${w.message}`;
}
