/**
 * A histogram with one label, counted in plain arrays and rendered on scrape with prom-client's exact
 * shape (the same samples, labels, order and sums as prom-client's Histogram given the same
 * observations; test/ops/route-histogram.test.ts compares the two). Why not prom-client's: its observe
 * validates and hashes the label object on every call, cached child or not, and the gateway observes
 * once per request; this finds the bucket in the array and adds one.
 *
 * It takes part in a prom-client Registry through the registry's metric contract (`name`, `get()`,
 * `reset()`, `aggregator`), so /metrics and the cluster primary's merge treat it like any other.
 */
import type { MetricType, MetricValueWithName, Registry } from 'prom-client';

interface Series {
  /** Per bucket (not cumulative); the last slot is above every bound (+Inf). */
  counts: number[];
  sum: number;
  count: number;
}

export interface RouteHistogram {
  observe(labelValue: string, value: number): void;
}

export function createRouteHistogram(o: { name: string; help: string; labelName: string; buckets: readonly number[]; registry: Registry }): RouteHistogram {
  const bounds = [...o.buckets].sort((a, b) => a - b);
  const series = new Map<string, Series>();
  const metric = {
    name: o.name,
    help: o.help,
    type: 'histogram' as unknown as MetricType, // a const enum in the typings only: the string at run time
    aggregator: 'sum' as const, // each worker's requests are its own: buckets, sums and counts add up
    async get() {
      // Sample by sample as prom-client writes them (exemplar fields included), so a merge cannot tell them apart.
      const values: Array<MetricValueWithName<string> & { exemplar: null | undefined }> = [];
      for (const [labelValue, s] of series) {
        let acc = 0;
        for (let i = 0; i < bounds.length; i++) {
          acc += s.counts[i];
          values.push({ labels: { le: bounds[i], [o.labelName]: labelValue }, value: acc, metricName: `${o.name}_bucket`, exemplar: null });
        }
        values.push({ labels: { le: '+Inf', [o.labelName]: labelValue }, value: s.count, metricName: `${o.name}_bucket`, exemplar: null });
        values.push({ labels: { [o.labelName]: labelValue }, value: s.sum, metricName: `${o.name}_sum`, exemplar: undefined });
        values.push({ labels: { [o.labelName]: labelValue }, value: s.count, metricName: `${o.name}_count`, exemplar: undefined });
      }
      return { name: o.name, help: o.help, type: metric.type, values, aggregator: metric.aggregator };
    },
    reset: () => series.clear(),
  };
  o.registry.registerMetric(metric as never);
  return {
    observe(labelValue, value) {
      let s = series.get(labelValue);
      if (!s) series.set(labelValue, (s = { counts: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 }));
      let i = 0;
      while (i < bounds.length && value > bounds[i]) i++;
      s.counts[i]++;
      s.sum += value;
      s.count++;
    },
  };
}
