import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTicketCodec, type TicketCodec } from '../../src/linkis/ticket';
import { createTicketCache } from '../../src/data-plane/ticket-cache';

const codec = createTicketCodec('bdp-for-server');

function countingCodec(): TicketCodec & { mints: number } {
  const c = {
    mints: 0,
    mint(user: string, millis?: number) {
      c.mints++;
      return codec.mint(user, millis);
    },
    read: codec.read,
  };
  return c;
}

test('cache: same ticket within ttl, a fresh one after', () => {
  let clock = 1700000000000;
  const counting = countingCodec();
  const cache = createTicketCache(counting, 60_000, () => clock);
  const first = cache.ticketFor('hadoop');
  assert.deepEqual(codec.read(first), { user: 'hadoop', millis: 1700000000000 });
  clock += 59_999;
  assert.equal(cache.ticketFor('hadoop'), first);
  assert.equal(counting.mints, 1);
  const other = cache.ticketFor('root');
  assert.notEqual(other, first);
  clock += 1; // exactly ttl since the first mint
  const second = cache.ticketFor('hadoop');
  assert.notEqual(second, first);
  assert.deepEqual(codec.read(second), { user: 'hadoop', millis: 1700000060000 });
  assert.equal(cache.ticketFor('hadoop'), second);
  assert.equal(counting.mints, 3);
  cache.close();
});

test('cache: clock going backwards re-mints instead of trusting the entry', () => {
  let clock = 1_000_000;
  const counting = countingCodec();
  const cache = createTicketCache(counting, 60_000, () => clock);
  cache.ticketFor('hadoop');
  clock -= 10;
  cache.ticketFor('hadoop');
  assert.equal(counting.mints, 2);
});

test('cache: bounded, the oldest entry is evicted first', () => {
  let clock = 0;
  const counting = countingCodec();
  const cache = createTicketCache(counting, 60_000, () => clock, 3);
  for (const u of ['a', 'b', 'c', 'd']) cache.ticketFor(u); // 'a' evicted
  assert.equal(counting.mints, 4);
  for (const u of ['b', 'c', 'd']) cache.ticketFor(u);
  assert.equal(counting.mints, 4);
  cache.ticketFor('a');
  assert.equal(counting.mints, 5);
});

test('cache: default bound is 10,000 users', () => {
  const counting = countingCodec();
  const cache = createTicketCache(counting, 60_000, () => 0);
  for (let i = 0; i <= 10_000; i++) cache.ticketFor(`u${i}`); // u0 is evicted
  cache.ticketFor('u10000');
  cache.ticketFor('u1');
  assert.equal(counting.mints, 10_001);
  cache.ticketFor('u0');
  assert.equal(counting.mints, 10_002);
});

test('cache: close drops everything; later calls still mint valid tickets', () => {
  const counting = countingCodec();
  const cache = createTicketCache(counting, 60_000, () => 5);
  cache.ticketFor('hadoop');
  cache.close();
  assert.deepEqual(codec.read(cache.ticketFor('hadoop')), { user: 'hadoop', millis: 5 });
  cache.ticketFor('hadoop');
  assert.equal(counting.mints, 3);
});

test('cache: bad ttl is refused', () => {
  for (const ttl of [-1, NaN, Infinity]) assert.throws(() => createTicketCache(codec, ttl), RangeError);
});
