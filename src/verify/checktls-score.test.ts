import assert from 'node:assert/strict';
import { test } from 'node:test';
import { domainScore, mxScore, preferenceRanks } from './checktls-score.js';

test('an MX scores the share of its stages that passed; not-run stages count as failed', () => {
  assert.equal(mxScore([{ status: 'pass' }, { status: 'pass' }, { status: 'pass' }, { status: 'pass' }, { status: 'pass' }, { status: 'pass' }]), 100);
  assert.equal(mxScore([{ status: 'pass' }, { status: 'pass' }, { status: 'pass' }, { status: 'fail' }, { status: 'not-run' }, { status: 'not-run' }]), 50);
  assert.equal(mxScore([{ status: 'fail' }, { status: 'not-run' }]), 0);
  assert.equal(mxScore([]), 0);
});

test('ranks are dense by preference: equal preference, equal rank', () => {
  assert.deepEqual(preferenceRanks([10, 10, 20]), [1, 1, 2]);
  assert.deepEqual(preferenceRanks([30, 5, 20, 5]), [3, 1, 2, 1]);
  assert.deepEqual(preferenceRanks([]), []);
});

test('the domain score weights each MX by 1/rank', () => {
  // (100·1 + 50·½) / (1 + ½) = 83.33…
  assert.equal(domainScore([{ preference: 10, score: 100 }, { preference: 20, score: 50 }]).toFixed(4), '83.3333');
  // Two equally preferred MX hosts: plain mean.
  assert.equal(domainScore([{ preference: 10, score: 100 }, { preference: 10, score: 0 }]), 50);
  // Order of input does not matter, only preferences.
  assert.equal(domainScore([{ preference: 20, score: 50 }, { preference: 10, score: 100 }]).toFixed(4), '83.3333');
  // Ranks 1, 2, 3: (0 + 100/2 + 100/3) / (1 + 1/2 + 1/3) = 45.45…
  assert.equal(domainScore([{ preference: 1, score: 0 }, { preference: 2, score: 100 }, { preference: 3, score: 100 }]).toFixed(4), '45.4545');
  assert.equal(domainScore([]), 0);
});
