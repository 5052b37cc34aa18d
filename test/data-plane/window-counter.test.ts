/**
 * The synchronous window counter against express-rate-limit's own MemoryStore: the same generated
 * sequences of hits (keys, gaps between them, whole idle windows) give the same counts and reset times,
 * so the in-memory rate limit keeps express-rate-limit's meaning while skipping its async path.
 */
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import fc from 'fast-check';
import { MemoryStore } from 'express-rate-limit';
import { createWindowCounter } from '../../src/data-plane/window-counter';

const WINDOW_MS = 1000;

test('the window counter counts as express-rate-limit MemoryStore does (generated sequences, mocked clock)', async () => {
  const step = fc.record({ key: fc.constantFrom('10.0.0.1', '10.0.0.2', 'tok|alice', 'tok|bob'), gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 900, max: 3100 })) });
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 120 }), async (steps) => {
      mock.timers.enable({ apis: ['Date', 'setInterval'], now: 1_700_000_000_000 });
      const store = new MemoryStore();
      store.init({ windowMs: WINDOW_MS } as never);
      const counter = createWindowCounter(WINDOW_MS);
      try {
        for (const { key, gapMs } of steps) {
          mock.timers.tick(gapMs); // also fires both sweeps, which swap their maps on the same schedule
          const theirs = await store.increment(key);
          const ours = counter.hit(key);
          assert.equal(ours.totalHits, theirs.totalHits, `hits of ${key}`);
          assert.equal(ours.resetAt, theirs.resetTime!.getTime(), `reset time of ${key}`);
        }
      } finally {
        store.shutdown();
        counter.close();
        mock.timers.reset();
      }
    }),
    { numRuns: 300 },
  );
});

test('a limit is exact: hits 1..limit pass, the next is over, and a new window starts at zero', () => {
  const counter = createWindowCounter(WINDOW_MS);
  try {
    const t0 = 5_000;
    const hits = Array.from({ length: 4 }, (_, i) => counter.hit('k', t0 + i).totalHits);
    assert.deepEqual(hits, [1, 2, 3, 4]);
    assert.equal(counter.hit('k', t0 + WINDOW_MS - 1).resetAt, t0 + WINDOW_MS, 'the window is fixed at the first hit');
    const next = counter.hit('k', t0 + WINDOW_MS);
    assert.deepEqual({ ...next }, { totalHits: 1, resetAt: t0 + 2 * WINDOW_MS });
    assert.equal(counter.hit('other', t0).totalHits, 1, 'keys are counted apart');
  } finally {
    counter.close();
  }
});

test('idle keys are dropped after two sweeps, so one-off clients cannot grow the counter', () => {
  mock.timers.enable({ apis: ['Date', 'setInterval'], now: 0 });
  const counter = createWindowCounter(WINDOW_MS);
  try {
    for (let i = 0; i < 1000; i++) counter.hit(`client-${i}`);
    assert.equal(counter.size, 1000);
    mock.timers.tick(WINDOW_MS);
    assert.equal(counter.size, 1000, 'still within reach for one more window');
    mock.timers.tick(WINDOW_MS);
    assert.equal(counter.size, 0);
  } finally {
    counter.close();
    mock.timers.reset();
  }
});
