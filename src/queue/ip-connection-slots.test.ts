import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IpConnectionSlots } from './ip-connection-slots.js';

test('at most `limit` slots per IP; others wait in order; other IPs are independent; release is idempotent', async () => {
  let limit = 2;
  const slots = new IpConnectionSlots(() => limit);
  const a1 = await slots.acquire('192.0.2.1');
  const a2 = await slots.acquire('192.0.2.1');
  const b1 = await slots.acquire('192.0.2.2');
  assert.equal(slots.inUse('192.0.2.1'), 2);
  const order: string[] = [];
  const a3 = slots.acquire('192.0.2.1').then((r) => (order.push('a3'), r));
  const a4 = slots.acquire('192.0.2.1').then((r) => (order.push('a4'), r));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, [], 'the third and fourth wait');
  a1();
  a1();
  const r3 = await a3;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['a3'], 'one release lets exactly one waiter in, the first');
  assert.equal(slots.inUse('192.0.2.1'), 2);
  // A higher limit (new configuration) applies to the next acquire.
  limit = 3;
  a2();
  const r4 = await a4;
  assert.deepEqual(order, ['a3', 'a4']);
  r3();
  r4();
  b1();
  assert.equal(slots.inUse('192.0.2.1'), 0);
  assert.equal(slots.inUse('192.0.2.2'), 0);
});
