import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daysRemaining, expiryEvents, expiryStage, expiryStatus, timeRemainingText, type WatchedCertificate } from './expiry.js';

const DAY = 86_400_000;
const notAfter = new Date('2030-06-15T12:00:00Z');
const at = (daysBefore: number): Date => new Date(notAfter.getTime() - daysBefore * DAY);

const cert: WatchedCertificate = {
  kind: 'profile',
  name: 'mx',
  subject: 'CN=mx.example.com',
  notBefore: new Date('2029-06-15T12:00:00Z'),
  notAfter,
  fingerprint256: 'AA:BB',
};

test('days remaining and status', () => {
  assert.equal(daysRemaining(notAfter, at(10.5)), 10);
  assert.equal(daysRemaining(notAfter, at(-0.5)), -1);
  assert.equal(expiryStatus(cert.notBefore, notAfter, at(100)), 'valid');
  assert.equal(expiryStatus(cert.notBefore, notAfter, at(29)), 'expires-soon');
  assert.equal(expiryStatus(cert.notBefore, notAfter, at(-1)), 'expired');
  assert.equal(expiryStatus(cert.notBefore, notAfter, new Date('2029-01-01T00:00:00Z')), 'not-yet-valid');
  assert.equal(timeRemainingText(notAfter, at(364.2)), '364 days');
  assert.equal(timeRemainingText(notAfter, at(1.5)), '1 day');
  assert.equal(timeRemainingText(notAfter, at(0.25)), '6 hours');
  assert.equal(timeRemainingText(notAfter, at(-3.5)), 'expired 3 days ago');
});

test('the stage walks through 90, 60, 30, 15, 5, 4, 3, 2, 1, today, expired', () => {
  const seen: string[] = [];
  for (let d = 120; d >= -3; d--) {
    const s = expiryStage(notAfter, at(d - 0.5));
    const label = s === null ? 'none' : s.kind === 'before' ? `${s.days}` : s.kind === 'today' ? 'today' : `expired+${s.daysAgo}`;
    if (seen[seen.length - 1] !== label) seen.push(label);
  }
  assert.deepEqual(seen, ['none', '90', '60', '30', '15', '5', '4', '3', '2', '1', 'today', 'expired+0', 'expired+1', 'expired+2', 'expired+3']);
});

test('events: one per threshold, suppressed once sent, renewed certificates start afresh', () => {
  const sent = new Set<string>();
  const deliver = (now: Date): string[] =>
    expiryEvents([cert], now, sent).map((e) => {
      sent.add(e.key);
      return e.key;
    });
  assert.deepEqual(deliver(at(100)), []);
  assert.deepEqual(deliver(at(89.5)), ['profile:mx:AA:BB:90d']);
  assert.deepEqual(deliver(at(88)), []);
  assert.deepEqual(deliver(at(40)), ['profile:mx:AA:BB:60d']);
  assert.deepEqual(deliver(at(0.5)), ['profile:mx:AA:BB:today']);
  const [expired] = expiryEvents([cert], at(-2.5), sent);
  assert.equal(expired?.key, 'profile:mx:AA:BB:expired+2');
  assert.equal(expired?.severity, 'critical');
  assert.match(expired?.text ?? '', /^Certificate profile "mx" \(CN=mx\.example\.com\) expired 2 days ago/);
  assert.equal(expiryEvents([{ ...cert, fingerprint256: 'CC:DD' }], at(40), sent)[0]?.key, 'profile:mx:CC:DD:60d');
  const [ca] = expiryEvents([{ ...cert, kind: 'custom-ca', name: 'Corp Root' }], at(14.5));
  assert.equal(ca?.text, `Custom CA "Corp Root" (CN=mx.example.com) expires in 14 days (${notAfter.toUTCString()}).`);
});
