import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildDsn, headerSection, shouldSendDsn } from './dsn.js';

const original = Buffer.from('Received: from x\r\nSubject: Hello\r\nFrom: a@b.test\r\n\r\nsecret body\r\n');

test('RFC 3464 structure: multipart/report with delivery-status and the original headers only', () => {
  const dsn = buildDsn({
    hostname: 'gw.test',
    originalMid: 7,
    to: 'a@b.test',
    arrivalDate: new Date(0),
    now: new Date(1000),
    recipients: [{ address: 'x@dest.test', status: '5.1.1', diagnostic: '550 5.1.1 No such user', remoteMta: 'mx.dest.test', lastAttempt: new Date(1000) }],
    originalBody: original,
  }).toString('latin1');
  const boundary = /boundary="([^"]+)"/.exec(dsn)?.[1];
  assert.ok(boundary);
  assert.match(dsn, /^Content-Type: multipart\/report; report-type=delivery-status; boundary=/m);
  assert.match(dsn, /^Auto-Submitted: auto-replied\r$/m);
  const parts = dsn.split(`--${boundary}`);
  assert.equal(parts.length, 5, 'preamble, 3 parts, epilogue');
  assert.match(parts[2]!, /Content-Type: message\/delivery-status\r\n(Content-Description: [^\r]*\r\n)?\r\nReporting-MTA: dns; gw.test\r\n/);
  assert.match(parts[2]!, /\r\n\r\nFinal-Recipient: rfc822; x@dest.test\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx.dest.test\r\nDiagnostic-Code: smtp; 550 5.1.1 No such user\r\n/);
  assert.match(parts[3]!, /Content-Type: text\/rfc822-headers\r\n[^]*Subject: Hello\r\n/);
  assert.ok(!dsn.includes('secret body'), 'headers only, never the body');
  assert.equal(parts[4], '--\r\n');
  assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(dsn), 'CRLF only');
});

test('never a DSN for the null sender; header section split', () => {
  assert.equal(shouldSendDsn(''), false);
  assert.equal(shouldSendDsn('a@b'), true);
  assert.equal(headerSection(original).toString(), 'Received: from x\r\nSubject: Hello\r\nFrom: a@b.test\r\n');
});

test('delay warning: Action: delayed, a 4.x.x status, Will-Retry-Until, and a subject that says it is still queued', () => {
  const dsn = buildDsn({
    hostname: 'gw.test',
    originalMid: 8,
    to: 'a@b.test',
    arrivalDate: new Date(0),
    now: new Date(4 * 3_600_000),
    kind: 'delay',
    willRetryUntil: new Date(72 * 3_600_000),
    recipients: [{ address: 'x@dest.test', status: '4.2.2', diagnostic: '452 4.2.2 Mailbox full', remoteMta: 'mx.dest.test', lastAttempt: new Date(4 * 3_600_000) }],
    originalBody: original,
  }).toString('latin1');
  assert.match(dsn, /^Subject: Delayed Mail \(still being retried\)\r$/m);
  assert.match(dsn, /^Content-Type: multipart\/report; report-type=delivery-status; boundary=/m);
  assert.match(dsn, /\r\nFinal-Recipient: rfc822; x@dest.test\r\nAction: delayed\r\nStatus: 4.2.2\r\n[^]*Will-Retry-Until: Sun, 04 Jan 1970 00:00:00 \+0000\r\n/);
  assert.match(dsn, /will be retried until Sun, 04 Jan 1970 00:00:00 \+0000/);
  assert.doesNotMatch(dsn, /Action: failed/);
});
