/**
 * The task locator's synchronous cache path: what makes a cached taskID follow-up cost what an execID one
 * does (no promise, no JSON rebuilt per request), while expiry, per-user entries and a changed registry
 * time still hold.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createUpstreamRegistry } from '../../src/control-plane/upstreams';
import { createTaskLocator } from '../../src/data-plane/task-locator';

const EXEC_ID = 'exec_id018013linkis-cg-entrance10.0.0.7:9104IDE_alice_spark_3';

function locator(clock: { t: number }, registeredAt: { t: number }) {
  return createTaskLocator({
    publicservice: createUpstreamRegistry([], { failureThreshold: 3, ejectMs: 1000, role: 'publicservice' }),
    cookieFor: () => '',
    cacheMs: 1000,
    connectTimeoutMs: 100,
    responseTimeoutMs: 100,
    registryTimestamp: () => registeredAt.t,
    now: () => clock.t,
  });
}

test('a learned task is found synchronously, as the same object until its registry time changes or it expires', async () => {
  const clock = { t: 10_000 };
  const registeredAt = { t: 0 };
  const l = locator(clock, registeredAt);
  try {
    assert.equal(l.cached('42', 'alice'), undefined);
    l.learn('alice', '42', EXEC_ID);
    const first = l.cached('42', 'alice');
    assert.deepEqual({ instance: first?.instance, source: first?.source }, { instance: '10.0.0.7:9104', source: 'cache' });
    assert.equal(JSON.parse(first!.jobInstanceKey).instanceRegistryTimestamp, 0);
    assert.equal(l.cached('42', 'alice'), first, 'nothing rebuilt on a hit');
    assert.equal(await l.locate('42', 'alice', 'r1'), first, 'locate answers a hit the same way');
    assert.equal(l.cached('42', 'bob'), undefined, "one user's task is not another's");
    registeredAt.t = 1_700_000_000_000; // the Entrance registered again: jobInstanceKey must say so
    const again = l.cached('42', 'alice');
    assert.notEqual(again, first);
    assert.equal(JSON.parse(again!.jobInstanceKey).instanceRegistryTimestamp, registeredAt.t);
    clock.t += 1000;
    assert.equal(l.cached('42', 'alice'), undefined, 'expired after cacheMs');
  } finally {
    l.close();
  }
});
