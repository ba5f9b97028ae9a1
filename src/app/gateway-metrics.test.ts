/**
 * Unit tests of GatewayMetrics' event counting: inbound accepted/rejected per
 * listener (policy decisions and the per-IP cap), inbound TLS outcomes, and the
 * queue gauges read from the spool, on a fake gateway fed mail events.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MailEventListener } from '../logging/mail-event-tap.js';
import type { MailEvent } from '../logging/mail-events.js';
import { newCounters } from '../smtp/outbound/delivery-attempt.js';
import { GatewayMetrics, type MetricsSource } from './gateway-metrics.js';
import { renderMetrics } from './metrics-text.js';

function fakeGateway(messages: { held: boolean; recipients: { state: string }[] }[]) {
  const listeners: MailEventListener[] = [];
  const counters = newCounters();
  const source = {
    onMailEvent: (l: MailEventListener) => {
      listeners.push(l);
      return () => listeners.splice(listeners.indexOf(l), 1);
    },
    currentConfig: { listeners: [{ name: 'IncomingMail' }, { name: 'OutgoingMail' }] },
    listenerStatus: () => [
      { name: 'IncomingMail', openSessions: 2 },
      { name: 'OutgoingMail', openSessions: 0 },
    ],
    spoolStore: { isOpen: true, live: () => messages.values() },
    delivery: { counters },
    log: { stats: () => ({ writeErrors: 3, dropped: 1, linesWritten: 40 }) },
    syslogStats: () => ({ target: 'tcp:127.0.0.1:514', connected: true, sent: 38, dropped: 2, errors: 1, truncated: 0, queued: 4, lastError: 'connect ECONNREFUSED 127.0.0.1:514' }),
    openConnections: 2,
  } as unknown as MetricsSource;
  return { source, counters, emit: (e: MailEvent) => listeners.forEach((l) => l(e, 0)), listeners };
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('inbound decisions per listener, TLS outcomes, queue gauges and scheduler counters', () => {
  const g = fakeGateway([
    { held: false, recipients: [{ state: 'pending' }, { state: 'delivered' }] },
    { held: true, recipients: [{ state: 'pending' }, { state: 'pending' }] },
  ]);
  const metrics = new GatewayMetrics(g.source, 0, () => 90_000);
  const open = (icid: number, listener: string): void => g.emit({ event: 'icid.new', icid, listener, listenerAddress: '127.0.0.1', ip: '192.0.2.1', reverseDns: null, verified: false });
  const policy = (icid: number, behavior: 'ACCEPT' | 'RELAY' | 'REJECT' | 'TCPREFUSE'): void => g.emit({ event: 'icid.policy', icid, behavior, group: 'G', rule: 'ALL', sbrs: null });
  open(1, 'IncomingMail');
  policy(1, 'ACCEPT');
  g.emit({ event: 'icid.tls.success', icid: 1, protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' });
  open(2, 'IncomingMail');
  policy(2, 'REJECT');
  open(3, 'IncomingMail');
  policy(3, 'ACCEPT');
  g.emit({ event: 'icid.limit', icid: 3, what: 'maxConnectionsPerIp', detail: '1' });
  open(4, 'OutgoingMail');
  policy(4, 'RELAY');
  g.emit({ event: 'icid.tls.failed', icid: 4, reason: 'wrong version number' });
  g.emit({ event: 'icid.limit', icid: 4, what: 'maxMessagesPerConnection', detail: '10' });
  open(5, 'OutgoingMail');
  policy(5, 'TCPREFUSE');
  g.emit({ event: 'dcid.tls.failed', dcid: 9, reason: 'handshake failure' });
  g.counters.delivered = 5;
  g.counters.dsns = 3;
  g.counters.delayWarnings = 1;
  g.counters.downgrades = 2;

  const text = renderMetrics(metrics.collect());
  assert.equal(value(text, 'gatehouse_inbound_connections_total{listener="IncomingMail",result="accepted"}'), 1);
  assert.equal(value(text, 'gatehouse_inbound_connections_total{listener="IncomingMail",result="rejected"}'), 2, 'REJECT and the per-IP cap');
  assert.equal(value(text, 'gatehouse_inbound_connections_total{listener="OutgoingMail",result="accepted"}'), 1, 'a later session limit does not undo the acceptance');
  assert.equal(value(text, 'gatehouse_inbound_connections_total{listener="OutgoingMail",result="rejected"}'), 1);
  assert.equal(value(text, 'gatehouse_inbound_open_sessions{listener="IncomingMail"}'), 2);
  assert.equal(value(text, 'gatehouse_tls_outcomes_total{direction="inbound",outcome="success"}'), 1);
  assert.equal(value(text, 'gatehouse_tls_outcomes_total{direction="inbound",outcome="failure"}'), 1);
  assert.equal(value(text, 'gatehouse_tls_outcomes_total{direction="outbound",outcome="downgrade"}'), 2);
  assert.equal(value(text, 'gatehouse_tls_handshake_failures_total{direction="outbound"}'), 1);
  assert.equal(value(text, 'gatehouse_queue_messages'), 2);
  assert.equal(value(text, 'gatehouse_queue_pending_recipients'), 3);
  assert.equal(value(text, 'gatehouse_queue_held_messages'), 1);
  assert.equal(value(text, 'gatehouse_deliveries_total{outcome="delivered"}'), 5);
  assert.equal(value(text, 'gatehouse_dsns_total{kind="failure"}'), 2);
  assert.equal(value(text, 'gatehouse_dsns_total{kind="delay"}'), 1);
  assert.equal(value(text, 'gatehouse_mail_log_write_errors_total'), 3);
  assert.equal(value(text, 'gatehouse_syslog_lines_total{outcome="sent"}'), 38);
  assert.equal(value(text, 'gatehouse_syslog_lines_total{outcome="dropped"}'), 2);
  assert.equal(value(text, 'gatehouse_syslog_errors_total'), 1);
  assert.equal(value(text, 'gatehouse_syslog_queued_lines'), 4);
  assert.equal(value(text, 'gatehouse_syslog_connected'), 1);
  assert.equal(value(text, 'gatehouse_uptime_seconds'), 90);
  assert.equal(value(text, 'gatehouse_up'), 1);

  metrics.close();
  assert.equal(g.listeners.length, 0, 'close unsubscribes');
});
