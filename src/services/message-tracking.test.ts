import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { homeLayout } from '../core/home-layout.js';
import { MailLog } from '../logging/mail-log.js';
import type { MailEvent } from '../logging/mail-events.js';
import { trackMessages } from './message-tracking.js';

test('a story spans rotated JSON logs; other messages on the same connections stay out of it', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-track-'));
  let t = Date.UTC(2026, 10, 29, 10);
  const log = await MailLog.open(homeLayout(home).mailLogDir, { maxBytes: 1 << 20, retain: 5, rotateDaily: false, json: true, clock: { now: () => (t += 1000) } });
  const emit = (...events: MailEvent[]): void => events.forEach((e) => log.emit(e));
  emit(
    { event: 'icid.new', icid: 1, listener: 'In', listenerAddress: '192.0.2.1', ip: '198.51.100.7', reverseDns: null, verified: false },
    { event: 'icid.policy', icid: 1, behavior: 'ACCEPT', group: 'UNKNOWNLIST', rule: 'ALL', sbrs: null, policy: 'ACCEPTED', tls: 'preferred' },
    { event: 'icid.tls.success', icid: 1, protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
    { event: 'mid.start', mid: 7, icid: 1 },
    { event: 'mid.from', mid: 7, icid: 1, from: 'a@x.test' },
    { event: 'mid.rcpt', mid: 7, icid: 1, rid: 0, to: 'b@y.test' },
    { event: 'mid.rcpt', mid: 7, icid: 1, rid: 1, to: 'c@y.test' },
    { event: 'mid.ready', mid: 7, bytes: 100, from: 'a@x.test' },
    { event: 'mid.start', mid: 8, icid: 1 },
    { event: 'mid.from', mid: 8, icid: 1, from: 'other@x.test' },
    { event: 'mid.rcpt', mid: 8, icid: 1, rid: 0, to: 'd@z.test' },
    { event: 'mid.ready', mid: 8, bytes: 50, from: 'other@x.test' },
    { event: 'icid.close', icid: 1 },
  );
  await log.rotate();
  emit(
    { event: 'dcid.new', dcid: 3, interface: '192.0.2.1', ip: '203.0.113.5', port: 25, domain: 'y.test', host: 'mx.y.test', tls: 'required', destination: 'y.test' },
    { event: 'dcid.tls.success', dcid: 3, protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256' },
    { event: 'dcid.delivery.start', dcid: 3, mid: 8, rids: [0] },
    { event: 'dcid.delivery.done', dcid: 3, mid: 8, rids: [0] },
    { event: 'dcid.delivery.start', dcid: 3, mid: 7, rids: [0, 1] },
    { event: 'dcid.delivery.done', dcid: 3, mid: 7, rids: [0] },
    { event: 'mid.bounced', dcid: 3, mid: 7, rid: 1, reason: '550 5.1.1 unknown' },
    { event: 'mid.dsn', mid: 9, originalMid: 7, to: 'a@x.test' },
    { event: 'dcid.close', dcid: 3 },
  );
  await log.close();
  const [s] = await trackMessages(home, { mid: 7 });
  assert.ok(s);
  assert.equal(s.outcome, 'partially bounced');
  assert.equal(s.connection?.ip, '198.51.100.7');
  assert.deepEqual(s.tlsIn, { status: 'encrypted', protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', failure: null });
  assert.deepEqual(s.recipients.map((r) => r.status), ['delivered', 'bounced']);
  assert.deepEqual(s.dsns, [9]);
  assert.equal(s.attempts.length, 1);
  assert.equal(s.attempts[0]?.tlsWanted, 'required');
  assert.deepEqual(s.attempts[0]?.started, [0, 1]);
  assert.ok(!s.lines.some((l) => /MID 8\b/.test(l.text)), 'lines of MID 8 are not part of MID 7');
  assert.ok(s.lines.some((l) => l.text === 'DCID 3 close'));
  assert.ok(s.lines.some((l) => l.text === 'ICID 1 close'));
  assert.equal(s.lines.length, 16);
  const times = s.lines.map((l) => Date.parse(l.time));
  assert.deepEqual(times, [...times].sort((a, b) => a - b), 'oldest first, across the rotation');
  assert.deepEqual((await trackMessages(home, { from: 'other@x.test' })).map((x) => x.outcome), ['delivered']);
  assert.deepEqual((await trackMessages(home, { since: Date.UTC(2026, 10, 29, 10, 0, 8) })).map((x) => x.mid), [8, 9]);
  assert.deepEqual((await trackMessages(home, { until: Date.UTC(2026, 10, 29, 10, 0, 8) })).map((x) => x.mid), [7]);
});
