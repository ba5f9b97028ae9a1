/**
 * Unit tests of the alert conditions: the handshake-failure rate (above the
 * threshold within the window, not below, window slides, 0 = off), queue
 * growth (above, not at or below), the required-TLS alert text and its loop
 * guard (only alert messages waiting: no alert).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testConfig } from '../../test/harness/edit-fixture.js';
import type { SpooledMessage } from '../queue/spool-types.js';
import { ALERT_LISTENER } from './alert.js';
import { HandshakeFailureRate } from './handshake-failure-rate.js';
import { queueGrowthAlert } from './queue-growth.js';
import { messagesWaitingFor, requiredTlsAlert } from './required-tls-alert.js';

const MIN = 60_000;

function settings(edit: (a: ReturnType<typeof testConfig>['alerts']) => void) {
  const a = testConfig().alerts;
  edit(a);
  return a;
}

function message(mid: number, recipients: string[], listener = 'IncomingMail', state: 'pending' | 'delivered' = 'pending'): SpooledMessage {
  return {
    mid,
    icid: 1,
    receivedAt: 0,
    from: 'a@b.test',
    listener,
    bodyType: '7BIT',
    tls: null,
    clientIp: '127.0.0.1',
    size: 10,
    held: false,
    recipients: recipients.map((address, rid) => ({ rid, address, state, attempts: 0, nextAttemptAt: 0, lastReply: null })),
  };
}

describe('HandshakeFailureRate', () => {
  test('alerts when more than the threshold fail within the window, not at or below it', () => {
    const s = settings((a) => {
      a.tlsFailureThreshold = 3;
      a.tlsFailureWindowMinutes = 10;
    });
    const rate = new HandshakeFailureRate();
    const t0 = 1_000_000;
    assert.equal(rate.observe({ event: 'icid.new', icid: 7, listener: 'IncomingMail', listenerAddress: '127.0.0.1', ip: '192.0.2.7', reverseDns: null, verified: false }, t0, s), null);
    const fail = (icid: number, t: number) => rate.observe({ event: 'icid.tls.failed', icid, reason: 'no shared cipher' }, t, s);
    assert.equal(fail(7, t0), null);
    assert.equal(fail(7, t0 + MIN), null);
    assert.equal(fail(8, t0 + 2 * MIN), null, '3 failures = the threshold: no alert');
    const alert = fail(9, t0 + 3 * MIN);
    assert.ok(alert, '4 failures within 10 minutes: alert');
    assert.deepEqual(alert.classes, ['tls', 'security']);
    assert.equal(alert.severity, 'warning');
    assert.equal(alert.key, 'tls-handshake-failures');
    assert.equal(alert.subject, '4 inbound TLS handshake failures in 10 minutes');
    assert.ok(alert.lines.includes('  192.0.2.7: 2'), alert.lines.join('\n'));
    assert.ok(alert.lines.includes('  no shared cipher: 4'));
    // Spread out: the window slides, old failures no longer count.
    const slow = new HandshakeFailureRate();
    for (let i = 0; i < 10; i++) assert.equal(slow.observe({ event: 'icid.tls.failed', icid: i, reason: 'x' }, t0 + i * 4 * MIN, s), null, `failure ${i}`);
  });

  test('threshold 0 turns it off; other events are ignored', () => {
    const s = settings((a) => (a.tlsFailureThreshold = 0));
    const rate = new HandshakeFailureRate();
    for (let i = 0; i < 50; i++) assert.equal(rate.observe({ event: 'icid.tls.failed', icid: i, reason: 'x' }, i, s), null);
    const on = settings((a) => (a.tlsFailureThreshold = 1));
    const r2 = new HandshakeFailureRate();
    for (let i = 0; i < 5; i++) assert.equal(r2.observe({ event: 'dcid.tls.failed', dcid: i, reason: 'outbound' }, i, on), null);
  });
});

describe('queueGrowthAlert', () => {
  test('more than the threshold: alert of class queue naming the count and top domains; at or below: none', () => {
    const s = settings((a) => (a.queueThreshold = 3));
    const three = [message(1, ['x@a.test']), message(2, ['y@a.test']), message(3, ['z@b.test'])];
    assert.equal(queueGrowthAlert(three, s), null);
    const four = [...three, message(4, ['w@a.test', 'v@c.test'])];
    const alert = queueGrowthAlert(four, s);
    assert.ok(alert);
    assert.deepEqual(alert.classes, ['queue']);
    assert.equal(alert.severity, 'warning');
    assert.equal(alert.subject, '4 messages in the queue (threshold 3)');
    assert.ok(alert.lines.includes('Pending recipients: 5'));
    assert.equal(alert.lines.find((l) => l.startsWith('  ')), '  a.test: 3');
    assert.equal(queueGrowthAlert(four, settings((a) => (a.queueThreshold = 0))), null, '0 = off');
  });
});

describe('required-TLS alert', () => {
  test('names domain, MX, reason and the messages waiting; classes system and tls, warning', () => {
    const live = [message(1, ['a@dest.test']), message(2, ['b@Dest.TEST', 'c@other.test']), message(3, ['d@dest.test'], 'IncomingMail', 'delivered'), message(4, ['e@other.test'])];
    const waiting = messagesWaitingFor(live, 'dest.test');
    assert.deepEqual(waiting, { messages: 2, alerts: 0 });
    const alert = requiredTlsAlert({ dcid: 9, domain: 'dest.test', host: 'mx.dest.test', ip: '192.0.2.1', port: 25, level: 'required', reason: 'STARTTLS not offered' }, waiting);
    assert.ok(alert);
    assert.deepEqual(alert.classes, ['system', 'tls']);
    assert.equal(alert.severity, 'warning');
    assert.equal(alert.key, 'required-tls:dest.test');
    for (const line of ['Destination domain: dest.test', 'MX: mx.dest.test (192.0.2.1 port 25)', 'Reason: STARTTLS not offered', 'Messages waiting for dest.test: 2']) assert.ok(alert.lines.includes(line), line);
  });

  test('loop guard: when only alert messages wait for the domain, no alert', () => {
    const live = [message(1, ['noc@dest.test'], ALERT_LISTENER)];
    const waiting = messagesWaitingFor(live, 'dest.test');
    assert.deepEqual(waiting, { messages: 1, alerts: 1 });
    assert.equal(requiredTlsAlert({ dcid: 1, domain: 'dest.test', ip: '192.0.2.1', port: 25, level: 'required', reason: 'x' }, waiting), null);
    assert.ok(requiredTlsAlert({ dcid: 1, domain: 'dest.test', ip: '192.0.2.1', port: 25, level: 'required', reason: 'x' }, messagesWaitingFor([...live, message(2, ['a@dest.test'])], 'dest.test')));
  });
});
