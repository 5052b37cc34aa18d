/**
 * A stand-in for Linkis's service registry, on 127.0.0.1 port 0: Eureka's REST API (`/eureka/apps/{APP}`,
 * `/eureka/apps/delta`) and Nacos's open API (`/nacos/v1/ns/instance/list`), answering in their documented
 * JSON shapes (Eureka's Jackson codec, Nacos's open-API doc) with what a Linkis service registers
 * (application-linkis.yml: 4 s renewals, 12 s leases, prometheus.path and linkis.app.version metadata).
 * Tests register, change and remove instances, and take the registry away, at any time.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type EurekaStatus = 'UP' | 'DOWN' | 'OUT_OF_SERVICE' | 'STARTING' | 'UNKNOWN';

export interface StandinInstance {
  app: string;
  id: string;
  hostName: string;
  ipAddr: string;
  port: number;
  status: EurekaStatus;
  /** Eureka's lease: a new one, so a new registrationTimestamp, on every register (a client status change too). */
  registeredAt: number;
  /** serviceUpTimestamp: set when first UP, carried over while the lease lives, 0 before. */
  upSince: number;
  /** Nacos's view: set by the test, `healthy` follows status unless given. */
  healthy: boolean;
  enabled: boolean;
  weight: number;
  namespace: string;
  group: string;
}

export interface RegistryStandin {
  url: string;
  /** Eureka's defaultZone, as Linkis writes it. */
  eurekaUrl: string;
  nacosUrl: string;
  /** `normal`; `hang`: accepts and never answers; `error`: HTTP 500; `empty`: lists nothing, as a restarted Eureka does. */
  mode: 'normal' | 'hang' | 'error' | 'empty';
  /** eureka.shouldDisableDelta: /apps/delta answers 403. */
  deltaDisabled: boolean;
  /** When set, every request must carry this Authorization header (Eureka behind basic auth). */
  auth?: string;
  /** Paths (with query) asked, in order. */
  readonly requests: string[];
  register(app: string, o: Partial<Omit<StandinInstance, 'app' | 'port'>> & { port: number }): StandinInstance;
  /** The instance's own client changes status, which registers it again (a new lease, the same upSince). */
  setStatus(id: string, status: EurekaStatus): void;
  setNacos(id: string, o: Partial<Pick<StandinInstance, 'healthy' | 'enabled' | 'weight'>>): void;
  deregister(id: string): void;
  /** The registry goes away: connections are refused until start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startRegistryStandin(): Promise<RegistryStandin> {
  const live = new Map<string, StandinInstance>();
  // Eureka keeps the latest change of each instance for 3 minutes (the delta); deleted ones with it.
  const changes = new Map<string, { action: 'ADDED' | 'MODIFIED' | 'DELETED'; at: number; instance: StandinInstance }>();
  const hanging = new Set<ServerResponse>();
  let version = 0;
  const changed = (i: StandinInstance, action: 'ADDED' | 'MODIFIED' | 'DELETED') => {
    version++;
    changes.set(i.id, { action, at: Date.now(), instance: { ...i } });
  };

  const eurekaJson = (i: StandinInstance, actionType: string) => ({
    instanceId: i.id,
    hostName: i.hostName,
    app: i.app.toUpperCase(),
    ipAddr: i.ipAddr,
    status: i.status,
    overriddenStatus: 'UNKNOWN',
    port: { $: i.port, '@enabled': 'true' },
    securePort: { $: 443, '@enabled': 'false' },
    countryId: 1,
    dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
    leaseInfo: { renewalIntervalInSecs: 4, durationInSecs: 12, registrationTimestamp: i.registeredAt, lastRenewalTimestamp: Date.now(), evictionTimestamp: 0, serviceUpTimestamp: i.upSince },
    metadata: { 'prometheus.path': '/api/rest_j/v1/actuator/prometheus', 'linkis.app.version': '1.8.0', 'management.port': String(i.port) },
    homePageUrl: `http://${i.hostName}:${i.port}/`,
    statusPageUrl: `http://${i.hostName}:${i.port}/actuator/info`,
    healthCheckUrl: `http://${i.hostName}:${i.port}/actuator/health`,
    vipAddress: i.app,
    secureVipAddress: i.app,
    isCoordinatingDiscoveryServer: 'false',
    lastUpdatedTimestamp: String(i.registeredAt),
    lastDirtyTimestamp: String(i.registeredAt),
    actionType,
  });
  const nacosJson = (i: StandinInstance) => ({
    instanceId: `${i.ipAddr}#${i.port}#DEFAULT#${i.group}@@${i.app}`,
    ip: i.ipAddr,
    port: i.port,
    weight: i.weight,
    healthy: i.healthy,
    enabled: i.enabled,
    ephemeral: true,
    clusterName: 'DEFAULT',
    serviceName: `${i.group}@@${i.app}`,
    metadata: { 'prometheus.path': '/api/rest_j/v1/actuator/prometheus', 'linkis.app.version': '1.8.0', 'preserved.register.source': 'SPRING_CLOUD' },
    instanceHeartBeatInterval: 5000,
    instanceIdGenerator: 'simple',
    instanceHeartBeatTimeOut: 15000,
    ipDeleteTimeout: 30000,
  });
  const send = (res: ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(body === undefined ? '' : JSON.stringify(body));
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    standin.requests.push(req.url ?? '');
    if (standin.mode === 'hang') return void hanging.add(res);
    if (standin.mode === 'error') return send(res, 500, { error: 'Internal Server Error' });
    if (standin.auth && req.headers.authorization !== standin.auth) return send(res, 401);
    const url = new URL(req.url ?? '/', 'http://standin');
    const all = standin.mode === 'empty' ? [] : [...live.values()];
    if (url.pathname === '/eureka/apps/delta') {
      if (standin.deltaDisabled) return send(res, 403);
      const recent = [...changes.values()].filter((c) => Date.now() - c.at < 180_000 && standin.mode !== 'empty');
      const apps = [...new Set(recent.map((c) => c.instance.app.toUpperCase()))];
      const application = apps.map((name) => ({ name, instance: recent.filter((c) => c.instance.app.toUpperCase() === name).map((c) => eurekaJson(c.instance, c.action)) }));
      return send(res, 200, { applications: { versions__delta: String(version), apps__hashcode: `UP_${all.length}_`, application } });
    }
    const app = /^\/eureka\/apps\/([^/]+)$/.exec(url.pathname)?.[1]?.toUpperCase();
    if (app) {
      const mine = all.filter((i) => i.app.toUpperCase() === app);
      // Eureka answers 404 for an application with no instance registered.
      if (mine.length === 0) return send(res, 404);
      return send(res, 200, { application: { name: app, instance: mine.map((i) => eurekaJson(i, changes.get(i.id)?.action ?? 'ADDED')) } });
    }
    if (url.pathname === '/nacos/v1/ns/instance/list') {
      const service = url.searchParams.get('serviceName') ?? '';
      const group = url.searchParams.get('groupName') || 'DEFAULT_GROUP';
      const ns = url.searchParams.get('namespaceId') || 'public';
      const hosts = all.filter((i) => i.app === service && i.group === group && i.namespace === ns).map(nacosJson);
      return send(res, 200, { name: `${group}@@${service}`, groupName: group, clusters: '', cacheMillis: 10000, hosts, lastRefTime: Date.now(), checksum: '', allIPs: false, reachProtectionThreshold: false, valid: true });
    }
    send(res, 404, { error: 'Not Found', path: url.pathname });
  };

  const server = createServer(handle);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise<void>((ok) => {
      for (const res of hanging) res.destroy();
      hanging.clear();
      server.close(() => ok());
      server.closeAllConnections();
    });

  const standin: RegistryStandin = {
    url,
    eurekaUrl: `${url}/eureka/`,
    nacosUrl: `${url}/nacos`,
    mode: 'normal',
    deltaDisabled: false,
    requests: [],
    register(app, o) {
      const hostName = o.hostName ?? '127.0.0.1';
      const status = o.status ?? 'UP';
      const id = o.id ?? `${hostName}:${app}:${o.port}`;
      const registeredAt = o.registeredAt ?? Date.now();
      const i: StandinInstance = {
        app,
        id,
        hostName,
        ipAddr: o.ipAddr ?? '127.0.0.1',
        port: o.port,
        status,
        registeredAt,
        // AbstractInstanceRegistry.register: a live lease's serviceUpTimestamp survives the new registration.
        upSince: o.upSince ?? (live.get(id)?.upSince || (status === 'UP' ? registeredAt : 0)),
        healthy: o.healthy ?? status === 'UP',
        enabled: o.enabled ?? true,
        weight: o.weight ?? 1,
        namespace: o.namespace ?? 'public',
        group: o.group ?? 'DEFAULT_GROUP',
      };
      live.set(i.id, i);
      changed(i, 'ADDED');
      return i;
    },
    setStatus(id, status) {
      const i = live.get(id)!;
      Object.assign(i, { status, healthy: status === 'UP', registeredAt: Date.now(), upSince: i.upSince || (status === 'UP' ? Date.now() : 0) });
      changed(i, 'MODIFIED');
    },
    setNacos(id, o) {
      const i = live.get(id)!;
      Object.assign(i, o);
      changed(i, 'MODIFIED');
    },
    deregister(id) {
      const i = live.get(id)!;
      live.delete(id);
      changed(i, 'DELETED');
    },
    stop,
    start: () => new Promise<void>((ok, fail) => server.once('error', fail).listen(port, '127.0.0.1', () => ok())),
    close: async () => {
      if (server.listening) await stop();
    },
  };
  return standin;
}
