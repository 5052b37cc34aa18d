/**
 * docker-compose.yml read the way `docker compose` reads it, without Docker: YAML parsed strictly (duplicate
 * keys and tabs are errors), variables interpolated (`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `$$`),
 * then validated against the Compose JSON schema that compose itself uses (vendored in
 * test/vendor/compose-spec, see its README: CI may not reach GitHub) with ajv, as compose-go does it:
 * interpolation first, validation second.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { parseDocument } from 'yaml';

export const ROOT = join(__dirname, '..', '..');
const SCHEMA = join(ROOT, 'test', 'vendor', 'compose-spec', 'compose-spec.json');

// The schema uses union types and untyped `additionalProperties`, which ajv's strict mode would only log
// about; unknown keywords still fail the compile, so a schema ajv does not understand cannot pass silently.
const validator = new Ajv2020({ allErrors: true, allowUnionTypes: true, strictTypes: false }).compile(JSON.parse(readFileSync(SCHEMA, 'utf8')));

export type Env = Record<string, string | undefined>;

const VARIABLE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*)|(\{[^}]*\}?))/g;

/** Compose's interpolation of one string; a form this helper does not know (`${VAR:?err}`) is an error. */
export function interpolate(text: string, env: Env): string {
  return text.replace(VARIABLE, (whole, name?: string, op?: string, fallback?: string, bare?: string, unknown?: string) => {
    if (whole === '$$') return '$';
    if (unknown !== undefined) throw new Error(`unsupported interpolation ${whole} (extend test/deploy/compose-file.ts)`);
    const value = env[(name ?? bare)!];
    if (op === ':-') return value ? value : fallback!;
    if (op === '-') return value !== undefined ? value : fallback!;
    return value ?? '';
  });
}

function interpolateAll(node: unknown, env: Env): unknown {
  if (typeof node === 'string') return interpolate(node, env);
  if (Array.isArray(node)) return node.map((n) => interpolateAll(n, env));
  if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, env)]));
  return node;
}

/** Parse problems, then schema problems (as `path: message`); empty when compose would accept the text. */
export function checkCompose(text: string, env: Env = {}): { doc: any; problems: string[] } {
  const parsed = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const problems = [...parsed.errors, ...parsed.warnings].map((e) => e.message);
  if (problems.length) return { doc: undefined, problems };
  const doc = interpolateAll(parsed.toJS({ maxAliasCount: 100 }), env);
  if (!validator(doc)) {
    for (const e of validator.errors ?? []) problems.push(`${e.instancePath || '/'}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
  }
  return { doc, problems };
}

export const composeText = (): string => readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');

export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** A service's volumes, short or long syntax, as source/target/read-only. */
export function mountsOf(service: any): Mount[] {
  return (service.volumes ?? []).map((v: any): Mount => {
    if (typeof v !== 'string') return { source: v.source, target: v.target, readOnly: v.read_only === true };
    const [source, target, mode = ''] = v.split(':');
    return { source: source!, target: target!, readOnly: mode.split(',').includes('ro') };
  });
}

export interface Published {
  hostIp: string;
  hostPort: string;
  containerPort: string;
}

/** A service's published ports (`[ip:]host:container`, or the long syntax). */
export function portsOf(service: any): Published[] {
  return (service.ports ?? []).map((p: any): Published => {
    if (typeof p === 'object') return { hostIp: p.host_ip ?? '', hostPort: String(p.published ?? ''), containerPort: String(p.target) };
    const parts = String(p).split(':');
    const containerPort = parts.pop()!.split('/')[0]!;
    return { hostIp: parts.length === 2 ? parts[0]! : '', hostPort: parts.at(-1) ?? '', containerPort };
  });
}
