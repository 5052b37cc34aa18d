/**
 * The shipped docker-compose.yml, checked without Docker: valid under the Compose schema, and set up for the
 * admin flow (README, "Docker"): a writable conf directory, the admin listener reachable on the host's
 * loopback only, and a configuration the gateway accepts whose ports match what compose publishes.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkConfigDir, formatProblem } from '../../src/cli/check-config';
import { ROOT, checkCompose, composeText, interpolate, mountsOf, portsOf } from './compose-file';

describe('docker-compose.yml', () => {
  const { doc, problems } = checkCompose(composeText());
  const gateway = doc?.services?.gateway;

  it('is valid under the Compose schema, with and without the variables it reads set', () => {
    assert.deepEqual(problems, []);
    assert.deepEqual(checkCompose(composeText(), { LINKIS_GATEWAY_UID: '1001', LINKIS_GATEWAY_GID: '1001' }).problems, []);
  });

  it('the validator is real: it refuses what compose refuses', () => {
    const text = composeText();
    const bad = (from: string, to: string) => checkCompose(text.replace(from, to)).problems.join('\n');
    assert.match(bad('    restart: unless-stopped', '    restart: unless-stopped\n    restrat: always'), /additional properties \(restrat\)/);
    assert.match(bad('    depends_on: [linkis]', '    depends_on: linkis'), /depends_on/);
    assert.match(bad('  linkis:\n', '  linkis:\n    ports: 9104\n'), /ports/);
    assert.match(bad('services:\n', 'services:\n  gateway:\n    image: x\n'), /[Dd]uplicate|unique/);
    assert.throws(() => interpolate('${X:?must be set}', {}), /unsupported interpolation/);
    assert.equal(interpolate('$${X} ${X:-a} ${X-b} ${Y:-c} ${Y-d}', { X: '', Y: 'y' }), '${X} a  y y');
  });

  it('mounts the conf directory read-write, so admin writes, the audit and session.secret can be written', () => {
    const conf = mountsOf(gateway).find((m) => m.target === '/app/conf');
    assert.ok(conf, 'a volume on /app/conf');
    assert.equal(conf.source, './conf');
    assert.equal(conf.readOnly, false, 'a read-only conf makes every admin write fail with ADMIN_WRITE_FAILED');
    // What is mounted inside /app/conf over it may be read-only: the gateway never writes gateway.properties.
    for (const m of mountsOf(gateway).filter((m) => m.target.startsWith('/app/conf/'))) {
      assert.ok(['/app/conf/gateway.properties', '/app/conf/admin.properties'].includes(m.target), `${m.target} is mounted over a file the gateway writes`);
    }
  });

  it('runs the gateway as a plain user id that may own ./conf on the host, not as root', () => {
    for (const env of [{}, { LINKIS_GATEWAY_UID: '1001', LINKIS_GATEWAY_GID: '1002' }]) {
      const user = String(checkCompose(composeText(), env).doc.services.gateway.user);
      assert.match(user, /^[0-9]+:[0-9]+$/, user);
      assert.notEqual(user.split(':')[0], '0');
    }
    assert.equal(gateway.user, '1000:1000', 'the image\'s node user by default');
  });

  it('publishes the admin listener on the host\'s loopback only, and the public port', () => {
    const published = portsOf(gateway);
    const admin = published.filter((p) => p.containerPort === '9002');
    assert.deepEqual(admin.map((p) => p.hostIp), ['127.0.0.1'], 'the admin listener is plain HTTP: loopback only');
    assert.ok(published.some((p) => p.containerPort === '9001'));
  });

  it('every bind-mounted file exists in the repository', () => {
    for (const [name, service] of Object.entries<any>(doc.services)) {
      for (const m of mountsOf(service)) if (m.source.startsWith('./')) assert.ok(existsSync(join(ROOT, m.source)), `${name}: ${m.source}`);
    }
  });

  it('the conf the container sees passes check-config with an admin, and listens where compose publishes', () => {
    // /app/conf as the container sees it: ./conf, the files mounted over it, and an admin.properties.
    const dir = mkdtempSync(join(tmpdir(), 'lgw-compose-conf-'));
    cpSync(join(ROOT, 'conf'), dir, { recursive: true });
    for (const m of mountsOf(gateway).filter((m) => m.target.startsWith('/app/conf/'))) {
      writeFileSync(join(dir, m.target.slice('/app/conf/'.length)), readFileSync(join(ROOT, m.source)));
    }
    writeFileSync(join(dir, 'admin.properties'), 'anna=0123456789abcdef0123456789abcdef\n');
    const r = checkConfigDir(dir);
    assert.deepEqual(r.problems.map(formatProblem), []);
    const config = r.config!;
    const published = portsOf(gateway).map((p) => p.containerPort);
    assert.ok(published.includes(String(config.server.port)), `gateway.server.port ${config.server.port} is published`);
    assert.ok(published.includes(String(config.admin.port)), `gateway.admin.port ${config.admin.port} is published`);
    assert.equal(config.admin.host, '0.0.0.0', 'a published port reaches only a listener on the container network');
    assert.ok(config.instances.every((i) => i.name.startsWith('linkis:')), 'the Entrances are the linkis service');
    // Prometheus scrapes the admin listener by service name.
    assert.match(readFileSync(join(ROOT, 'deploy', 'compose', 'prometheus.yml'), 'utf8'), new RegExp(`gateway:${config.admin.port}`));
  });
});
