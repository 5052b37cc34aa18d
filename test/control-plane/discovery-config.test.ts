import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, validateConfig } from '../../src/control-plane/config';

const DIR = '/etc/linkis-gateway';
const FILE = `${DIR}/gateway.properties`;

function problems(raw: Record<string, string>): string[] {
  try {
    validateConfig(raw, DIR, FILE);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  return [];
}

test('eureka: defaultZone-style URL list, as wds.linkis.eureka.defaultZone writes it', () => {
  const c = validateConfig(
    {
      'gateway.discovery': 'eureka',
      'gateway.discovery.urls': 'http://127.0.0.1:20303/eureka/, http://admin:s%3Acret@eureka-2:20303/eureka',
      'gateway.discovery.refresh.ms': '1000',
      'gateway.discovery.eureka.address': 'ip',
      'gateway.discovery.publicservice.service': '',
      'gateway.publicservice.instances': 'ps:9105',
      'gateway.entrance.draining': '10.0.0.7:9104',
    },
    DIR,
    FILE,
  );
  assert.equal(c.discovery.mode, 'eureka');
  assert.deepEqual(c.discovery.urls, ['http://127.0.0.1:20303/eureka', 'http://admin:s%3Acret@eureka-2:20303/eureka']);
  assert.equal(c.discovery.refreshMs, 1000);
  assert.equal(c.discovery.eurekaAddress, 'ip');
  assert.equal(c.discovery.publicserviceService, '');
  // Entrances from the registry, publicservice still from its list; draining names wait for the registry.
  assert.deepEqual(c.instances, []);
  assert.deepEqual(c.publicservice.instances, [{ name: 'ps:9105', url: 'http://ps:9105' }]);
  assert.deepEqual(c.draining, ['10.0.0.7:9104']);
});

test('nacos: host:port as in spring.cloud.nacos.discovery.server-addr means the /nacos context', () => {
  const c = validateConfig({ 'gateway.discovery': 'nacos', 'gateway.discovery.urls': '127.0.0.1:8848,http://nacos-2:8848,https://nacos-3/custom/', 'gateway.discovery.nacos.namespace': 'linkis-prod', 'gateway.discovery.nacos.group': 'LINKIS' }, DIR, FILE);
  assert.deepEqual(c.discovery.urls, ['http://127.0.0.1:8848/nacos', 'http://nacos-2:8848/nacos', 'https://nacos-3/custom']);
  assert.equal(c.discovery.nacosNamespace, 'linkis-prod');
  assert.equal(c.discovery.nacosGroup, 'LINKIS');
});

test('every discovery problem names its key', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ 'gateway.discovery': 'zookeeper' }, /^gateway\.discovery: "zookeeper" is not one of static, eureka, nacos$/],
    [{ 'gateway.discovery': 'eureka' }, /^gateway\.discovery\.urls: must name the Eureka server/],
    [{ 'gateway.discovery': 'nacos', 'gateway.discovery.urls': ' , ' }, /^gateway\.discovery\.urls: must name the Nacos server/],
    [{ 'gateway.discovery': 'eureka', 'gateway.discovery.urls': 'ftp://x/eureka' }, /^gateway\.discovery\.urls: "ftp:\/\/x\/eureka" is not an http\(s\) URL/],
    [{ 'gateway.discovery': 'eureka', 'gateway.discovery.urls': 'http://u:secret@h:1/eureka?x=1' }, /^gateway\.discovery\.urls: "http:\/\/\*\*\*@h:1\/eureka\?x=1"/],
    [{ 'gateway.discovery': 'eureka', 'gateway.discovery.urls': 'http://e/eureka', 'gateway.entrance.instances': 'e1:9104' }, /^gateway\.entrance\.instances: must be empty with gateway\.discovery=eureka/],
    [{ 'gateway.discovery': 'eureka', 'gateway.discovery.urls': 'http://e/eureka', 'gateway.publicservice.instances': 'ps:9105' }, /^gateway\.publicservice\.instances: must be empty with gateway\.discovery=eureka unless/],
    [{ 'gateway.discovery': 'eureka', 'gateway.discovery.urls': 'http://e/eureka', 'gateway.entrance.draining': 'not-an-instance' }, /^gateway\.entrance\.draining: "not-an-instance" is not host:port$/],
    [{ 'gateway.discovery.refresh.ms': '10' }, /^gateway\.discovery\.refresh\.ms: "10" is not a whole number between 100/],
    [{ 'gateway.discovery.refresh.ms': '5000', 'gateway.discovery.full.refresh.ms': '1000' }, /^gateway\.discovery\.full\.refresh\.ms: 1000 is shorter than gateway\.discovery\.refresh\.ms/],
    [{ 'gateway.discovery.timeout.ms': 'soon' }, /^gateway\.discovery\.timeout\.ms: "soon"/],
    [{ 'gateway.discovery.eureka.address': 'dns' }, /^gateway\.discovery\.eureka\.address: "dns" is not one of hostname, ip$/],
    [{ 'gateway.discovery.entrance.service': '' }, /^gateway\.discovery\.entrance\.service: "" is not a service name$/],
    [{ 'gateway.discovery.publicservice.service': 'a b' }, /^gateway\.discovery\.publicservice\.service: "a b"/],
    [{ 'gateway.discovery.nacos.group': 'x/y' }, /^gateway\.discovery\.nacos\.group: "x\/y"/],
    [{ 'gateway.discovery.nacos.namespace': 'x y' }, /^gateway\.discovery\.nacos\.namespace: "x y"/],
    [{ 'gateway.discovery.url': 'x' }, /^gateway\.discovery\.url: unknown key; did you mean gateway\.discovery\.urls\?$/],
  ];
  for (const [raw, want] of cases) {
    const found = problems(raw);
    assert.ok(found.some((p) => want.test(p)), `${JSON.stringify(raw)} → ${JSON.stringify(found)}`);
    assert.ok(!found.join('\n').includes('secret'), 'a password in a registry URL never appears in a message');
  }
});

test('static (the default) ignores the registry keys and keeps checking draining against the list', () => {
  assert.deepEqual(problems({ 'gateway.discovery.urls': 'not a url', 'gateway.entrance.instances': 'e1:9104' }), []);
  assert.deepEqual(problems({ 'gateway.entrance.instances': 'e1:9104', 'gateway.entrance.draining': 'e2:9104' }), ['gateway.entrance.draining: "e2:9104" is not in gateway.entrance.instances']);
});
