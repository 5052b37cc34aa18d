import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseInstances, parseSize, validateConfig, type GatewayConfig } from '../../src/control-plane/config';

const DIR = '/etc/linkis-gateway';
const FILE = `${DIR}/gateway.properties`;

function errorOf(raw: Record<string, string>): ConfigError {
  try {
    validateConfig(raw, DIR, FILE);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${String(err)}`);
    return err;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(raw)}`);
}

test('defaults', () => {
  const c = validateConfig({}, DIR, FILE);
  const want: GatewayConfig = {
    confDir: DIR,
    file: FILE,
    server: { host: '0.0.0.0', port: 9001 },
    instances: [],
    cryptKey: 'bdp-for-server',
    ticketCookie: 'linkis_user_session_ticket_id_v1',
    proxyUserFile: `${DIR}/proxy.properties`,
    upstream: { connectTimeoutMs: 5000, responseTimeoutMs: 60000, maxSockets: 256, maxPerUser: 64, maxPerClient: 128 },
    bodyLimitBytes: 10 * 1024 * 1024,
    submissionLimitBytes: 2 * 1024 * 1024,
    ticketCacheMs: 60000,
    log: { level: 'info', format: 'auto' },
    draining: [],
    health: { mode: 'tcp', path: '/actuator/health', intervalMs: 2000, timeoutMs: 1000, healthyThreshold: 2, unhealthyThreshold: 2, passiveFailures: 3, passiveEjectMs: 10000 },
    rateLimit: { windowMs: 60000, perClient: 30000, perUser: 6000, redisUrl: undefined },
    trustProxy: [],
    limits: { requestTimeoutMs: 300000, headersTimeoutMs: 20000, keepAliveTimeoutMs: 65000, maxHeaderBytes: 16384 },
    shutdownGraceMs: 30000,
    admin: { host: '127.0.0.1', port: 9002, credentialsFile: `${DIR}/admin.properties`, auditFile: `${DIR}/audit.log`, allowPublic: false },
    metrics: { host: '127.0.0.1', port: null },
    workers: 1,
    publicservice: { instances: [], prefixes: ['jobhistory', 'filesystem'] },
    taskCacheMs: 10000,
    session: { secret: '', timeoutMs: 7200000, cookieSecure: false },
    tokenPolicy: 'warn',
    discovery: {
      mode: 'static',
      urls: [],
      refreshMs: 5000,
      fullRefreshMs: 60000,
      timeoutMs: 3000,
      entranceService: 'linkis-cg-entrance',
      publicserviceService: 'linkis-ps-publicservice',
      eurekaAddress: 'hostname',
      nacosNamespace: '',
      nacosGroup: 'DEFAULT_GROUP',
    },
    sharedStore: { mode: 'file', url: undefined, prefix: 'linkis-gateway:', checkMs: 1000 },
    replica: hostname(),
  };
  assert.deepEqual(c, want);
});

test('gateway.allowlist.store=redis needs a Redis URL, and may share the rate limits\' one', () => {
  assert.match(errorOf({ 'gateway.allowlist.store': 'redis' }).message, /gateway\.allowlist\.store: redis needs gateway\.allowlist\.redis\.url/);
  assert.match(errorOf({ 'gateway.allowlist.store': 'consul' }).message, /gateway\.allowlist\.store: "consul" is not one of file, redis/);
  assert.match(errorOf({ 'gateway.allowlist.redis.url': 'http://x' }).message, /gateway\.allowlist\.redis\.url: "http:\/\/x" is not a redis/);
  assert.match(errorOf({ 'gateway.allowlist.redis.check.ms': '5000' }).message, /gateway\.allowlist\.redis\.check\.ms/);
  const c = validateConfig({ 'gateway.allowlist.store': 'redis', 'gateway.ratelimit.redis.url': 'redis://r:6379', 'gateway.replica.name': 'gw-1' }, DIR, FILE);
  assert.deepEqual(c.sharedStore, { mode: 'redis', url: 'redis://r:6379', prefix: 'linkis-gateway:', checkMs: 1000 });
  assert.equal(c.replica, 'gw-1');
});

test('every value is read, trimmed', () => {
  const c = validateConfig(
    {
      'gateway.server.host': ' 127.0.0.1 ',
      'gateway.server.port': ' 9100',
      'gateway.entrance.instances': 'e1:9104, e2:9104=http://10.0.0.2:19104',
      'wds.linkis.crypt.key': 'secret-key',
      'wds.linkis.session.ticket.key': 'bdp-user-ticket-id',
      'wds.linkis.gateway.conf.proxy.user.config': 'sub/proxy.properties',
      'gateway.upstream.connect.timeout.ms': '1',
      'gateway.upstream.response.timeout.ms': '3600000',
      'gateway.upstream.max.sockets': '65535',
      'gateway.upstream.max.per.user': ' 0',
      'gateway.upstream.max.per.client': '7 ',
      'gateway.request.body.limit': '512kb',
      'gateway.submission.max.bytes': ' 64kb ',
      'gateway.ticket.cache.ms': '0',
      'gateway.log.level': 'debug',
      'gateway.log.format': 'json',
      // Other Linkis keys may share the file.
      'wds.linkis.server.version': 'v1',
      'wds.linkis.gateway.conf.enable.proxy.user': 'true',
    },
    DIR,
    FILE,
  );
  assert.deepEqual(c.server, { host: '127.0.0.1', port: 9100 });
  assert.deepEqual(c.instances, [
    { name: 'e1:9104', url: 'http://e1:9104' },
    { name: 'e2:9104', url: 'http://10.0.0.2:19104' },
  ]);
  assert.equal(c.cryptKey, 'secret-key');
  assert.equal(c.ticketCookie, 'bdp-user-ticket-id');
  assert.equal(c.proxyUserFile, `${DIR}/sub/proxy.properties`);
  assert.deepEqual(c.upstream, { connectTimeoutMs: 1, responseTimeoutMs: 3600000, maxSockets: 65535, maxPerUser: 0, maxPerClient: 7 });
  assert.equal(c.bodyLimitBytes, 512 * 1024);
  assert.equal(c.submissionLimitBytes, 64 * 1024);
  assert.equal(c.ticketCacheMs, 0);
  assert.deepEqual(c.log, { level: 'debug', format: 'json' });
});

test('an absolute proxy.properties path is kept', () => {
  const c = validateConfig({ 'wds.linkis.gateway.conf.proxy.user.config': '/opt/linkis/conf/proxy.properties' }, DIR, FILE);
  assert.equal(c.proxyUserFile, '/opt/linkis/conf/proxy.properties');
});

test('port 0 (any free port) and 65535 are accepted', () => {
  assert.equal(validateConfig({ 'gateway.server.port': '0' }, DIR, FILE).server.port, 0);
  assert.equal(validateConfig({ 'gateway.server.port': '65535' }, DIR, FILE).server.port, 65535);
});

test('every bad value names its key and the file', () => {
  const I = 'gateway.entrance.instances';
  const table: Array<[key: string, value: string, extra?: RegExp]> = [
    ['gateway.server.port', 'abc'],
    ['gateway.server.port', '70000'],
    ['gateway.server.port', '65536'],
    ['gateway.server.port', '-1'],
    ['gateway.server.port', '80.5'],
    ['gateway.server.port', '0x50'],
    ['gateway.server.port', ''],
    ['gateway.server.host', ' '],
    ['gateway.upstream.connect.timeout.ms', '-5'],
    ['gateway.upstream.connect.timeout.ms', 'NaN'],
    ['gateway.upstream.connect.timeout.ms', '0'],
    ['gateway.upstream.connect.timeout.ms', '600001'],
    ['gateway.upstream.response.timeout.ms', '-1'],
    ['gateway.upstream.response.timeout.ms', 'NaN'],
    ['gateway.upstream.response.timeout.ms', '1.5'],
    ['gateway.upstream.response.timeout.ms', 'Infinity'],
    ['gateway.upstream.max.sockets', '0'],
    ['gateway.upstream.max.per.user', '-1'],
    ['gateway.upstream.max.per.user', '65536'],
    ['gateway.upstream.max.per.client', 'many'],
    ['gateway.ticket.cache.ms', '-1'],
    ['gateway.ticket.cache.ms', '1e3'],
    [I, 'host', /"host" is not host:port/],
    [I, 'host:99999', /"host:99999"/],
    [I, 'host:0', /"host:0"/],
    [I, 'a:1,b:2,a:1', /"a:1" is listed twice/],
    [I, 'a:1=http://x:1, a:1=http://y:1', /listed twice/],
    [I, 'name=ftp://x', /"name" is not host:port/],
    [I, 'a:1=ftp://x', /ftp:\/\/x/],
    [I, 'a:1=https://x:443', /https:\/\/x:443/],
    [I, 'a:1=http://x:1/linkis', /no path/],
    [I, 'a:1=http://x:1/?q=1', /no path, query/],
    [I, 'a:1=http://user:pw@x:1', /credentials/],
    [I, 'a:1=not a url', /"not a url"/],
    [I, 'a:1=', /is not a URL/],
    [I, 'http://a:1', /is not host:port/],
    ['wds.linkis.crypt.key', '', /must not be empty/],
    ['wds.linkis.session.ticket.key', 'bad name;', /not a valid cookie name/],
    ['wds.linkis.session.ticket.key', '', /not a valid cookie name/],
    ['wds.linkis.gateway.conf.proxy.user.config', '', /must not be empty/],
    ['gateway.request.body.limit', 'abc', /between 1kb and 1gb/],
    ['gateway.request.body.limit', '10', /between 1kb and 1gb/],
    ['gateway.request.body.limit', '2gb', /between 1kb and 1gb/],
    ['gateway.request.body.limit', '-1mb', /between 1kb and 1gb/],
    ['gateway.request.body.limit', '1.5mb', /between 1kb and 1gb/],
    ['gateway.submission.max.bytes', 'abc', /between 1kb and 64mb/],
    ['gateway.submission.max.bytes', '1023', /between 1kb and 64mb/],
    ['gateway.submission.max.bytes', '65mb', /between 1kb and 64mb/],
    ['gateway.submission.max.bytes', '', /between 1kb and 64mb/],
    ['gateway.log.level', 'trace', /not one of error, warn, info, debug/],
    ['gateway.log.level', 'INFO', /not one of/],
    ['gateway.log.format', 'xml', /not one of json, pretty, auto/],
    ['gateway.server.prot', '9001', /unknown key/],
    ['gateway.upstream.timeout', '5', /unknown key/],
  ];
  for (const [key, value, extra] of table) {
    const err = errorOf({ [key]: value });
    const label = `${key}=${JSON.stringify(value)}: ${err.message}`;
    assert.ok(err.message.startsWith(`${FILE}: ${key}: `), label);
    if (extra) assert.match(err.message, extra, label);
    // A number-valued key quotes the bad value.
    if (!extra && value.trim()) assert.ok(err.message.includes(`"${value.trim()}"`), label);
  }
});

test('several problems are reported together, one per line, each naming the file', () => {
  const err = errorOf({ 'gateway.server.port': 'x', 'gateway.log.level': 'loud', 'gateway.nope': '1' });
  const lines = err.message.split('\n');
  assert.equal(lines.length, 3, err.message);
  for (const line of lines) assert.ok(line.startsWith(`${FILE}: `), line);
  assert.ok(lines.some((l) => l.includes('gateway.server.port')));
  assert.ok(lines.some((l) => l.includes('gateway.log.level')));
  assert.ok(lines.some((l) => l.includes('gateway.nope')));
});

test('parseInstances: host:port and host:port=http://address:port', () => {
  const table: Array<[string, Array<{ name: string; url: string }>]> = [
    ['', []],
    [' , ,', []],
    ['localhost:9104', [{ name: 'localhost:9104', url: 'http://localhost:9104' }]],
    ['10.244.0.13:9104=http://127.0.0.1:19104', [{ name: '10.244.0.13:9104', url: 'http://127.0.0.1:19104' }]],
    ['a:1 = http://x:2/ ', [{ name: 'a:1', url: 'http://x:2' }]],
    ['h:9104=http://x', [{ name: 'h:9104', url: 'http://x' }]],
    ['my_host:9104', [{ name: 'my_host:9104', url: 'http://my_host:9104' }]],
    ['[::1]:9104', [{ name: '[::1]:9104', url: 'http://[::1]:9104' }]],
    [
      'a:1,b:2=http://10.0.0.2:3, c:4',
      [
        { name: 'a:1', url: 'http://a:1' },
        { name: 'b:2', url: 'http://10.0.0.2:3' },
        { name: 'c:4', url: 'http://c:4' },
      ],
    ],
    // Two names behind one address are allowed (different names in execIDs).
    [
      'a:1=http://x:9,b:1=http://x:9',
      [
        { name: 'a:1', url: 'http://x:9' },
        { name: 'b:1', url: 'http://x:9' },
      ],
    ],
  ];
  for (const [value, want] of table) {
    const problems: string[] = [];
    assert.deepEqual(parseInstances(value, problems), want, value);
    assert.deepEqual(problems, [], value);
  }
});

test('parseInstances: bad items are reported and skipped, good ones kept', () => {
  const problems: string[] = [];
  const got = parseInstances('good:1, host, host:99999, good:1, x:2=ftp://x, y:3=http://y:3/p, z:4', problems);
  assert.deepEqual(got, [
    { name: 'good:1', url: 'http://good:1' },
    { name: 'z:4', url: 'http://z:4' },
  ]);
  assert.equal(problems.length, 5, problems.join('\n'));
  for (const p of problems) assert.ok(p.startsWith('gateway.entrance.instances: '), p);
});

test('parseSize', () => {
  const table: Array<[string, number | null]> = [
    ['512kb', 512 * 1024],
    ['10mb', 10 * 1024 * 1024],
    ['1048576', 1048576],
    ['1gb', 1024 ** 3],
    ['100b', 100],
    ['2 MB', 2 * 1024 * 1024],
    ['64KB', 64 * 1024],
    [' 7kb ', 7 * 1024],
    ['0', 0],
    ['', null],
    ['mb', null],
    ['1.5mb', null],
    ['-1', null],
    ['10 m', null],
    ['10tb', null],
    ['1e6', null],
    ['0x100', null],
  ];
  for (const [value, want] of table) assert.equal(parseSize(value), want, JSON.stringify(value));
});

test('loadConfig reads a real gateway.properties', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
  try {
    writeFileSync(
      join(dir, 'gateway.properties'),
      [
        '# the gateway',
        'gateway.server.port=9100',
        'gateway.server.host = 127.0.0.1',
        'gateway.entrance.instances=e1:9104=http://127.0.0.1:19104,e2:9105',
        'wds.linkis.crypt.key=another-key',
        'gateway.request.body.limit=1mb',
        'wds.linkis.server.version=v1',
        '',
      ].join('\n'),
    );
    const c = loadConfig(dir);
    assert.equal(c.confDir, dir);
    assert.equal(c.file, join(dir, 'gateway.properties'));
    assert.deepEqual(c.server, { host: '127.0.0.1', port: 9100 });
    assert.deepEqual(c.instances, [
      { name: 'e1:9104', url: 'http://127.0.0.1:19104' },
      { name: 'e2:9105', url: 'http://e2:9105' },
    ]);
    assert.equal(c.cryptKey, 'another-key');
    assert.equal(c.bodyLimitBytes, 1024 * 1024);
    assert.equal(c.proxyUserFile, join(dir, 'proxy.properties'));
    assert.equal(c.ticketCookie, 'linkis_user_session_ticket_id_v1');

    // A bad value in the file: the error names the key and the file.
    writeFileSync(join(dir, 'gateway.properties'), 'gateway.server.port=99999\n');
    assert.throws(
      () => loadConfig(dir),
      (err: unknown) => err instanceof ConfigError && err.message.startsWith(`${join(dir, 'gateway.properties')}:1: gateway.server.port: `),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadConfig on a directory without gateway.properties throws a ConfigError naming the path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-config-missing-'));
  try {
    assert.throws(
      () => loadConfig(dir),
      (err: unknown) => err instanceof ConfigError && err.message.includes(join(dir, 'gateway.properties')) && /not found/.test(err.message),
    );
    const gone = join(dir, 'does-not-exist');
    assert.throws(() => loadConfig(gone), (err: unknown) => err instanceof ConfigError && err.message.includes(join(gone, 'gateway.properties')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
