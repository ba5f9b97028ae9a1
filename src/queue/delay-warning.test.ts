import assert from 'node:assert/strict';
import { test } from 'node:test';
import { delayWarningDue } from './delay-warning.js';

const H = 3_600_000;

test('due once the message has waited delayWarningHours; never when 0; never for the null sender', () => {
  const m = { from: 'a@b.test', receivedAt: 1000 };
  assert.equal(delayWarningDue(m, 1000 + 4 * H - 1, { delayWarningHours: 4 }), false);
  assert.equal(delayWarningDue(m, 1000 + 4 * H, { delayWarningHours: 4 }), true);
  assert.equal(delayWarningDue(m, 1000 + 0.5 * H, { delayWarningHours: 0.5 }), true);
  assert.equal(delayWarningDue(m, 1000 + 100 * H, { delayWarningHours: 0 }), false);
  assert.equal(delayWarningDue({ from: '', receivedAt: 1000 }, 1000 + 100 * H, { delayWarningHours: 4 }), false);
});
