/**
 * `linkis-gateway check-config`: every problem in a conf directory, each with its file and line, using
 * the very validation the gateway runs at start-up (loadConfig, loadAllowlistFile).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
  ok: boolean;
  problems: ConfigProblem[];
  config?: GatewayConfig;
  /** Tokens in proxy.properties when it loaded. */
  tokens?: number;
}

export function checkConfigDir(confDir: string): CheckResult {
  const problems: ConfigProblem[] = [];
  const gatewayFile = join(confDir, 'gateway.properties');
  let config: GatewayConfig | undefined;
  try {
    config = loadConfig(confDir);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    if (err.problems.length === 0) problems.push({ file: err.file, message: err.message.replace(`${err.file}: `, '') });
    const lines = keyLines(gatewayFile);
    for (const p of err.problems) {
      const key = p.slice(0, p.indexOf(':'));
      problems.push({ file: gatewayFile, line: lines.get(key), message: p });
    }
  }
  let tokens: number | undefined;
  if (config) {
    const loaded = loadAllowlistFile(config.proxyUserFile);
    if (loaded.ok) tokens = loaded.allowlist.size;
    else {
      if (loaded.problems.length === 0) problems.push({ file: config.proxyUserFile, message: loaded.error });
      for (const p of loaded.problems) problems.push({ file: config.proxyUserFile, line: p.line, message: p.message });
    }
  }
  if (config) {
    try {
      loadAdminCredentials(config.admin.credentialsFile);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const line of err.message.split('\n')) problems.push({ file: config.admin.credentialsFile, message: line.replace(`${config.admin.credentialsFile}: `, '') });
    }
  }
  return { ok: problems.length === 0, problems, config, tokens };
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
