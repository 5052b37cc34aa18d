/**
 * deploy/kubernetes read the way `kubectl apply -k` reads it, without a cluster: the kustomization's resources
 * parsed as Kubernetes parses YAML (YAML 1.1: `0440` is octal; duplicate keys are errors), its
 * configMapGenerator and images applied, every object validated against the Kubernetes 1.30 JSON schema of
 * its kind (vendored in test/vendor/kubernetes, see its README: CI may not reach GitHub) with ajv, then the
 * checks a schema cannot make: labels that select, ports and names that resolve, the gateway's own validation
 * of its configuration, the grace period against gateway.shutdown.grace.ms, where the gateway may write.
 * `checkManifests` returns every problem as text, so a test can break one file and see which check says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import Ajv from 'ajv';
import { parseAllDocuments, parseDocument } from 'yaml';
import { ConfigError, isLoopbackHost, validateConfig, type GatewayConfig } from '../../src/control-plane/config';
import { parsePropertiesBytes } from '../../src/linkis/properties';
import { registerHealthRoutes } from '../../src/ops/ops-routes';
import { ROOT } from './compose-file';

export const K8S_DIR = join(ROOT, 'deploy', 'kubernetes');
const VENDOR = join(ROOT, 'test', 'vendor', 'kubernetes');

/** `apiVersion kind` → the vendored schema (yannh/kubernetes-json-schema, v1.30 standalone-strict). */
export const SCHEMA_FILES: Record<string, string> = {
  'apps/v1 Deployment': 'deployment-apps-v1.json',
  'v1 Service': 'service-v1.json',
  'v1 ConfigMap': 'configmap-v1.json',
  'v1 Secret': 'secret-v1.json',
  'policy/v1 PodDisruptionBudget': 'poddisruptionbudget-policy-v1.json',
  'networking.k8s.io/v1 NetworkPolicy': 'networkpolicy-networking-v1.json',
};

/** The only keys the Secret's secret.properties may set: everything else belongs in the ConfigMap. */
export const SECRET_KEYS = ['wds.linkis.crypt.key', 'gateway.session.secret', 'gateway.ratelimit.redis.url'];
/** Keys that must never be in the ConfigMap (anyone who may read ConfigMaps would learn them). */
const SECRET_ONLY = ['wds.linkis.crypt.key', 'gateway.session.secret'];
/** What a test puts in place of the template's deliberately invalid session secret. */
export const TEST_SESSION_SECRET = 'k8s-test-session-secret-0123456789abcdef0123';

// The schemas' own annotations (x-kubernetes-*) are declared as keywords, formats as what they mean, so that
// ajv's strict mode still fails on anything else it does not understand.
const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strictTypes: false });
const declared = new Set<string>();
const isInt = (lo: number, hi: number) => ({ type: 'number' as const, validate: (n: number) => Number.isInteger(n) && n >= lo && n <= hi });
ajv.addFormat('int32', isInt(-(2 ** 31), 2 ** 31 - 1));
ajv.addFormat('int64', isInt(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i);
const validators = new Map<string, ReturnType<typeof ajv.compile>>();

function validatorFor(key: string): ReturnType<typeof ajv.compile> | undefined {
  const file = SCHEMA_FILES[key];
  if (!file) return undefined;
  let v = validators.get(file);
  if (!v) {
    const schema = JSON.parse(readFileSync(join(VENDOR, file), 'utf8'));
    // "http://json-schema.org/schema#" (whatever draft is current) is not a meta-schema ajv knows by that id.
    delete schema.$schema;
    (function declare(node: unknown): void {
      if (Array.isArray(node)) return node.forEach(declare);
      if (!node || typeof node !== 'object') return;
      for (const [k, child] of Object.entries(node)) {
        if (k.startsWith('x-kubernetes-') && !declared.has(k)) {
          declared.add(k);
          ajv.addKeyword({ keyword: k, schemaType: ['string', 'array', 'object', 'boolean'] });
        }
        declare(child);
      }
    })(schema);
    v = ajv.compile(schema);
    validators.set(file, v);
  }
  return v;
}

export interface K8sObject {
  file: string;
  doc: any;
}

/** Files of deploy/kubernetes by name, with `overrides` in place of what is on disk (tests break copies). */
export type Files = Record<string, string>;

function reader(overrides: Files): (name: string) => string | undefined {
  return (name) => {
    if (name in overrides) return overrides[name];
    const path = join(K8S_DIR, name);
    return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  };
}

/** Every document of a YAML stream, as Kubernetes reads it (YAML 1.1, so `0440` is octal 288). */
export function parseYamlStream(text: string, file: string, problems: string[]): any[] {
  const out: any[] = [];
  for (const d of parseAllDocuments(text, { version: '1.1', uniqueKeys: true, prettyErrors: true })) {
    for (const e of [...d.errors, ...d.warnings]) problems.push(`${file}: ${e.message}`);
    const js = d.toJS({ maxAliasCount: 100 });
    if (js !== null && js !== undefined) out.push(js);
  }
  return out;
}

const describe = (o: K8sObject) => `${o.file}: ${o.doc?.kind}/${o.doc?.metadata?.name}`;

/** True when every key=value of `selector` is among `labels` (an empty selector selects nothing here). */
function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

/** A Kubernetes quantity of memory ("256Mi", "1G") in bytes; of cpu ("500m", "1.5") in cores. */
export function bytesOf(q: string | number | undefined): number {
  const m = /^([0-9.]+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(q ?? ''));
  if (!m) return NaN;
  const unit: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] ? unit[m[2]]! : 1);
}
export function coresOf(q: string | number | undefined): number {
  const s = String(q ?? '');
  return s.endsWith('m') ? Number(s.slice(0, -1)) / 1000 : Number(s);
}

/** Properties text → key/value map, with the gateway's own parser (later lines win, as in Java). */
export function propertiesOf(text: string, file: string, problems: string[]): Record<string, string> {
  const parsed = parsePropertiesBytes(Buffer.from(text, 'utf8'));
  for (const p of parsed.problems) problems.push(`${file}:${p.line}: ${p.message}`);
  const out: Record<string, string> = {};
  for (const e of parsed.entries) out[e.key] = e.value;
  return out;
}

export interface Manifests {
  objects: K8sObject[];
  problems: string[];
  kustomization: any;
  /** The gateway Deployment, its pod spec and its gateway container. */
  deployment?: any;
  gateway?: any;
  /** gateway.properties as the pod sees it (ConfigMap + the template's secret.properties, session secret replaced). */
  config?: GatewayConfig;
  /** The text of the ConfigMap's gateway.properties and of the template's secret.properties. */
  gatewayProperties?: string;
  secretProperties?: string;
  /** The Secret template's objects (secret.yaml), which the kustomization deliberately leaves out. */
  secrets: any[];
}

/** The paths of the public port's health routes, as the gateway registers them (src/ops/ops-routes.ts). */
export function healthRoutes(): string[] {
  const paths: string[] = [];
  registerHealthRoutes({ get: (path: string) => void paths.push(path) } as never, () => ({ ready: true, checks: {} }));
  return paths;
}

/** The preStop delay in seconds (`sleep N` exec, or the sleep action), or undefined without one. */
export function preStopSeconds(container: any): number | undefined {
  const pre = container?.lifecycle?.preStop;
  if (pre?.sleep?.seconds !== undefined) return Number(pre.sleep.seconds);
  const cmd: string[] | undefined = pre?.exec?.command;
  if (cmd && cmd[0] === 'sleep' && /^[0-9]+$/.test(cmd[1] ?? '')) return Number(cmd[1]);
  return pre ? 0 : undefined;
}

export function checkManifests(overrides: Files = {}): Manifests {
  const read = reader(overrides);
  const problems: string[] = [];
  const objects: K8sObject[] = [];
  const out: Manifests = { objects, problems, kustomization: undefined, secrets: [] };

  // --- kustomization.yaml: resources, generated ConfigMaps, image overrides ------------------------------
  const kText = read('kustomization.yaml');
  if (kText === undefined) {
    problems.push('kustomization.yaml: missing');
    return out;
  }
  const kDoc = parseDocument(kText, { version: '1.1', uniqueKeys: true });
  for (const e of [...kDoc.errors, ...kDoc.warnings]) problems.push(`kustomization.yaml: ${e.message}`);
  const k = (out.kustomization = kDoc.toJS() ?? {});
  if (k.apiVersion !== 'kustomize.config.k8s.io/v1beta1' || k.kind !== 'Kustomization') problems.push('kustomization.yaml: not a kustomize.config.k8s.io/v1beta1 Kustomization');
  const known = new Set(['apiVersion', 'kind', 'resources', 'configMapGenerator', 'images']);
  for (const key of Object.keys(k)) if (!known.has(key)) problems.push(`kustomization.yaml: ${key}: not a field these checks understand (extend test/deploy/kubernetes-manifests.ts)`);
  for (const file of (k.resources ?? []) as string[]) {
    if (file === 'secret.yaml') problems.push('kustomization.yaml: resources: secret.yaml is a template; applying it with the kustomization would put its placeholders over real tokens');
    const text = read(file);
    if (text === undefined) {
      problems.push(`kustomization.yaml: resources: ${file} does not exist`);
      continue;
    }
    for (const doc of parseYamlStream(text, file, problems)) objects.push({ file, doc });
  }
  for (const gen of (k.configMapGenerator ?? []) as any[]) {
    const data: Record<string, string> = {};
    for (const entry of (gen.files ?? []) as string[]) {
      const [key, path] = entry.includes('=') ? entry.split('=', 2) as [string, string] : [posix.basename(entry), entry];
      const text = read(path);
      if (text === undefined) problems.push(`kustomization.yaml: configMapGenerator ${gen.name}: ${path} does not exist`);
      else data[key] = text;
    }
    objects.push({ file: 'kustomization.yaml', doc: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: gen.name, labels: gen.options?.labels }, data } });
  }
  const podSpecs = () => objects.filter((o) => o.doc?.kind === 'Deployment').map((o) => o.doc.spec?.template?.spec ?? {});
  for (const img of (k.images ?? []) as any[]) {
    let used = false;
    for (const spec of podSpecs()) {
      for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
        const [name, tag] = String(c.image ?? '').split(':');
        if (name !== img.name) continue;
        used = true;
        c.image = `${img.newName ?? name}:${img.newTag ?? tag}`;
      }
    }
    if (!used) problems.push(`kustomization.yaml: images: ${img.name} matches no container image (the override would do nothing)`);
  }

  // --- every object against the schema of its kind -------------------------------------------------------
  const secretText = read('secret.yaml');
  if (secretText === undefined) problems.push('secret.yaml: missing (the template of the Secrets the Deployment mounts)');
  const secretObjects: K8sObject[] = secretText === undefined ? [] : parseYamlStream(secretText, 'secret.yaml', problems).map((doc) => ({ file: 'secret.yaml', doc }));
  out.secrets = secretObjects.map((o) => o.doc);
  const seen = new Set<string>();
  for (const o of [...objects, ...secretObjects]) {
    const key = `${o.doc?.apiVersion} ${o.doc?.kind}`;
    const validate = validatorFor(key);
    if (!validate) {
      problems.push(`${describe(o)}: no vendored schema for ${key} (add it to test/vendor/kubernetes)`);
      continue;
    }
    if (!validate(o.doc)) {
      for (const e of validate.errors ?? []) {
        const extra = e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : '';
        problems.push(`${describe(o)}: ${e.instancePath || '/'}: ${e.message}${extra}`);
      }
    }
    const id = `${o.doc?.kind}/${o.doc?.metadata?.name}`;
    if (seen.has(id)) problems.push(`${describe(o)}: defined twice`);
    seen.add(id);
  }
  if (problems.length) return out; // the rest reads fields the schema has just vouched for

  // --- what selects what ----------------------------------------------------------------------------------
  const deployments = objects.filter((o) => o.doc.kind === 'Deployment');
  const podsOf = (selector: Record<string, string> | undefined) => deployments.filter((d) => selects(selector, d.doc.spec.template.metadata?.labels));
  for (const d of deployments) {
    if (!selects(d.doc.spec.selector.matchLabels, d.doc.spec.template.metadata?.labels)) problems.push(`${describe(d)}: spec.selector does not select its own pod template`);
  }
  const portsOf = (d: K8sObject) => (d.doc.spec.template.spec.containers as any[]).flatMap((c) => (c.ports ?? []) as any[]);
  for (const s of objects.filter((o) => o.doc.kind === 'Service')) {
    const targets = podsOf(s.doc.spec.selector);
    if (targets.length !== 1) {
      problems.push(`${describe(s)}: selector selects ${targets.length} Deployments' pods, not exactly one`);
      continue;
    }
    for (const p of s.doc.spec.ports as any[]) {
      const target = p.targetPort ?? p.port;
      if (!portsOf(targets[0]!).some((cp) => cp.name === target || cp.containerPort === target)) problems.push(`${describe(s)}: targetPort ${target} is no container port of ${targets[0]!.doc.metadata.name}`);
    }
  }
  const gatewayDeployment = deployments.find((d) => d.doc.metadata.name === 'linkis-gateway');
  if (!gatewayDeployment) {
    problems.push('deployment.yaml: no Deployment linkis-gateway');
    return out;
  }
  for (const p of objects.filter((o) => o.doc.kind === 'PodDisruptionBudget')) {
    const targets = podsOf(p.doc.spec.selector?.matchLabels);
    if (targets.length !== 1 || targets[0] !== gatewayDeployment) problems.push(`${describe(p)}: selector does not select the gateway's pods alone`);
    const replicas = gatewayDeployment.doc.spec.replicas ?? 1;
    const allowed = p.doc.spec.maxUnavailable !== undefined ? disruptions(p.doc.spec.maxUnavailable, replicas) : replicas - disruptionsNeeded(p.doc.spec.minAvailable, replicas);
    if (!(allowed >= 1)) problems.push(`${describe(p)}: allows no voluntary disruption with ${replicas} replicas (node drains would hang)`);
  }
  for (const n of objects.filter((o) => o.doc.kind === 'NetworkPolicy')) {
    const protectedPods = podsOf(n.doc.spec.podSelector?.matchLabels);
    if (protectedPods.length !== 1) problems.push(`${describe(n)}: podSelector selects ${protectedPods.length} Deployments' pods, not exactly one`);
    for (const rule of (n.doc.spec.ingress ?? []) as any[]) {
      for (const from of (rule.from ?? []) as any[]) {
        if (podsOf(from.podSelector?.matchLabels).length === 0) problems.push(`${describe(n)}: ingress from a podSelector that selects no pod of these manifests`);
      }
      for (const port of (rule.ports ?? []) as any[]) {
        if (protectedPods[0] && !portsOf(protectedPods[0]).some((cp) => cp.containerPort === port.port || cp.name === port.port)) problems.push(`${describe(n)}: port ${port.port} is no container port of ${protectedPods[0].doc.metadata.name}`);
      }
    }
  }

  // --- volumes and what they refer to ---------------------------------------------------------------------
  const configMaps = new Map(objects.filter((o) => o.doc.kind === 'ConfigMap').map((o) => [o.doc.metadata.name, o.doc]));
  const secrets = new Map(secretObjects.map((o) => [o.doc.metadata.name, o.doc]));
  for (const d of deployments) {
    const spec = d.doc.spec.template.spec;
    const volumes = new Map(((spec.volumes ?? []) as any[]).map((v) => [v.name, v]));
    for (const c of [...(spec.initContainers ?? []), ...spec.containers] as any[]) {
      for (const m of (c.volumeMounts ?? []) as any[]) if (!volumes.has(m.name)) problems.push(`${describe(d)}: container ${c.name} mounts volume ${m.name}, which is not defined`);
    }
    for (const v of volumes.values()) {
      const source = v.configMap ? configMaps.get(v.configMap.name) : v.secret ? secrets.get(v.secret.secretName) : undefined;
      if (v.configMap && !source) problems.push(`${describe(d)}: volume ${v.name}: ConfigMap ${v.configMap.name} is not in the manifests`);
      if (v.secret && !source) problems.push(`${describe(d)}: volume ${v.name}: Secret ${v.secret.secretName} is not in secret.yaml`);
      if (source) {
        const keys = new Set([...Object.keys(source.data ?? {}), ...Object.keys(source.stringData ?? {})]);
        for (const item of (v.configMap ?? v.secret).items ?? []) if (!keys.has(item.key)) problems.push(`${describe(d)}: volume ${v.name}: no key ${item.key} in ${source.kind} ${source.metadata.name}`);
      }
      if (v.secret) {
        const mode = v.secret.defaultMode ?? 0o644;
        if (mode & 0o027) problems.push(`${describe(d)}: volume ${v.name}: defaultMode ${mode.toString(8)} lets others read or the group write the Secret's files (0440 with fsGroup)`);
      }
    }
  }

  // --- the pods: non-root, read-only root filesystem, resources --------------------------------------------
  for (const d of deployments) {
    const spec = d.doc.spec.template.spec;
    const pod = spec.securityContext ?? {};
    if (pod.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${describe(d)}: securityContext.seccompProfile is not RuntimeDefault`);
    if (spec.automountServiceAccountToken !== false) problems.push(`${describe(d)}: automountServiceAccountToken is not false (nothing here calls the Kubernetes API)`);
    if (spec.enableServiceLinks !== false) problems.push(`${describe(d)}: enableServiceLinks is not false (a Service named linkis-gateway injects LINKIS_GATEWAY_* variables)`);
    for (const c of [...(spec.initContainers ?? []), ...spec.containers] as any[]) {
      const sc = c.securityContext ?? {};
      const where = `${describe(d)}: container ${c.name}`;
      if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) problems.push(`${where}: runAsNonRoot is not true`);
      const uid = sc.runAsUser ?? pod.runAsUser;
      if (!(typeof uid === 'number' && uid > 0)) problems.push(`${where}: runAsUser is not a non-root uid (runAsNonRoot alone fails on images whose USER is a name)`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem is not true`);
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
      if (sc.privileged === true) problems.push(`${where}: privileged`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: capabilities.drop does not include ALL`);
      for (const kind of ['requests', 'limits'] as const) {
        for (const r of ['cpu', 'memory'] as const) if (c.resources?.[kind]?.[r] === undefined) problems.push(`${where}: resources.${kind}.${r} is not set`);
      }
      if (bytesOf(c.resources?.requests?.memory) > bytesOf(c.resources?.limits?.memory)) problems.push(`${where}: memory request above its limit`);
      if (coresOf(c.resources?.requests?.cpu) > coresOf(c.resources?.limits?.cpu)) problems.push(`${where}: cpu request above its limit`);
    }
  }

  // --- the gateway pod and its configuration ---------------------------------------------------------------
  const dep = (out.deployment = gatewayDeployment.doc);
  const spec = dep.spec.template.spec;
  const gw = (out.gateway = (spec.containers as any[]).find((c) => c.name === 'gateway'));
  if (!gw) {
    problems.push('deployment.yaml: no container named gateway');
    return out;
  }
  if (dep.spec.replicas !== 3) problems.push(`deployment.yaml: replicas is ${dep.spec.replicas}, not 3`);
  const volumes = new Map(((spec.volumes ?? []) as any[]).map((v) => [v.name, v]));
  const mountOf = (c: any, path: string) => ((c.volumeMounts ?? []) as any[]).filter((m) => !m.subPath && (path === m.mountPath || path.startsWith(`${m.mountPath}/`))).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  const writable = (c: any, path: string) => {
    const m = mountOf(c, path);
    return !!m && !m.readOnly && !!volumes.get(m.name)?.emptyDir;
  };
  const cmd: string[] = gw.command ?? [];
  const confDir = cmd[cmd.indexOf('--conf') + 1];
  if (cmd.indexOf('--conf') === -1 || !confDir || !isAbsolute(confDir)) {
    problems.push('deployment.yaml: the gateway command names no absolute --conf directory');
    return out;
  }
  if (!writable(gw, confDir)) problems.push(`deployment.yaml: the conf directory ${confDir} is not a writable emptyDir (the gateway writes audit.log, token-usage.json and sessions.revoked there)`);

  // The init container: gateway.properties = the ConfigMap's file, then the Secret's secret.properties.
  const init = ((spec.initContainers ?? []) as any[]).find((c) => c.name === 'conf');
  const script = init ? [...(init.command ?? []), ...(init.args ?? [])].join(' ') : '';
  const cat = /\bcat (\S+) (\S+) > (\S+)\s*$/.exec(script);
  let gatewayProperties: string | undefined;
  let secretProperties: string | undefined;
  if (!init || !cat) problems.push('deployment.yaml: no init container `conf` running `cat <ConfigMap gateway.properties> <Secret secret.properties> > <conf>/gateway.properties`');
  else {
    const [, fromConfig, fromSecret, to] = cat as unknown as [string, string, string, string];
    const fileIn = (path: string): { source: any; key: string } | undefined => {
      const m = mountOf(init, path);
      const v = m && volumes.get(m.name);
      const source = v?.configMap ? configMaps.get(v.configMap.name) : v?.secret ? secrets.get(v.secret.secretName) : undefined;
      if (!source) return undefined;
      const rel = path.slice(m.mountPath.length + 1);
      const items: any[] | undefined = (v.configMap ?? v.secret).items;
      const key = items ? items.find((i) => i.path === rel)?.key : rel;
      return key === undefined ? undefined : { source, key };
    };
    const a = fileIn(fromConfig);
    const b = fileIn(fromSecret);
    if (a?.source.kind !== 'ConfigMap' || a.key !== 'gateway.properties') problems.push(`deployment.yaml: init container conf: ${fromConfig} is not gateway.properties of a ConfigMap volume`);
    else gatewayProperties = a.source.data[a.key];
    if (b?.source.kind !== 'Secret' || b.key !== 'secret.properties') problems.push(`deployment.yaml: init container conf: ${fromSecret} is not secret.properties of a Secret volume`);
    else secretProperties = (b.source.stringData ?? {})[b.key] ?? Buffer.from(b.source.data?.[b.key] ?? '', 'base64').toString('utf8');
    if (to !== posix.join(confDir, 'gateway.properties')) problems.push(`deployment.yaml: init container conf writes ${to}, not ${posix.join(confDir, 'gateway.properties')} (the gateway reads --conf ${confDir})`);
    else if (!mountOf(init, to) || mountOf(init, to).name !== mountOf(gw, confDir)?.name || mountOf(init, to).readOnly) problems.push(`deployment.yaml: init container conf does not write into the gateway's conf volume`);
  }
  out.gatewayProperties = gatewayProperties;
  out.secretProperties = secretProperties;
  if (gatewayProperties === undefined || secretProperties === undefined) return out;

  const cm = propertiesOf(gatewayProperties, 'gateway.properties', problems);
  for (const key of SECRET_ONLY) if (key in cm) problems.push(`gateway.properties: ${key} is a secret: it belongs in secret.properties (the Secret), not in the ConfigMap`);
  const sec = propertiesOf(secretProperties, 'secret.properties', problems);
  for (const key of Object.keys(sec)) if (!SECRET_KEYS.includes(key)) problems.push(`secret.properties: ${key} is not a secret; set it in gateway.properties (secret.properties may set only ${SECRET_KEYS.join(', ')})`);
  for (const key of SECRET_ONLY) if (!(key in sec)) problems.push(`secret.properties: ${key} is missing (it would silently take its default)`);
  const file = posix.join(confDir, 'gateway.properties');
  // As shipped, the template's session secret is refused, so that a forgotten placeholder cannot start.
  try {
    validateConfig({ ...cm, ...sec }, confDir, file);
    problems.push('secret.yaml: the template is accepted as it stands: its placeholder session secret must be refused, or a forgotten one would seal sessions with a published secret');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    if (!err.problems.some((p) => p.startsWith('gateway.session.secret:'))) problems.push(`secret.yaml: the template is refused, but not for its placeholder session secret: ${err.problems.join('; ')}`);
  }
  let config: GatewayConfig;
  try {
    config = out.config = validateConfig({ ...cm, ...sec, 'gateway.session.secret': TEST_SESSION_SECRET }, confDir, file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) problems.push(`gateway.properties (with secret.properties): ${p}`);
    return out;
  }

  // Ports: the probes and the Service reach the gateway where gateway.properties makes it listen.
  const ports = (gw.ports ?? []) as any[];
  const portNumber = (p: string | number) => (typeof p === 'number' ? p : ports.find((cp) => cp.name === p)?.containerPort);
  const http = ports.find((p) => p.name === 'http');
  if (http?.containerPort !== config.server.port) problems.push(`deployment.yaml: container port http is ${http?.containerPort}, gateway.server.port is ${config.server.port}`);
  if (config.metrics.port === null) problems.push('gateway.properties: gateway.metrics.port is empty: Prometheus has nothing to scrape');
  else {
    const metrics = ports.find((p) => p.name === 'metrics');
    if (metrics?.containerPort !== config.metrics.port) problems.push(`deployment.yaml: container port metrics is ${metrics?.containerPort}, gateway.metrics.port is ${config.metrics.port}`);
    if (isLoopbackHost(config.metrics.host)) problems.push(`gateway.properties: gateway.metrics.host ${config.metrics.host} is loopback: Prometheus cannot reach it`);
    if (dep.spec.template.metadata?.annotations?.['prometheus.io/port'] !== String(config.metrics.port)) problems.push(`deployment.yaml: annotation prometheus.io/port is not gateway.metrics.port ${config.metrics.port}`);
  }
  if (!isLoopbackHost(config.admin.host)) problems.push(`gateway.properties: gateway.admin.host ${config.admin.host} is not loopback: the admin listener (plain HTTP) would be reachable in the cluster`);
  if (config.workers !== 1) problems.push(`gateway.properties: gateway.workers is ${config.workers}: one process per pod (scale with replicas; auto counts the node's cores)`);
  const routes = healthRoutes();
  const probes: Array<[string, string]> = [['readinessProbe', '/ready'], ['livenessProbe', '/health']];
  for (const [probe, path] of probes) {
    const p = gw[probe]?.httpGet;
    if (!p) {
      problems.push(`deployment.yaml: the gateway has no ${probe} httpGet`);
      continue;
    }
    if (p.path !== path) problems.push(`deployment.yaml: ${probe} asks ${p.path}, not ${path}`);
    if (!routes.includes(p.path)) problems.push(`deployment.yaml: ${probe} path ${p.path} is not a route the gateway serves (${routes.join(', ')})`);
    if (portNumber(p.port) !== config.server.port) problems.push(`deployment.yaml: ${probe} port ${p.port} is not gateway.server.port ${config.server.port}`);
  }
  if (gw.startupProbe?.httpGet && !routes.includes(gw.startupProbe.httpGet.path)) problems.push(`deployment.yaml: startupProbe path ${gw.startupProbe.httpGet.path} is not a route the gateway serves`);

  // Shutdown: preStop, then SIGTERM and gateway.shutdown.grace.ms of draining, within the grace period.
  const pre = preStopSeconds(gw);
  const tgps = spec.terminationGracePeriodSeconds ?? 30;
  if (pre === undefined) problems.push('deployment.yaml: the gateway has no preStop hook (new connections would still arrive while it drains)');
  else if (tgps * 1000 < pre * 1000 + config.shutdownGraceMs + 5000) {
    problems.push(`deployment.yaml: terminationGracePeriodSeconds ${tgps} s is less than preStop ${pre} s + gateway.shutdown.grace.ms ${config.shutdownGraceMs / 1000} s + 5 s: log streams would be killed mid-answer`);
  }

  // Files: the Secret's files where gateway.properties says, read-only and followed live; writes on emptyDir.
  const tokensAt = (path: string, what: string) => {
    const m = ((gw.volumeMounts ?? []) as any[]).find((vm) => vm.mountPath === posix.dirname(path));
    const v = m && volumes.get(m.name);
    if (!m || !v?.secret) problems.push(`gateway.properties: ${what} ${path} is not in a directory mounted from a Secret`);
    else if (m.subPath) problems.push(`deployment.yaml: ${what} is mounted with subPath: a Secret edit would never reach the pod`);
    else if (!(v.secret.items ?? []).some((i: any) => i.path === posix.basename(path)) && v.secret.items) problems.push(`deployment.yaml: the Secret volume ${v.name} has no item ${posix.basename(path)} for ${what}`);
  };
  tokensAt(config.proxyUserFile, 'wds.linkis.gateway.conf.proxy.user.config');
  tokensAt(config.admin.credentialsFile, 'gateway.admin.credentials.file');
  if (!writable(gw, posix.dirname(config.admin.auditFile))) problems.push(`gateway.properties: gateway.admin.audit.file ${config.admin.auditFile} is not on a writable emptyDir (the audit and token-usage.json are written beside it)`);
  if (!writable(gw, '/tmp')) problems.push('deployment.yaml: /tmp is not a writable emptyDir (the root filesystem is read-only)');

  // Redis: the URL names the Service of redis.yaml.
  if (!config.rateLimit.redisUrl) problems.push('gateway.properties: gateway.ratelimit.redis.url is empty: each replica would count rate limits alone');
  else {
    const u = new URL(config.rateLimit.redisUrl);
    const svc = objects.find((o) => o.doc.kind === 'Service' && o.doc.metadata.name === u.hostname);
    if (!svc) problems.push(`gateway.properties: gateway.ratelimit.redis.url names ${u.hostname}, which is no Service here`);
    else if (!(svc.doc.spec.ports as any[]).some((p) => p.port === Number(u.port || 6379))) problems.push(`gateway.properties: gateway.ratelimit.redis.url port ${u.port || 6379} is not a port of Service ${u.hostname}`);
  }

  // Memory: the heap cap leaves room under the limit for what is not heap (buffers, workers, code).
  const heap = /--max-old-space-size=([0-9]+)/.exec(((gw.env ?? []) as any[]).find((e) => e.name === 'NODE_OPTIONS')?.value ?? '');
  if (!heap) problems.push('deployment.yaml: NODE_OPTIONS sets no --max-old-space-size (V8 would size its heap from the node, not from the limit)');
  else if (Number(heap[1]) * 2 ** 20 + 256 * 2 ** 20 > bytesOf(gw.resources?.limits?.memory)) problems.push(`deployment.yaml: --max-old-space-size=${heap[1]} leaves less than 256 MiB under the memory limit ${gw.resources?.limits?.memory}`);
  return out;
}

function disruptions(maxUnavailable: string | number, replicas: number): number {
  return typeof maxUnavailable === 'string' && maxUnavailable.endsWith('%') ? Math.ceil((replicas * Number(maxUnavailable.slice(0, -1))) / 100) : Number(maxUnavailable);
}
function disruptionsNeeded(minAvailable: string | number | undefined, replicas: number): number {
  if (minAvailable === undefined) return replicas;
  return typeof minAvailable === 'string' && minAvailable.endsWith('%') ? Math.ceil((replicas * Number(minAvailable.slice(0, -1))) / 100) : Number(minAvailable);
}

/** The manifests' files as they are on disk, by name (for tests that change one and check again). */
export function manifestFiles(): Files {
  const out: Files = {};
  for (const name of ['kustomization.yaml', 'deployment.yaml', 'service.yaml', 'pdb.yaml', 'redis.yaml', 'networkpolicy.yaml', 'secret.yaml', 'gateway.properties']) {
    out[name] = readFileSync(join(K8S_DIR, name), 'utf8');
  }
  return out;
}
