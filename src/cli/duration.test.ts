import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from './duration.js';

test('durations: m, h, d, w; anything else is a usage error', () => {
  assert.equal(parseDuration('90m'), 90 * 60_000);
  assert.equal(parseDuration('24h'), 86_400_000);
  assert.equal(parseDuration('7d'), 7 * 86_400_000);
  assert.equal(parseDuration('2W'), 14 * 86_400_000);
  for (const bad of ['', '24', 'h', '1.5h', '0h', '-1d', '3y']) assert.throws(() => parseDuration(bad), /is not a duration/, bad);
});
