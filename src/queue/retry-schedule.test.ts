import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expiresAt, isExpired, nextAttemptAt, retryDelayMs } from './retry-schedule.js';

const s = { retryInitialSeconds: 60, retryMaxSeconds: 3600, lifetimeHours: 72 };

test('first retry after the initial delay, doubling, capped at the maximum', () => {
  const seq = [1, 2, 3, 4, 5, 6, 7, 8, 50, 5000].map((n) => retryDelayMs(n, s) / 1000);
  assert.deepEqual(seq, [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600]);
});

test('a maximum below the initial delay never shortens the first retry', () => {
  assert.equal(retryDelayMs(1, { ...s, retryInitialSeconds: 600, retryMaxSeconds: 60 }), 600_000);
});

test('lifetime: expiry instant, and no retry scheduled past it', () => {
  const t0 = 1_000_000;
  assert.equal(expiresAt(t0, s), t0 + 72 * 3_600_000);
  assert.equal(isExpired(t0, t0 + 72 * 3_600_000 - 1, s), false);
  assert.equal(isExpired(t0, t0 + 72 * 3_600_000, s), true);
  assert.equal(nextAttemptAt(1, t0, t0, s), t0 + 60_000);
  const late = t0 + 72 * 3_600_000 - 10_000;
  assert.equal(nextAttemptAt(10, t0, late, s), expiresAt(t0, s), 'the last retry is clamped to the expiry');
  assert.equal(nextAttemptAt(10, t0, expiresAt(t0, s), s), null);
});
