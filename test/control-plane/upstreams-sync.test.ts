import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createUpstreamRegistry, takesSubmissions, type DiscoveredInstance } from '../../src/control-plane/upstreams';

const found = (name: string, status = 'UP', registeredAt = 1000, url = `http://${name}`): DiscoveredInstance => ({ name, url, status, up: status === 'UP', registeredAt });

function setup(configured: Array<{ name: string; url: string }> = []) {
  const reg = createUpstreamRegistry(configured, { failureThreshold: 1, ejectMs: 60_000 });
  const events: string[] = [];
  reg.onChange((u, why) => events.push(`${u.name} ${why}`));
  const picks = (n: number) => Array.from({ length: n }, () => reg.pick()?.name);
  return { reg, events, picks };
}

test('sync adds what the registry lists, with its status and registry time; only UP ones take submissions', () => {
  const { reg, events, picks } = setup();
  assert.deepEqual(reg.sync([found('a:1'), found('b:2', 'STARTING', 2000)]), ['a:1', 'b:2']);
  assert.deepEqual(reg.get('b:2')!.registration, { status: 'STARTING', up: false, registeredAt: 2000, listed: true });
  assert.deepEqual(picks(3), ['a:1', 'a:1', 'a:1']);
  assert.equal(takesSubmissions(reg.get('b:2')!), false);
  assert.deepEqual(events, ['a:1 registered (UP) at http://a:1', 'b:2 registered (STARTING) at http://b:2']);

  // STARTING -> UP: submissions go to both; a second identical listing changes nothing.
  assert.deepEqual(reg.sync([found('a:1'), found('b:2', 'UP', 2000)]), []);
  assert.deepEqual(new Set(picks(4)), new Set(['a:1', 'b:2']));
  reg.sync([found('a:1'), found('b:2', 'UP', 2000)]);
  assert.equal(events.length, 3);
});

test('DOWN, OUT_OF_SERVICE: no submissions, but follow-ups still find the instance by name', () => {
  const { reg, picks } = setup();
  reg.sync([found('a:1'), found('b:2')]);
  for (const status of ['DOWN', 'OUT_OF_SERVICE', 'UNKNOWN']) {
    reg.sync([found('a:1'), found('b:2', status)]);
    assert.deepEqual(picks(4), ['a:1', 'a:1', 'a:1', 'a:1'], status);
    assert.equal(reg.get('b:2')?.registration?.status, status);
  }
  reg.sync([found('a:1', 'DOWN'), found('b:2', 'DOWN')]);
  assert.equal(reg.pick(), undefined);
});

test('an instance that leaves the registry serves follow-ups until it stops answering, then is removed', () => {
  const { reg, events, picks } = setup();
  reg.sync([found('a:1'), found('b:2')]);
  reg.sync([found('a:1')]);
  const b = reg.get('b:2')!;
  assert.deepEqual(b.registration, { status: 'GONE', up: false, registeredAt: 1000, listed: false });
  assert.deepEqual(picks(3), ['a:1', 'a:1', 'a:1']);
  // Still answering: kept however many listings go by.
  reg.sync([found('a:1')]);
  reg.sync([found('a:1')]);
  assert.equal(reg.get('b:2'), b);
  // It stops answering (a failed connection or an active check): the next listing removes it.
  reg.markFailure('b:2');
  assert.equal(reg.get('b:2'), b);
  reg.sync([found('a:1')]);
  assert.equal(reg.get('b:2'), undefined);
  assert.deepEqual(reg.all().map((u) => u.name), ['a:1']);
  assert.ok(events.includes('b:2 removed: left the registry and stopped answering'), events.join('\n'));
});

test('an instance that comes back is listed again with its new registration', () => {
  const { reg } = setup();
  reg.sync([found('a:1', 'UP', 1000)]);
  reg.sync([]);
  assert.equal(reg.get('a:1')!.registration!.listed, false);
  reg.sync([found('a:1', 'UP', 5000)]);
  assert.deepEqual(reg.get('a:1')!.registration, { status: 'UP', up: true, registeredAt: 5000, listed: true });
  assert.equal(reg.pick()?.name, 'a:1');
});

test('a name at a new address is a new upstream; configured instances are never touched by a listing', () => {
  const { reg } = setup([{ name: 'static:1', url: 'http://10.0.0.1:1' }]);
  reg.sync([found('a:1'), found('static:1', 'DOWN', 1, 'http://elsewhere:1')]);
  const a = reg.get('a:1')!;
  reg.markFailure('a:1');
  assert.equal(a.healthy, false);
  reg.sync([found('a:1', 'UP', 1000, 'http://10.9.9.9:1')]);
  const moved = reg.get('a:1')!;
  assert.notEqual(moved, a);
  assert.equal(moved.url, 'http://10.9.9.9:1');
  assert.equal(moved.healthy, true);
  const s = reg.get('static:1')!;
  assert.equal(s.registration, undefined);
  assert.equal(s.url, 'http://10.0.0.1:1');
  assert.equal(takesSubmissions(s), true);
});

test('draining and health still apply to discovered instances', () => {
  const { reg, picks } = setup();
  reg.sync([found('a:1'), found('b:2')]);
  assert.equal(reg.setDraining('b:2', true), true);
  assert.deepEqual(picks(2), ['a:1', 'a:1']);
  reg.setHealthy('a:1', false, 'active check');
  assert.equal(reg.pick(), undefined);
});
