/**
 * The request-duration histogram is counted by hand; what a scrape sees must be exactly what prom-client's
 * own Histogram shows for the same observations: the text, the JSON the cluster primary merges, and the
 * merge of two workers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { createRouteHistogram } from '../../src/ops/route-histogram';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const NAME = 'linkis_gateway_request_duration_seconds';
const HELP = 'Time from request to the end of the answer, by route kind';

function both(observations: Array<[string, number]>) {
  const ours = new Registry();
  const theirs = new Registry();
  const h = createRouteHistogram({ name: NAME, help: HELP, labelName: 'route', buckets: BUCKETS, registry: ours });
  const ref = new Histogram({ name: NAME, help: HELP, labelNames: ['route'], buckets: BUCKETS, registers: [theirs] });
  for (const [route, v] of observations) {
    h.observe(route, v);
    ref.observe({ route }, v);
  }
  return { ours, theirs };
}

const observation = fc.tuple(fc.constantFrom('status', 'log', 'submit', 'other'), fc.oneof(fc.constantFrom(...BUCKETS), fc.double({ min: 0, max: 60, noNaN: true })));

test('the same samples as prom-client Histogram, as text and as JSON (generated observations)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(observation, { maxLength: 200 }), async (obs) => {
      const { ours, theirs } = both(obs);
      assert.equal(await ours.metrics(), await theirs.metrics());
      assert.deepEqual(await ours.getMetricsAsJSON(), await theirs.getMetricsAsJSON());
    }),
    { numRuns: 300 },
  );
});

test('two workers merge as prom-client histograms do (the cluster primary sums them)', async () => {
  const a = both([['status', 0.002], ['status', 0.2], ['log', 3]]);
  const b = both([['status', 0.0009], ['submit', 40]]);
  const merged = (x: Registry, y: Registry) => AggregatorRegistry.aggregate([x, y].map((r) => r.getMetricsAsJSON()) as never);
  const ours = AggregatorRegistry.aggregate([await a.ours.getMetricsAsJSON(), await b.ours.getMetricsAsJSON()]);
  const theirs = AggregatorRegistry.aggregate([await a.theirs.getMetricsAsJSON(), await b.theirs.getMetricsAsJSON()]);
  void merged;
  const text = await ours.metrics();
  assert.equal(text, await theirs.metrics());
  assert.match(text, /_count\{route="status"\} 3\n/);
});
