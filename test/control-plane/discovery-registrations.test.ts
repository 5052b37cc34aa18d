import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eurekaApplication, eurekaDelta, eurekaRecord, nacosHosts, onePerName } from '../../src/control-plane/discovery/registrations';

// An instance as Eureka's Jackson codec writes what a Linkis 1.8.0 Entrance registers (application-linkis.yml).
const EUREKA = {
  instanceId: 'bda01node03.oracle.cn:linkis-cg-entrance:9104',
  hostName: 'bda01node03.oracle.cn',
  app: 'LINKIS-CG-ENTRANCE',
  ipAddr: '10.244.0.13',
  status: 'UP',
  overriddenStatus: 'UNKNOWN',
  port: { $: 9104, '@enabled': 'true' },
  securePort: { $: 443, '@enabled': 'false' },
  leaseInfo: { renewalIntervalInSecs: 4, durationInSecs: 12, registrationTimestamp: 1700000000123, lastRenewalTimestamp: 1700000400000, evictionTimestamp: 0, serviceUpTimestamp: 1700000000200 },
  metadata: { 'prometheus.path': '/api/rest_j/v1/actuator/prometheus', 'linkis.app.version': '1.8.0' },
};

test('eurekaRecord: the name is hostName:port (what Linkis writes into execIDs); the address per gateway.discovery.eureka.address', () => {
  const cases: Array<[string, unknown, 'hostname' | 'ip', unknown]> = [
    ['hostname (Linkis default)', EUREKA, 'hostname', { name: 'bda01node03.oracle.cn:9104', url: 'http://bda01node03.oracle.cn:9104', status: 'UP', up: true, registeredAt: 1700000000200 }],
    ['reached by ipAddr', EUREKA, 'ip', { name: 'bda01node03.oracle.cn:9104', url: 'http://10.244.0.13:9104', status: 'UP', up: true, registeredAt: 1700000000200 }],
    ['prefer-ip-address: hostName is the IP', { ...EUREKA, hostName: '10.244.0.13', instanceId: '10.244.0.13:linkis-cg-entrance:9104' }, 'hostname', { name: '10.244.0.13:9104', url: 'http://10.244.0.13:9104', status: 'UP', up: true, registeredAt: 1700000000200 }],
    ['DOWN takes no submissions', { ...EUREKA, status: 'DOWN' }, 'hostname', { name: 'bda01node03.oracle.cn:9104', url: 'http://bda01node03.oracle.cn:9104', status: 'DOWN', up: false, registeredAt: 1700000000200 }],
    ['OUT_OF_SERVICE', { ...EUREKA, status: 'OUT_OF_SERVICE' }, 'hostname', { name: 'bda01node03.oracle.cn:9104', url: 'http://bda01node03.oracle.cn:9104', status: 'OUT_OF_SERVICE', up: false, registeredAt: 1700000000200 }],
    ['STARTING', { ...EUREKA, status: 'starting' }, 'hostname', { name: 'bda01node03.oracle.cn:9104', url: 'http://bda01node03.oracle.cn:9104', status: 'STARTING', up: false, registeredAt: 1700000000200 }],
    ['no status: UNKNOWN', { ...EUREKA, status: undefined }, 'hostname', { name: 'bda01node03.oracle.cn:9104', url: 'http://bda01node03.oracle.cn:9104', status: 'UNKNOWN', up: false, registeredAt: 1700000000200 }],
    ['older codecs: port and timestamp as strings', { ...EUREKA, port: { $: '9104', '@enabled': true }, leaseInfo: { serviceUpTimestamp: '1700000000200' } }, 'hostname', { name: 'bda01node03.oracle.cn:9104', url: 'http://bda01node03.oracle.cn:9104', status: 'UP', up: true, registeredAt: 1700000000200 }],
    ['never UP (serviceUpTimestamp 0): the registration time', { ...EUREKA, status: 'STARTING', leaseInfo: { ...EUREKA.leaseInfo, serviceUpTimestamp: 0 } }, 'hostname', { name: 'bda01node03.oracle.cn:9104', url: 'http://bda01node03.oracle.cn:9104', status: 'STARTING', up: false, registeredAt: 1700000000123 }],
    ['no leaseInfo: registry time unknown (0)', { ...EUREKA, leaseInfo: undefined }, 'hostname', { name: 'bda01node03.oracle.cn:9104', url: 'http://bda01node03.oracle.cn:9104', status: 'UP', up: true, registeredAt: 0 }],
  ];
  for (const [what, raw, address, want] of cases) {
    const r = eurekaRecord(raw, address);
    assert.equal(r.problem, undefined, what);
    assert.equal(r.id, (raw as { instanceId: string }).instanceId, what);
    assert.deepEqual(r.instance, want, what);
  }
});

test('eurekaRecord: records that cannot be routed are reported, never guessed at', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ ...EUREKA, port: { $: 9104, '@enabled': 'false' } }, /HTTP port is not enabled/],
    [{ ...EUREKA, hostName: '' }, /no hostName and port/],
    [{ ...EUREKA, port: { $: 0 } }, /no hostName and port/],
    [{ ...EUREKA, hostName: 'fe80::1' }, /not a host:port an execID can name/],
    [{ ...EUREKA, hostName: 'bad host' }, /not a host:port/],
    [{ ...EUREKA, ipAddr: '' }, /no usable ipAddr/],
    ['nonsense', /not an object/],
  ];
  for (const [raw, want] of cases) {
    const r = eurekaRecord(raw, (raw as { ipAddr?: string })?.ipAddr === '' ? 'ip' : 'hostname');
    assert.equal(r.instance, undefined);
    assert.match(r.problem ?? '', want);
  }
});

test('eurekaApplication: the instance array, one bare instance, or not an application', () => {
  assert.equal(eurekaApplication({ application: { name: 'X', instance: [EUREKA, { ...EUREKA, instanceId: 'b', hostName: 'b' }] } }, 'hostname')!.length, 2);
  assert.equal(eurekaApplication({ application: { name: 'X', instance: EUREKA } }, 'hostname')![0]!.instance!.name, 'bda01node03.oracle.cn:9104');
  assert.deepEqual(eurekaApplication({ application: { name: 'X' } }, 'hostname'), []);
  assert.equal(eurekaApplication({ applications: {} }, 'hostname'), null);
  assert.equal(eurekaApplication('<html>', 'hostname'), null);
});

test('eurekaDelta: only the watched applications, each change with its action', () => {
  const body = {
    applications: {
      versions__delta: '7',
      apps__hashcode: 'UP_3_',
      application: [
        { name: 'LINKIS-CG-ENTRANCE', instance: [{ ...EUREKA, actionType: 'ADDED' }, { ...EUREKA, instanceId: 'gone', actionType: 'DELETED' }, { ...EUREKA, instanceId: 'odd', actionType: 'SYNCED' }] },
        { name: 'LINKIS-CG-LINKISMANAGER', instance: [{ ...EUREKA, app: 'LINKIS-CG-LINKISMANAGER', actionType: 'ADDED' }] },
        { name: 'LINKIS-PS-PUBLICSERVICE', instance: { ...EUREKA, instanceId: 'ps', hostName: 'ps', actionType: 'MODIFIED' } },
      ],
    },
  };
  const changes = eurekaDelta(body, ['LINKIS-CG-ENTRANCE', 'LINKIS-PS-PUBLICSERVICE'], 'hostname')!;
  assert.deepEqual(
    changes.map((c) => [c.app, c.action, c.record.id]),
    [
      ['LINKIS-CG-ENTRANCE', 'ADDED', EUREKA.instanceId],
      ['LINKIS-CG-ENTRANCE', 'DELETED', 'gone'],
      ['LINKIS-PS-PUBLICSERVICE', 'MODIFIED', 'ps'],
    ],
  );
  assert.deepEqual(eurekaDelta({ applications: { application: [] } }, ['X'], 'hostname'), []);
  assert.equal(eurekaDelta({ application: {} }, ['X'], 'hostname'), null);
});

test('nacosHosts: ip:port names; UP only when healthy, enabled and weighted', () => {
  const host = { instanceId: '10.0.0.5#9104#DEFAULT#DEFAULT_GROUP@@linkis-cg-entrance', ip: '10.0.0.5', port: 9104, weight: 1.0, healthy: true, enabled: true, ephemeral: true, clusterName: 'DEFAULT', metadata: {} };
  const cases: Array<[object, string, boolean]> = [
    [host, 'UP', true],
    [{ ...host, healthy: false }, 'DOWN', false],
    [{ ...host, enabled: false }, 'DISABLED', false],
    [{ ...host, enabled: false, healthy: false }, 'DISABLED', false],
    [{ ...host, weight: 0 }, 'ZERO_WEIGHT', false],
    [{ ...host, weight: undefined }, 'UP', true],
  ];
  for (const [raw, status, up] of cases) {
    const [h] = nacosHosts({ hosts: [raw] })!;
    assert.deepEqual(h!.instance, { name: '10.0.0.5:9104', url: 'http://10.0.0.5:9104', status, up }, JSON.stringify(raw));
  }
  assert.match(nacosHosts({ hosts: [{ ...host, port: 'x' }] })![0]!.problem!, /not a host:port/);
  assert.match(nacosHosts({ hosts: [{ ...host, ip: 'fe80::1' }] })![0]!.problem!, /not a host:port/);
  assert.deepEqual(nacosHosts({ hosts: [] }), []);
  assert.equal(nacosHosts({ error: 'service not found' }), null);
});

test('onePerName: an UP registration wins, then the newest', () => {
  const i = (up: boolean, registeredAt: number, url = 'http://a:1') => ({ name: 'a:1', url, status: up ? 'UP' : 'DOWN', up, registeredAt });
  assert.deepEqual(onePerName([i(false, 5), i(true, 1)]), [i(true, 1)]);
  assert.deepEqual(onePerName([i(true, 1), i(true, 5, 'http://b:1')]), [i(true, 5, 'http://b:1')]);
  assert.deepEqual(onePerName([i(true, 5), i(false, 9)]), [i(true, 5)]);
  assert.equal(onePerName([i(true, 1), { ...i(true, 1), name: 'b:2' }]).length, 2);
});
