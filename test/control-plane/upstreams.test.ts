import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createUpstreamRegistry, type Upstream } from '../../src/control-plane/upstreams';

const INSTANCES = [
  { name: 'a:1', url: 'http://10.0.0.1:1' },
  { name: 'b:2', url: 'http://10.0.0.2:2' },
  { name: 'c:3', url: 'http://10.0.0.3:3' },
];

function setup(opts: { failureThreshold?: number; ejectMs?: number } = {}) {
  const clock = { t: 1_000_000 };
  const reg = createUpstreamRegistry(INSTANCES, { failureThreshold: opts.failureThreshold ?? 3, ejectMs: opts.ejectMs ?? 10_000, now: () => clock.t });
  const picks = (n: number, exclude?: ReadonlySet<string>) => Array.from({ length: n }, () => reg.pick(exclude)?.name);
  return { reg, clock, picks };
}

test('initial state: every instance healthy, not draining, no failures; get by name', () => {
  const { reg } = setup();
  assert.deepEqual(
    reg.all().map((u) => ({ ...u })),
    INSTANCES.map((i) => ({ name: i.name, role: 'Entrance', url: i.url, healthy: true, draining: false, consecutiveFailures: 0, inFlight: 0 })),
  );
  assert.equal(reg.get('b:2')?.url, 'http://10.0.0.2:2');
  assert.equal(reg.get('b:2'), reg.all()[1]);
  assert.equal(reg.get('nope:1'), undefined);
  assert.equal(reg.get('B:2'), undefined);
  assert.equal(reg.get('toString'), undefined);
});

test('round-robin over all instances', () => {
  const { picks } = setup();
  assert.deepEqual(picks(7), ['a:1', 'b:2', 'c:3', 'a:1', 'b:2', 'c:3', 'a:1']);
});

test('round-robin skips draining instances, and takes them back when draining ends', () => {
  const { reg, picks } = setup();
  assert.equal(reg.setDraining('b:2', true), true);
  assert.equal(reg.get('b:2')?.draining, true);
  assert.deepEqual(picks(4), ['a:1', 'c:3', 'a:1', 'c:3']);
  reg.setDraining('b:2', false);
  assert.deepEqual(picks(3), ['a:1', 'b:2', 'c:3']);
  assert.equal(reg.setDraining('nope:1', true), false);
});

test('pick skips excluded instances without losing the rotation', () => {
  const { reg, picks } = setup();
  assert.deepEqual(picks(3, new Set(['a:1'])), ['b:2', 'c:3', 'b:2']);
  assert.equal(reg.pick(new Set(['a:1', 'b:2', 'c:3'])), undefined);
  assert.equal(reg.pick(new Set(['unknown:9']))?.name, 'c:3');
});

test('pick returns undefined when no instance is eligible', () => {
  const empty = createUpstreamRegistry([], { failureThreshold: 1, ejectMs: 1000 });
  assert.equal(empty.pick(), undefined);
  assert.deepEqual(empty.all(), []);

  const { reg } = setup({ failureThreshold: 1 });
  reg.setDraining('a:1', true);
  reg.markFailure('b:2');
  assert.equal(reg.pick(new Set(['c:3'])), undefined);
  reg.markFailure('c:3');
  assert.equal(reg.pick(), undefined);
});

test('passive ejection after failureThreshold consecutive failures', () => {
  const { reg, picks } = setup({ failureThreshold: 3 });
  reg.markFailure('b:2');
  reg.markFailure('b:2');
  assert.equal(reg.get('b:2')?.healthy, true);
  assert.equal(reg.get('b:2')?.consecutiveFailures, 2);
  assert.deepEqual(picks(3), ['a:1', 'b:2', 'c:3']);
  reg.markFailure('b:2');
  assert.equal(reg.get('b:2')?.healthy, false);
  assert.equal(reg.get('b:2')?.consecutiveFailures, 3);
  assert.deepEqual(picks(4), ['a:1', 'c:3', 'a:1', 'c:3']);
  // Other instances are unaffected.
  assert.equal(reg.get('a:1')?.consecutiveFailures, 0);
  // Failures for unknown names are ignored.
  reg.markFailure('nope:1');
  reg.markSuccess('nope:1');
});

test('a success resets the consecutive-failure count', () => {
  const { reg } = setup({ failureThreshold: 3 });
  reg.markFailure('a:1');
  reg.markFailure('a:1');
  reg.markSuccess('a:1');
  assert.equal(reg.get('a:1')?.consecutiveFailures, 0);
  reg.markFailure('a:1');
  reg.markFailure('a:1');
  assert.equal(reg.get('a:1')?.healthy, true, 'two failures after a success do not eject');
  reg.markFailure('a:1');
  assert.equal(reg.get('a:1')?.healthy, false);
  reg.markSuccess('a:1');
  assert.equal(reg.get('a:1')?.healthy, true, 'a success revives an ejected instance');
  assert.equal(reg.get('a:1')?.consecutiveFailures, 0);
});

test('an ejected instance is offered again after ejectMs; a failed trial restarts the period', () => {
  const { reg, clock, picks } = setup({ failureThreshold: 1, ejectMs: 10_000 });
  reg.markFailure('a:1');
  assert.equal(reg.get('a:1')?.healthy, false);
  clock.t += 9_999;
  assert.ok(!picks(6).includes('a:1'), 'still ejected just before ejectMs');
  clock.t += 1;
  assert.ok(picks(3).includes('a:1'), 'offered again at ejectMs');
  // The trial fails: out again for a full period from now.
  reg.markFailure('a:1');
  assert.equal(reg.get('a:1')?.healthy, false);
  clock.t += 9_999;
  assert.ok(!picks(6).includes('a:1'), 'the failed trial restarted the ejection period');
  clock.t += 1;
  assert.ok(picks(3).includes('a:1'));
  // The trial succeeds: back in the rotation for good.
  reg.markSuccess('a:1');
  assert.equal(reg.get('a:1')?.healthy, true);
  clock.t += 1;
  assert.equal(picks(6).filter((n) => n === 'a:1').length, 2);
});

test('an ejected but draining instance is not offered after ejectMs', () => {
  const { reg, clock, picks } = setup({ failureThreshold: 1, ejectMs: 100 });
  reg.markFailure('c:3');
  reg.setDraining('c:3', true);
  clock.t += 1000;
  assert.ok(!picks(6).includes('c:3'));
});

test('onChange fires on health and draining changes only, and can be unsubscribed', () => {
  const { reg } = setup({ failureThreshold: 2 });
  const seen: Array<[string, boolean, boolean]> = [];
  const off = reg.onChange((u: Upstream) => seen.push([u.name, u.healthy, u.draining]));
  reg.markFailure('a:1'); // below threshold: no change
  assert.deepEqual(seen, []);
  reg.markFailure('a:1'); // ejected
  assert.deepEqual(seen, [['a:1', false, false]]);
  reg.markFailure('a:1'); // already ejected: no new event
  assert.equal(seen.length, 1);
  reg.markSuccess('a:1'); // revived
  assert.deepEqual(seen[1], ['a:1', true, false]);
  reg.markSuccess('a:1'); // no change
  assert.equal(seen.length, 2);
  reg.setDraining('b:2', true);
  assert.deepEqual(seen[2], ['b:2', true, true]);
  reg.setDraining('b:2', true); // no change
  assert.equal(seen.length, 3);
  reg.setDraining('b:2', false);
  assert.deepEqual(seen[3], ['b:2', true, false]);
  off();
  reg.setDraining('c:3', true);
  assert.equal(seen.length, 4, 'no events after unsubscribe');

  const other: string[] = [];
  reg.onChange((u) => other.push(u.name));
  reg.close();
  reg.setDraining('c:3', false);
  assert.deepEqual(other, [], 'close removes every listener');
});

test('property: pick only ever returns eligible instances, and cycles fairly among them', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ draining: fc.boolean(), failures: fc.nat({ max: 4 }), excluded: fc.boolean() }), { minLength: 1, maxLength: 6 }),
      fc.nat({ max: 20 }),
      (states, warmup) => {
        const instances = states.map((_, i) => ({ name: `h${i}:${i + 1}`, url: `http://h${i}:${i + 1}` }));
        const reg = createUpstreamRegistry(instances, { failureThreshold: 3, ejectMs: 1000, now: () => 0 });
        const exclude = new Set<string>();
        states.forEach((s, i) => {
          const name = instances[i].name;
          reg.setDraining(name, s.draining);
          for (let k = 0; k < s.failures; k++) reg.markFailure(name);
          if (s.excluded) exclude.add(name);
        });
        const eligible = states
          .map((s, i) => ({ s, name: instances[i].name }))
          .filter(({ s }) => !s.draining && s.failures < 3 && !s.excluded)
          .map(({ name }) => name);
        for (let k = 0; k < warmup; k++) reg.pick(exclude);
        const got = Array.from({ length: eligible.length * 2 }, () => reg.pick(exclude)?.name);
        if (eligible.length === 0) {
          assert.equal(reg.pick(exclude), undefined);
          return;
        }
        for (const name of got) assert.ok(name !== undefined && eligible.includes(name), String(name));
        // Two full rounds visit every eligible instance exactly twice.
        for (const name of eligible) assert.equal(got.filter((n) => n === name).length, 2, name);
      },
    ),
    { numRuns: 500 },
  );
});
