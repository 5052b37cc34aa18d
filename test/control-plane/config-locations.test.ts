/**
 * Where a gateway.properties problem is: every problem in one pass, each as `file:line: what` (the text
 * start-up prints and check-config shows), invalid UTF-8 by its line, and an unknown key with a
 * "did you mean" instead of the list of every key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_KEYS, ConfigError, loadConfig, validateConfig } from '../../src/control-plane/config';

function errorOf(raw: Record<string, string>): ConfigError {
  try {
    validateConfig(raw, '/etc/linkis-gateway', '/etc/linkis-gateway/gateway.properties');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${String(err)}`);
    return err;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(raw)}`);
}

test('an unknown key gets a "did you mean" with the closest known key, not the list of every key', () => {
  const cases: Array<[string, string | undefined]> = [
    ['gateway.server.prot', 'gateway.server.port'], // transposed letters
    ['gateway.log.levl', 'gateway.log.level'],
    ['gateway.Server.Port', 'gateway.server.port'], // case
    ['gateway.ratelimit.users.limit', 'gateway.ratelimit.user.limit'],
    ['gateway.admin.credentials', 'gateway.admin.credentials.file'], // cut short
    ['gateway.upstream.timeout', undefined], // nothing close: no guess
    ['gateway.nope', undefined],
  ];
  for (const [key, near] of cases) {
    const err = errorOf({ [key]: '1' });
    assert.equal(err.problems.length, 1, err.message);
    if (near) assert.equal(err.problems[0], `${key}: unknown key; did you mean ${near}?`);
    else assert.equal(err.problems[0], `${key}: unknown key (the keys are listed in README.md, "Configuration reference")`);
    // Not the list of all known keys (35 and counting).
    assert.ok(CONFIG_KEYS.filter((k) => err.message.includes(k)).length <= 1, err.message);
  }
});

test('loadConfig names each problem with file:line, the key\'s line, as check-config does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-config-lines-'));
  try {
    const file = join(dir, 'gateway.properties');
    writeFileSync(file, '# c\ngateway.log.levl=info\n\ngateway.server.port=99999\nbad\\u00zz=1\n');
    const err = (() => {
      try {
        loadConfig(dir);
      } catch (e) {
        return e as ConfigError;
      }
      assert.fail('expected a ConfigError');
    })();
    assert.ok(err instanceof ConfigError);
    // The syntax problem on line 5 does not hide the two value problems: every problem, sorted by line.
    assert.deepEqual(err.message.split('\n'), [
      `${file}:2: gateway.log.levl: unknown key; did you mean gateway.log.level?`,
      `${file}:4: gateway.server.port: "99999" is not a whole number between 0 and 65535`,
      `${file}:5: malformed \\uXXXX escape in key (entry skipped)`,
    ]);
    // What was valid is still read, so check-config can go on to the files gateway.properties names.
    assert.equal(err.partial?.proxyUserFile, join(dir, 'proxy.properties'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadConfig: invalid UTF-8 in gateway.properties is a problem naming its line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-config-utf8-'));
  try {
    const file = join(dir, 'gateway.properties');
    // Line 3 holds a Latin-1 "é" (0xe9); CRLF line ends count as one line break.
    writeFileSync(file, Buffer.concat([Buffer.from('# conf\r\ngateway.server.port=9001\r\ngateway.log.level=d'), Buffer.from([0xe9]), Buffer.from('bug\r\n')]));
    assert.throws(
      () => loadConfig(dir),
      (err: unknown) => err instanceof ConfigError && err.message === `${file}:3: not valid UTF-8 (save the file as UTF-8)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
