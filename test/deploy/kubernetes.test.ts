/**
 * deploy/kubernetes, checked without a cluster (README, "Running several replicas"): every object valid under
 * the Kubernetes 1.30 JSON schema of its kind, the checks a schema cannot make (see kubernetes-manifests.ts),
 * each shown to fail on a broken copy, and the gateway run on a directory tree laid out as the Deployment
 * mounts it (read-only Secret and ConfigMap files in Kubernetes' ..data layout, writable emptyDirs, the init
 * container's command, the pod's uid): the probes answer, the Secret's tokens work and a Secret update by
 * the kubelet's symlink swap is followed, logout and the audit write where they may, SIGTERM drains in time.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { loadAdminCredentials } from '../../src/admin/credentials';
import { loadAllowlistFile } from '../../src/control-plane/allowlist-store';
import { startSimulatedLinkis } from '../../src/simulator/linkis';
import { ROOT } from './compose-file';
import { K8S_DIR, SCHEMA_FILES, TEST_SESSION_SECRET, checkManifests, healthRoutes, manifestFiles, preStopSeconds, type Files } from './kubernetes-manifests';

const MAIN = join(ROOT, 'src', 'main.ts');

describe('deploy/kubernetes', () => {
  const m = checkManifests();

  it('every object is valid under the Kubernetes 1.30 schema of its kind, and every check passes', () => {
    assert.deepEqual(m.problems, []);
    const kinds = m.objects.map((o) => `${o.doc.kind}/${o.doc.metadata.name}`).sort();
    assert.deepEqual(kinds, [
      'ConfigMap/linkis-gateway-config',
      'Deployment/linkis-gateway',
      'Deployment/linkis-gateway-redis',
      'NetworkPolicy/linkis-gateway-redis',
      'PodDisruptionBudget/linkis-gateway',
      'Service/linkis-gateway',
      'Service/linkis-gateway-redis',
    ]);
    assert.deepEqual(m.secrets.map((s) => `${s.kind}/${s.metadata.name}`), ['Secret/linkis-gateway-secret-config', 'Secret/linkis-gateway-tokens']);
  });

  it('the schema validator is real: it refuses what the API server refuses', () => {
    const files = manifestFiles();
    const bad = (file: string, from: string, to: string) => {
      assert.ok(files[file]!.includes(from), `${file} has ${JSON.stringify(from)}`);
      return checkManifests({ ...files, [file]: files[file]!.replace(from, to) }).problems.join('\n');
    };
    assert.match(bad('deployment.yaml', '  replicas: 3\n', '  replicas: 3\n  replica: 3\n'), /Deployment\/linkis-gateway: \/spec: must NOT have additional properties \(replica\)/);
    assert.match(bad('deployment.yaml', '  replicas: 3\n', '  replicas: three\n'), /\/spec\/replicas: must be integer/);
    assert.match(bad('deployment.yaml', '              containerPort: 9001\n', '              containerPort: "9001"\n'), /containerPort: must be integer/);
    assert.match(bad('deployment.yaml', '          livenessProbe:\n', '          livenesProbe:\n'), /additional properties \(livenesProbe\)/);
    assert.match(bad('service.yaml', 'apiVersion: v1\n', 'apiVersion: v2\n'), /no vendored schema for v2 Service/);
    assert.match(bad('pdb.yaml', '  maxUnavailable: 1\n', '  maxUnavailable: 1\n  maxUnavailable: 2\n'), /pdb\.yaml: Map keys must be unique/);
    assert.match(bad('redis.yaml', '            - --save\n', '            - --save: 1\n'), /\/args\/0: must be string/);
    assert.match(bad('secret.yaml', 'type: Opaque\n', 'type: Opaque\nstringdata: {}\n'), /Secret\/linkis-gateway-secret-config: \/: must NOT have additional properties \(stringdata\)/);
    assert.match(bad('networkpolicy.yaml', '    - Ingress\n', '    - Ingress\n    - 7\n'), /\/spec\/policyTypes\/1: must be string/);
    // Kubernetes reads YAML 1.1: 0440 is octal, so the Secret's files are 0440, not decimal 440 (0670).
    assert.equal(m.deployment.spec.template.spec.volumes.find((v: any) => v.name === 'tokens').secret.defaultMode, 0o440);
  });

  it('each check a schema cannot make fails when its manifest is broken', () => {
    const files = manifestFiles();
    const broken = (changes: Array<[file: string, from: string, to: string]>): string => {
      const copy: Files = { ...files };
      for (const [file, from, to] of changes) {
        assert.ok(copy[file]!.includes(from), `${file} has ${JSON.stringify(from)}`);
        copy[file] = copy[file]!.replace(from, to);
      }
      return checkManifests(copy).problems.join('\n');
    };
    const cases: Array<[string, Array<[string, string, string]>, RegExp]> = [
      // the kustomization
      ['a resource that does not exist', [['kustomization.yaml', '  - pdb.yaml\n', '  - pdb.yaml\n  - ingress.yaml\n']], /resources: ingress\.yaml does not exist/],
      ['the Secret template applied with everything else', [['kustomization.yaml', '  - pdb.yaml\n', '  - pdb.yaml\n  - secret.yaml\n']], /secret\.yaml is a template/],
      ['an image override that matches nothing', [['kustomization.yaml', '  - name: linkis-gateway\n    newTag', '  - name: linkis-gatewy\n    newTag']], /images: linkis-gatewy matches no container image/],
      // what selects what
      ['a Service that selects no pod', [['service.yaml', '    app.kubernetes.io/component: gateway\n  ports', '    app.kubernetes.io/component: gateways\n  ports']], /Service\/linkis-gateway: selector selects 0 Deployments/],
      ['a Service port to no container port', [['service.yaml', '      targetPort: http\n', '      targetPort: web\n']], /targetPort web is no container port/],
      ['a Deployment selector that misses its pods', [['redis.yaml', '      app.kubernetes.io/component: redis\n  strategy', '      app.kubernetes.io/component: cache\n  strategy']], /Deployment\/linkis-gateway-redis: spec\.selector does not select its own pod template/],
      ['a PDB over the wrong pods', [['pdb.yaml', '      app.kubernetes.io/component: gateway\n', '      app.kubernetes.io/component: redis\n']], /PodDisruptionBudget\/linkis-gateway: selector does not select the gateway's pods alone/],
      ['a PDB that blocks every drain', [['pdb.yaml', '  maxUnavailable: 1\n', '  maxUnavailable: 0\n']], /allows no voluntary disruption/],
      ['a NetworkPolicy that admits nobody', [['networkpolicy.yaml', '              app.kubernetes.io/component: gateway\n', '              app.kubernetes.io/component: gw\n']], /ingress from a podSelector that selects no pod/],
      ['a NetworkPolicy on the wrong port', [['networkpolicy.yaml', '          port: 6379\n', '          port: 6380\n']], /port 6380 is no container port of linkis-gateway-redis/],
      // volumes
      ['a mount of no volume', [['deployment.yaml', '            - name: tmp\n              mountPath: /tmp\n', '            - name: scratch\n              mountPath: /tmp\n']], /mounts volume scratch, which is not defined/],
      ['a Secret that secret.yaml does not have', [['deployment.yaml', 'secretName: linkis-gateway-tokens', 'secretName: linkis-gateway-token']], /Secret linkis-gateway-token is not in secret\.yaml/],
      ['a key the Secret does not have', [['deployment.yaml', '              - key: admin.properties\n', '              - key: admins.properties\n']], /no key admins\.properties in Secret linkis-gateway-tokens/],
      ['Secret files others may read', [['deployment.yaml', 'defaultMode: 0440\n            items:\n              - key: proxy', 'defaultMode: 0444\n            items:\n              - key: proxy']], /defaultMode 444 lets others read/],
      // security
      ['a container that may run as root', [['redis.yaml', '        runAsUser: 999\n', '        runAsUser: 0\n']], /container redis: runAsUser is not a non-root uid/],
      ['a writable root filesystem', [['deployment.yaml', 'memory: 768Mi\n          securityContext:\n            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true', 'memory: 768Mi\n          securityContext:\n            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: false']], /container gateway: readOnlyRootFilesystem is not true/],
      ['privilege escalation', [['deployment.yaml', '            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n            capabilities:\n              drop: ["ALL"]\n          resources', '            allowPrivilegeEscalation: true\n            readOnlyRootFilesystem: true\n            capabilities:\n              drop: ["ALL"]\n          resources']], /container conf: allowPrivilegeEscalation is not false/],
      ['capabilities kept', [['redis.yaml', '              drop: ["ALL"]\n', '              drop: ["NET_RAW"]\n']], /container redis: capabilities\.drop does not include ALL/],
      ['a container without limits', [['deployment.yaml', '            limits:\n              cpu: 1500m\n              memory: 768Mi\n', '']], /container gateway: resources\.limits\.cpu is not set/],
      ['the service account token mounted', [['deployment.yaml', '      automountServiceAccountToken: false\n      enableServiceLinks: false\n      terminationGrace', '      enableServiceLinks: false\n      terminationGrace']], /Deployment\/linkis-gateway: automountServiceAccountToken is not false/],
      ['Service variables in the environment', [['deployment.yaml', '      enableServiceLinks: false\n      terminationGrace', '      terminationGrace']], /Deployment\/linkis-gateway: enableServiceLinks is not false/],
      // the gateway pod and its configuration
      ['other than 3 replicas', [['deployment.yaml', '  replicas: 3\n', '  replicas: 2\n']], /replicas is 2, not 3/],
      ['a read-only conf directory', [['deployment.yaml', '            - name: conf\n              mountPath: /app/conf\n            - name: tokens', '            - name: conf\n              mountPath: /app/conf\n              readOnly: true\n            - name: tokens']], /the conf directory \/app\/conf is not a writable emptyDir/],
      ['the init container writing elsewhere', [['deployment.yaml', '> /app/conf/gateway.properties', '> /tmp/gateway.properties']], /init container conf writes \/tmp\/gateway\.properties, not \/app\/conf\/gateway\.properties/],
      ['the init container reading the wrong file', [['deployment.yaml', 'cat /etc/linkis-gateway/config/gateway.properties', 'cat /etc/linkis-gateway/tokens/proxy.properties']], /\/etc\/linkis-gateway\/tokens\/proxy\.properties is not gateway\.properties of a ConfigMap volume/],
      ['a configuration the gateway refuses', [['gateway.properties', 'gateway.server.port=9001\n', 'gateway.server.port=9001\ngateway.server.prot=9001\n']], /gateway\.server\.prot: unknown key; did you mean gateway\.server\.port\?/],
      ['a secret in the ConfigMap', [['gateway.properties', 'gateway.workers=1\n', 'gateway.workers=1\nwds.linkis.crypt.key=abc\n']], /wds\.linkis\.crypt\.key is a secret: it belongs in secret\.properties/],
      ['a setting in the Secret that is no secret', [['secret.yaml', '    gateway.session.secret=REPLACE-ME\n', '    gateway.session.secret=REPLACE-ME\n    gateway.server.port=8080\n']], /secret\.properties: gateway\.server\.port is not a secret/],
      ['the crypt key left out of the Secret', [['secret.yaml', '    wds.linkis.crypt.key=bdp-for-server\n', '']], /wds\.linkis\.crypt\.key is missing/],
      ['a template that would start', [['secret.yaml', 'gateway.session.secret=REPLACE-ME', 'gateway.session.secret=0123456789abcdef0123456789abcdef']], /the template is accepted as it stands/],
      ['the http port not the gateway\'s port', [['gateway.properties', 'gateway.server.port=9001\n', 'gateway.server.port=9010\n']], /container port http is 9001, gateway\.server\.port is 9010/],
      ['the metrics port not the gateway\'s', [['gateway.properties', 'gateway.metrics.port=9003\n', 'gateway.metrics.port=9004\n']], /container port metrics is 9003, gateway\.metrics\.port is 9004/],
      ['metrics on loopback', [['gateway.properties', 'gateway.metrics.host=0.0.0.0\n', 'gateway.metrics.host=127.0.0.1\n']], /gateway\.metrics\.host 127\.0\.0\.1 is loopback/],
      ['the admin listener in the cluster network', [['gateway.properties', 'gateway.admin.host=127.0.0.1\n', 'gateway.admin.host=0.0.0.0\ngateway.admin.allow.public=true\n']], /gateway\.admin\.host 0\.0\.0\.0 is not loopback/],
      ['workers counted from the node', [['gateway.properties', 'gateway.workers=1\n', 'gateway.workers=auto\n']], /gateway\.workers is \d+: one process per pod/],
      ['readiness on the wrong path', [['deployment.yaml', '              path: /ready\n', '              path: /health\n']], /readinessProbe asks \/health, not \/ready/],
      ['a probe path the gateway does not serve', [['deployment.yaml', '              path: /ready\n', '              path: /readyz\n']], /readinessProbe path \/readyz is not a route the gateway serves/],
      ['a probe on another port', [['deployment.yaml', '              path: /health\n              port: http\n            periodSeconds: 10', '              path: /health\n              port: metrics\n            periodSeconds: 10']], /livenessProbe port metrics is not gateway\.server\.port 9001/],
      ['no preStop', [['deployment.yaml', '          lifecycle:\n            preStop:\n              exec:\n                command: ["sleep", "10"]\n', '']], /no preStop hook/],
      ['a grace period shorter than the drain', [['deployment.yaml', 'terminationGracePeriodSeconds: 45', 'terminationGracePeriodSeconds: 30']], /terminationGracePeriodSeconds 30 s is less than preStop 10 s \+ gateway\.shutdown\.grace\.ms 30 s \+ 5 s/],
      ['a drain longer than the grace period', [['gateway.properties', 'gateway.shutdown.grace.ms=30000', 'gateway.shutdown.grace.ms=60000']], /terminationGracePeriodSeconds 45 s is less than preStop 10 s \+ gateway\.shutdown\.grace\.ms 60 s/],
      ['the allowlist outside the Secret', [['gateway.properties', 'wds.linkis.gateway.conf.proxy.user.config=/etc/linkis-gateway/tokens/proxy.properties', 'wds.linkis.gateway.conf.proxy.user.config=proxy.properties']], /proxy\.user\.config \/app\/conf\/proxy\.properties is not in a directory mounted from a Secret/],
      ['the audit on a read-only path', [['gateway.properties', 'gateway.admin.audit.file=audit.log', 'gateway.admin.audit.file=/etc/linkis-gateway/tokens/audit.log']], /gateway\.admin\.audit\.file \/etc\/linkis-gateway\/tokens\/audit\.log is not on a writable emptyDir/],
      ['no writable /tmp', [['deployment.yaml', '            - name: tmp\n              mountPath: /tmp\n', '']], /\/tmp is not a writable emptyDir/],
      ['rate limits per replica', [['gateway.properties', 'gateway.ratelimit.redis.url=redis://linkis-gateway-redis:6379', 'gateway.ratelimit.redis.url=']], /each replica would count rate limits alone/],
      ['Redis under another name', [['gateway.properties', 'redis://linkis-gateway-redis:6379', 'redis://redis:6379']], /names redis, which is no Service here/],
      ['Redis on another port', [['gateway.properties', 'redis://linkis-gateway-redis:6379', 'redis://linkis-gateway-redis:6380']], /port 6380 is not a port of Service linkis-gateway-redis/],
      ['a heap too close to the limit', [['deployment.yaml', '--max-old-space-size=384', '--max-old-space-size=700']], /--max-old-space-size=700 leaves less than 256 MiB under the memory limit 768Mi/],
    ];
    for (const [what, changes, expected] of cases) assert.match(broken(changes), expected, what);
  });

  it('the probes are the gateway\'s own health routes, on its public port, and shutdown fits the grace period', () => {
    const gw = m.gateway;
    const routes = healthRoutes();
    assert.deepEqual(routes.sort(), ['/health', '/ready']);
    assert.equal(gw.readinessProbe.httpGet.path, '/ready');
    assert.equal(gw.livenessProbe.httpGet.path, '/health');
    const tgps = m.deployment.spec.template.spec.terminationGracePeriodSeconds;
    assert.ok(tgps * 1000 >= preStopSeconds(gw)! * 1000 + m.config!.shutdownGraceMs + 5000, `${tgps} s`);
  });

  it('the vendored schemas are the files their README names, byte for byte', () => {
    const vendor = join(ROOT, 'test', 'vendor', 'kubernetes');
    const listed = new Map([...readFileSync(join(vendor, 'README.md'), 'utf8').matchAll(/^\| `([a-z0-9-]+\.json)` \| [^|]+ \| `([0-9a-f]{64})` \|$/gm)].map((r) => [r[1]!, r[2]!]));
    assert.deepEqual([...listed.keys()].sort(), Object.values(SCHEMA_FILES).sort());
    for (const [file, sha] of listed) assert.equal(createHash('sha256').update(readFileSync(join(vendor, file))).digest('hex'), sha, file);
  });

  it('the Secret template loads under the gateway\'s rules: no token and no admin until you add them', () => {
    const tokens = m.secrets.find((s) => s.metadata.name === 'linkis-gateway-tokens');
    const dir = mkdtempSync(join(tmpdir(), 'lgw-k8s-secret-'));
    try {
      writeFileSync(join(dir, 'proxy.properties'), tokens.stringData['proxy.properties']);
      writeFileSync(join(dir, 'admin.properties'), tokens.stringData['admin.properties']);
      const allowlist = loadAllowlistFile(join(dir, 'proxy.properties'), { tokenPolicy: 'warn' });
      assert.ok(allowlist.ok && allowlist.allowlist.size === 0, JSON.stringify(allowlist));
      const admins = loadAdminCredentials(join(dir, 'admin.properties'));
      assert.equal(admins?.size ?? 0, 0, 'no admin: the admin listener stays off');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * A Kubernetes volume of a ConfigMap or Secret, as the kubelet lays it out: the files in a timestamped
 * directory, `..data` pointing at it, and each item a symlink through `..data`. An update writes a new
 * directory and renames a new `..data` over the old one (one atomic step), as the kubelet's AtomicWriter does.
 */
function atomicVolume(dir: string, files: Record<string, string>, mode: number, gid: number | undefined, generation: number): void {
  const stamp = `..2026_11_30_00_00_0${generation}.00000000${generation}`;
  mkdirSync(join(dir, stamp), { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, stamp, name), text);
    chmodSync(join(dir, stamp, name), mode);
    if (gid !== undefined) chownSync(join(dir, stamp, name), 0, gid);
  }
  chmodSync(join(dir, stamp), 0o555); // the whole volume is read-only, where the files really live too
  symlinkSync(stamp, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of Object.keys(files)) {
    try {
      symlinkSync(posix.join('..data', name), join(dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

async function call(url: string, init: RequestInit = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the test says what it got
  }
  return { status: res.status, body, headers: res.headers };
}

describe('deploy/kubernetes: the gateway on the pod\'s file layout', () => {
  const asRoot = process.getuid?.() === 0;

  it('starts read-only where the manifests say, answers its probes, follows a Secret update, writes only to its emptyDir, drains on SIGTERM', async (t) => {
    const m = checkManifests();
    assert.deepEqual(m.problems, []);
    const spec = m.deployment.spec.template.spec;
    const uid: number = spec.securityContext.runAsUser;
    const gid: number = spec.securityContext.fsGroup;
    const root = mkdtempSync(join(tmpdir(), 'lgw-k8s-pod-'));
    chmodSync(root, 0o755);
    t.after(() => {
      spawnSync('chmod', ['-R', 'u+rwX', root]);
      rmSync(root, { recursive: true, force: true });
    });
    const at = (path: string) => join(root, path);
    const linkis = await startSimulatedLinkis({ entrances: 1 });
    t.after(() => linkis.close());

    // The Secrets as an operator creates them: a token, an admin, the real session secret and crypt key.
    const token = 'k8s-layout-token-0123456789abcdef01234567';
    const newToken = 'k8s-layout-token-rotated-abcdef0123456789';
    const adminToken = 'k8s-layout-admin-0123456789abcdef';
    const volumeFiles: Record<string, Record<string, string>> = {
      config: { 'gateway.properties': m.gatewayProperties! },
      'secret-config': { 'secret.properties': m.secretProperties!.replace(/^gateway\.session\.secret=.*$/m, `gateway.session.secret=${TEST_SESSION_SECRET}`) },
      tokens: { 'proxy.properties': `# k8s layout test\n${token}=alice\n`, 'admin.properties': `anna=${adminToken}\n` },
    };
    const volumes = new Map<string, any>(spec.volumes.map((v: any) => [v.name, v]));
    const mounts = [...spec.initContainers, ...spec.containers].flatMap((c: any) => c.volumeMounts as any[]);
    for (const mount of mounts) {
      const v = volumes.get(mount.name);
      const dir = at(mount.mountPath);
      mkdirSync(dir, { recursive: true });
      if (v.emptyDir) {
        chmodSync(dir, 0o777); // an emptyDir is world-writable
      } else if (!readdirSync(dir).length) {
        const source = v.configMap ?? v.secret;
        const files = Object.fromEntries(source.items.map((i: any) => [i.path, volumeFiles[mount.name]![i.key]]));
        atomicVolume(dir, files, source.defaultMode ?? 0o644, asRoot ? gid : undefined, 1);
        chmodSync(dir, 0o555); // mounted readOnly: the gateway can create nothing there
      }
    }
    for (const p of ['/', '/app', '/etc', '/etc/linkis-gateway']) chmodSync(at(p), 0o755);

    // The init container's command, with the pod's paths under this tree, as the pod's user.
    const init = spec.initContainers.find((c: any) => c.name === 'conf');
    let script: string = init.command[2];
    for (const mount of init.volumeMounts) script = script.split(mount.mountPath).join(at(mount.mountPath));
    const ran = spawnSync(init.command[0], [init.command[1], script], { encoding: 'utf8', ...(asRoot ? { uid, gid } : {}) });
    assert.equal(ran.status, 0, ran.stderr);
    const confDir = at(m.gateway.command[m.gateway.command.indexOf('--conf') + 1]);
    const merged = join(confDir, 'gateway.properties');
    assert.equal(statSync(merged).mode & 0o777, 0o600, 'umask 077: the merged file holds the secrets');
    assert.ok(readFileSync(merged, 'utf8').endsWith(volumeFiles['secret-config']!['secret.properties']!));
    // What this test changes for a machine without a cluster: loopback, free ports, the simulated Linkis, and
    // the pod's absolute paths under this tree. No Redis: shared counting is the rate-limit tests' business.
    const entrance = linkis.entrances[0]!;
    const local = {
      'gateway.server.host': '127.0.0.1',
      'gateway.server.port': '0',
      'gateway.metrics.host': '127.0.0.1',
      'gateway.metrics.port': '0',
      'gateway.admin.port': '0',
      'gateway.entrance.instances': `${entrance.instance}=${entrance.url}`,
      'gateway.publicservice.instances': `${linkis.publicservice.instance}=${linkis.publicservice.url}`,
      'gateway.ratelimit.redis.url': '',
      'wds.linkis.gateway.conf.proxy.user.config': at(m.config!.proxyUserFile),
      'gateway.admin.credentials.file': at(m.config!.admin.credentialsFile),
    };
    writeFileSync(merged, `${readFileSync(merged, 'utf8')}\n${Object.entries(local).map(([k, v]) => `${k}=${v}`).join('\n')}\n`);

    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--conf', confDir], {
      cwd: ROOT,
      env: { ...process.env, HOME: at('/tmp'), TMPDIR: at('/tmp') },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(asRoot ? { uid, gid } : {}),
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    t.after(() => child.kill('SIGKILL'));
    const line = (event: (l: any) => boolean) => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find(event);
    const until = async <T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> => {
      const started = Date.now();
      for (;;) {
        const v = await f();
        if (v) return v;
        if (child.exitCode !== null) throw new Error(`the gateway exited with ${child.exitCode} before ${what}: ${err}${out.slice(-3000)}`);
        if (Date.now() - started > ms) throw new Error(`${what} not within ${ms} ms: ${err}${out.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const listening = await until('listening', () => line((l) => l.message === 'listening'));
    const adminLine = await until('the admin listener', () => line((l) => l.event === 'admin.listening'));
    const url = `http://127.0.0.1:${listening.port}`;
    const admin = `http://127.0.0.1:${adminLine.port}/admin/api`;

    // The Deployment's probes, as the kubelet sends them, on the public port.
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      const path = m.gateway[probe].httpGet.path;
      const r = await until(`${probe} ${path} 200`, async () => ((await call(`${url}${path}`)).status === 200 ? true : undefined), 10_000);
      assert.ok(r);
    }

    // The Secret's token works (a login: answered by the gateway from the mounted allowlist).
    const login = (tok: string) => call(`${url}/api/rest_j/v1/user/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userName: 'alice', password: tok }) });
    const first = await login(token);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    const history = (h: Record<string, string>) => call(`${url}/api/rest_j/v1/jobhistory/list`, { headers: h });
    assert.equal((await history({ cookie })).status, 200);
    // Logout writes sessions.revoked into the writable conf directory; the session ends.
    assert.equal((await call(`${url}/api/rest_j/v1/user/logout`, { method: 'POST', headers: { cookie } })).status, 200);
    assert.ok(readFileSync(join(confDir, 'sessions.revoked'), 'utf8').length > 0);
    if (asRoot) assert.equal(statSync(join(confDir, 'sessions.revoked')).uid, uid, 'the gateway ran as the pod\'s runAsUser');
    assert.equal((await history({ cookie })).body?.data?.errorCode, 'SESSION_ENDED');

    // The admin API cannot write a Secret: ADMIN_WRITE_FAILED, nothing changed.
    const bearer = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const list = await call(`${admin}/tokens`, { headers: bearer });
    assert.equal(list.status, 200, JSON.stringify(list.body));
    const create = await call(`${admin}/tokens`, { method: 'POST', headers: { ...bearer, 'if-match': list.headers.get('etag')! }, body: JSON.stringify({ users: ['bob'] }) });
    assert.equal(create.body?.data?.errorCode, 'ADMIN_WRITE_FAILED', JSON.stringify(create.body));

    // An edit of the Secret, as the kubelet applies it: the rotated token works, the old one no longer.
    const tokensDir = at(m.config!.proxyUserFile.slice(0, m.config!.proxyUserFile.lastIndexOf('/')));
    chmodSync(tokensDir, 0o755);
    atomicVolume(tokensDir, { 'proxy.properties': `# rotated\n${newToken}=alice\n`, 'admin.properties': `anna=${adminToken}\n` }, 0o440, asRoot ? gid : undefined, 2);
    chmodSync(tokensDir, 0o555);
    await until('the rotated token', async () => ((await login(newToken)).status === 200 ? true : undefined), 5_000);
    assert.equal((await login(token)).status, 401);
    // The hand edit is audited in the writable conf directory (once per pod).
    const audit = await until('the audit record', () => {
      try {
        return readFileSync(join(confDir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((r) => r.operation === 'hand-edit');
      } catch {
        return undefined;
      }
    }, 5_000);
    assert.equal(audit.applied, true);
    // Nothing was written outside the emptyDirs.
    for (const mount of mounts.filter((mt: any) => mt.readOnly)) {
      const names = readdirSync(at(mount.mountPath)).filter((n) => !n.startsWith('..'));
      assert.deepEqual(names.sort(), Object.keys(volumeFiles[mount.name]!).sort(), mount.mountPath);
    }

    // SIGTERM (after preStop): drained and gone well within the grace period left.
    const started = Date.now();
    child.kill('SIGTERM');
    let hung: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<'hung'>((r) => (hung = setTimeout(() => r('hung'), 15_000)))]).finally(() => clearTimeout(hung));
    assert.equal(code, 0, `${err}${out.slice(-2000)}`);
    const left = (spec.terminationGracePeriodSeconds - preStopSeconds(m.gateway)!) * 1000;
    assert.ok(Date.now() - started < left, `${Date.now() - started} ms`);
  });
});
