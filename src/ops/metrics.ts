/**
 * Prometheus metrics (prom-client) in a registry of their own: no global default registry, so two
 * gateways in one test process never share counters. Label values come from small fixed sets (route
 * kinds, status codes, configured instance names, refusal reasons), never from users or execIDs.
 *
 * With several workers the cluster primary merges every worker's registry (ops-routes.ts) by each
 * metric's `aggregator`: prom-client sums by default, right for counters, histograms and requests in
 * flight, wrong for a gauge every worker reports the same thing in (each Entrance's state, the tokens).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { createRouteHistogram } from './route-histogram';
import { takesSubmissions, type UpstreamRegistry } from '../control-plane/upstreams';

export interface GatewayMetrics {
  readonly registry: Registry;
  /** One finished request: route kind, HTTP status, instance (or "none"), duration in seconds. */
  request(route: string, status: number, instance: string | undefined, seconds: number): void;
  auth(outcome: string): void;
  upstreamFailure(instance: string, failure: string): void;
  rateLimited(scope: 'client' | 'user'): void;
  allowlistReload(ok: boolean, tokens: number): void;
  /** One read of the service registry (gateway.discovery): answered and applied, or not. */
  discoveryRefresh(registry: string, ok: boolean): void;
  render(): Promise<string>;
  close(): void;
}

export function createMetrics(pools: UpstreamRegistry | readonly UpstreamRegistry[], opts: { processMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  // Entrances and publicservice instances alike (instance names are host:port, distinct across both).
  const upstreams = { all: () => (Array.isArray(pools) ? pools : [pools as UpstreamRegistry]).flatMap((p) => p.all()) };
  // Counted per request in a plain map (one lookup and an add); prom-client gets the sums when scraped.
  const requestCounts = new Map<string, { labels: { route: string; code: string; instance: string }; n: number; reported: number }>();
  new Counter({
    name: 'linkis_gateway_requests_total',
    help: 'Requests answered, by route kind, HTTP status and Entrance instance',
    labelNames: ['route', 'code', 'instance'] as const,
    registers: [registry],
    collect() {
      for (const c of requestCounts.values()) {
        if (c.n > c.reported) this.inc(c.labels, c.n - c.reported);
        c.reported = c.n;
      }
    },
  });
  const duration = createRouteHistogram({
    name: 'linkis_gateway_request_duration_seconds',
    help: 'Time from request to the end of the answer, by route kind',
    labelName: 'route',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registry,
  });
  const auth = new Counter({ name: 'linkis_gateway_auth_total', help: 'Proxy-user authentication outcomes', labelNames: ['outcome'] as const, registers: [registry] });
  const failures = new Counter({ name: 'linkis_gateway_upstream_failures_total', help: 'Failed connections to Entrances, by kind (refused, timeout, reset, ...)', labelNames: ['instance', 'failure'] as const, registers: [registry] });
  const limited = new Counter({ name: 'linkis_gateway_rate_limited_total', help: 'Requests refused by a rate limit, by scope', labelNames: ['scope'] as const, registers: [registry] });
  const reloads = new Counter({ name: 'linkis_gateway_allowlist_reloads_total', help: 'proxy.properties reloads, by result', labelNames: ['result'] as const, registers: [registry] });
  // Every worker loads the same file: they differ only for the instant of a reload, so one value, not the sum.
  const tokens = new Gauge({ name: 'linkis_gateway_allowlist_tokens', help: 'Tokens in the allowlist in force', aggregator: 'max', registers: [registry] });
  // Read from the registry when scraped, so the hot path does no gauge bookkeeping.
  new Gauge({
    name: 'linkis_gateway_upstream_healthy',
    help: '1 if the Entrance is taking new jobs (healthy, not draining, UP in the service registry), else 0',
    labelNames: ['instance'] as const,
    registers: [registry],
    // Each worker checks health on its own: 1 when at least one worker sends the instance new jobs, so
    // `sum(linkis_gateway_upstream_healthy) == 0` still means no new job can go anywhere.
    aggregator: 'max',
    collect() {
      this.reset(); // instances discovery removed are no longer reported
      for (const u of upstreams.all()) this.set({ instance: u.name }, takesSubmissions(u) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'linkis_gateway_upstream_in_flight',
    help: 'Requests in flight to each Entrance',
    labelNames: ['instance'] as const,
    // Summed across workers (prom-client's default): each worker's requests are its own.
    registers: [registry],
    collect() {
      this.reset();
      for (const u of upstreams.all()) this.set({ instance: u.name }, u.inFlight);
    },
  });
  // Labelled by registry, so a gateway without discovery exports no series at all. Each worker reads the
  // registry on its own: 0 when any of them could not.
  const registryUp = new Gauge({ name: 'linkis_gateway_discovery_up', help: '1 if the last read of the service registry succeeded, else 0 (the last known instances stay in force)', labelNames: ['registry'] as const, aggregator: 'min', registers: [registry] });
  const registryReads = new Counter({ name: 'linkis_gateway_discovery_refreshes_total', help: 'Reads of the service registry, by result', labelNames: ['registry', 'result'] as const, registers: [registry] });
  if (opts.processMetrics !== false) {
    collectDefaultMetrics({ register: registry, prefix: 'linkis_gateway_' });
    // prom-client already aggregates event-loop lag (average/min/max) and start time (omitted); memory and
    // CPU add up to the gateway's total. The open-file limit is each process's own: not a total.
    const maxFds = registry.getSingleMetric('linkis_gateway_process_max_fds') as { aggregator?: string } | undefined;
    if (maxFds) maxFds.aggregator = 'max';
  }

  // prom-client hashes and validates a label object on every call, cached child or not: the hot path
  // counts in plain structures instead (the label sets are small and fixed).
  return {
    registry,
    request(route, status, instance, seconds) {
      const key = `${route}|${status}|${instance ?? ''}`;
      const c = requestCounts.get(key);
      if (c) c.n++;
      else requestCounts.set(key, { labels: { route, code: String(status), instance: instance ?? 'none' }, n: 1, reported: 0 });
      duration.observe(route, seconds);
    },
    auth: (outcome) => auth.inc({ outcome }),
    upstreamFailure: (instance, failure) => failures.inc({ instance, failure }),
    rateLimited: (scope) => limited.inc({ scope }),
    allowlistReload(ok, n) {
      reloads.inc({ result: ok ? 'ok' : 'failed' });
      tokens.set(n);
    },
    discoveryRefresh(name, ok) {
      registryUp.set({ registry: name }, ok ? 1 : 0);
      registryReads.inc({ registry: name, result: ok ? 'ok' : 'failed' });
    },
    render: () => registry.metrics(),
    close: () => registry.clear(),
  };
}
