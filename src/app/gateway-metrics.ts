/**
 * What `GET /metrics` on the admin port reports (SPEC §14): inbound
 * connections per listener (accepted, rejected, open now), TLS outcomes per
 * direction, handshake failures, queue size, deliveries and DSNs, mail-log
 * write errors, syslog forwarding. Numbers come from what the gateway already keeps — the
 * delivery scheduler's counters, the spool, `MailLog.stats()`, the listeners'
 * open sessions — plus counters this class keeps from the mail events it
 * subscribes to (`gateway.onMailEvent`) for the inbound side, which has no
 * counters of its own. Counters run from the start of the process.
 *
 * Inbound connections are counted when their host access decision is made:
 * `accepted` for ACCEPT and RELAY, `rejected` for REJECT and TCPREFUSE and for
 * a connection refused by the policy's per-IP cap (`icid.limit
 * maxConnectionsPerIp`, emitted in the same tick as its policy event).
 * Connections refused by the global cap before they get an ICID are not
 * counted (they only leave a `system` line).
 */
import type { MailEvent } from '../logging/mail-events.js';
import type { Gateway } from './gateway.js';
import { gatewayHealth } from './health.js';
import { packageVersion } from './package-version.js';
import type { MetricFamily } from './metrics-text.js';

export type MetricsSource = Pick<Gateway, 'onMailEvent' | 'currentConfig' | 'listenerStatus' | 'spoolStore' | 'delivery' | 'log' | 'openConnections' | 'syslogStats'>;

interface InboundCounts {
  accepted: number;
  rejected: number;
}

export class GatewayMetrics {
  /** ICID → listener name, from `icid.new` to `icid.close`. */
  private readonly icidListener = new Map<number, string>();
  private readonly inbound = new Map<string, InboundCounts>();
  private inboundTlsSuccess = 0;
  private inboundTlsFailure = 0;
  private inboundClientCertRejected = 0;
  /** Clients that tried to send without TLS under `tls: required`. */
  private inboundTlsRequiredRefused = 0;
  private outboundHandshakeFailures = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly gateway: MetricsSource,
    private readonly startedAt: number = Date.now(),
    private readonly now: () => number = Date.now,
  ) {
    this.unsubscribe = gateway.onMailEvent((e) => this.observe(e));
  }

  /** Stops counting events. */
  close(): void {
    this.unsubscribe();
  }

  private countsFor(listener: string): InboundCounts {
    let c = this.inbound.get(listener);
    if (!c) this.inbound.set(listener, (c = { accepted: 0, rejected: 0 }));
    return c;
  }

  private observe(e: MailEvent): void {
    switch (e.event) {
      case 'icid.new':
        this.icidListener.set(e.icid, e.listener);
        this.countsFor(e.listener);
        break;
      case 'icid.policy': {
        const listener = this.icidListener.get(e.icid);
        if (listener === undefined) break;
        const c = this.countsFor(listener);
        if (e.behavior === 'ACCEPT' || e.behavior === 'RELAY') c.accepted++;
        else c.rejected++;
        break;
      }
      case 'icid.limit': {
        const listener = this.icidListener.get(e.icid);
        if (listener === undefined || e.what !== 'maxConnectionsPerIp') break;
        // Synchronously after its ACCEPT/RELAY policy event: the connection is refused after all.
        const c = this.countsFor(listener);
        c.accepted--;
        c.rejected++;
        break;
      }
      case 'icid.close':
        this.icidListener.delete(e.icid);
        break;
      case 'icid.tls.success':
        this.inboundTlsSuccess++;
        break;
      case 'icid.tls.failed':
        this.inboundTlsFailure++;
        break;
      case 'icid.tls.client-cert-rejected':
        this.inboundClientCertRejected++;
        break;
      case 'icid.tls.required':
        this.inboundTlsRequiredRefused++;
        break;
      case 'dcid.tls.failed':
        this.outboundHandshakeFailures++;
        break;
      default:
        break;
    }
  }

  /** Every metric family, read now. */
  collect(): MetricFamily[] {
    const g = this.gateway;
    const health = gatewayHealth(g, this.startedAt, this.now());
    const listeners = g.listenerStatus();
    for (const l of g.currentConfig.listeners) this.countsFor(l.name);
    const d = g.delivery?.counters;
    let messages = 0;
    let pendingRecipients = 0;
    let held = 0;
    if (health.spoolOpen) {
      for (const m of g.spoolStore.live()) {
        messages++;
        if (m.held) held++;
        for (const r of m.recipients) if (r.state === 'pending') pendingRecipients++;
      }
    }
    const log = g.log.stats();
    const syslog = g.syslogStats();
    const inbound = [...this.inbound].sort(([a], [b]) => a.localeCompare(b));
    return [
      { name: 'gatehouse_build_info', help: 'The running release (value always 1).', type: 'gauge', samples: [{ labels: { version: packageVersion() }, value: 1 }] },
      { name: 'gatehouse_up', help: '1 when the gateway is healthy (spool open, every listener bound), as /healthz reports.', type: 'gauge', samples: [{ value: health.status === 'ok' ? 1 : 0 }] },
      { name: 'gatehouse_uptime_seconds', help: 'Seconds since the gateway started.', type: 'gauge', samples: [{ value: health.uptimeSeconds }] },
      { name: 'gatehouse_listener_bound', help: 'Configured listeners: 1 when bound and accepting.', type: 'gauge', samples: g.currentConfig.listeners.map((l) => ({ labels: { listener: l.name }, value: health.listeners.unbound.includes(l.name) ? 0 : 1 })) },
      {
        name: 'gatehouse_inbound_connections_total',
        help: 'Inbound connections by host access decision: accepted (ACCEPT, RELAY) or rejected (REJECT, TCPREFUSE, per-IP cap).',
        type: 'counter',
        samples: inbound.flatMap(([listener, c]) => [
          { labels: { listener, result: 'accepted' }, value: c.accepted },
          { labels: { listener, result: 'rejected' }, value: c.rejected },
        ]),
      },
      { name: 'gatehouse_inbound_open_sessions', help: 'SMTP sessions open now, per listener.', type: 'gauge', samples: listeners.map((l) => ({ labels: { listener: l.name }, value: l.openSessions })) },
      { name: 'gatehouse_inbound_open_connections', help: 'Inbound connections open now on all listeners, draining ones included.', type: 'gauge', samples: [{ value: g.openConnections }] },
      {
        name: 'gatehouse_tls_outcomes_total',
        help: 'STARTTLS outcomes per direction. inbound: success, failure (handshake), client_cert_rejected, required_refused (sent without TLS under tls: required); outbound: success, failure, downgrade (preferred level went on in plaintext), required_failure.',
        type: 'counter',
        samples: [
          { labels: { direction: 'inbound', outcome: 'success' }, value: this.inboundTlsSuccess },
          { labels: { direction: 'inbound', outcome: 'failure' }, value: this.inboundTlsFailure },
          { labels: { direction: 'inbound', outcome: 'client_cert_rejected' }, value: this.inboundClientCertRejected },
          { labels: { direction: 'inbound', outcome: 'required_refused' }, value: this.inboundTlsRequiredRefused },
          { labels: { direction: 'outbound', outcome: 'success' }, value: d?.tlsSuccess ?? 0 },
          { labels: { direction: 'outbound', outcome: 'failure' }, value: d?.tlsFailures ?? 0 },
          { labels: { direction: 'outbound', outcome: 'downgrade' }, value: d?.downgrades ?? 0 },
          { labels: { direction: 'outbound', outcome: 'required_failure' }, value: d?.requiredTlsFailures ?? 0 },
        ],
      },
      {
        name: 'gatehouse_tls_handshake_failures_total',
        help: 'TLS handshakes that failed, per direction.',
        type: 'counter',
        samples: [
          { labels: { direction: 'inbound' }, value: this.inboundTlsFailure },
          { labels: { direction: 'outbound' }, value: this.outboundHandshakeFailures },
        ],
      },
      { name: 'gatehouse_outbound_connections_total', help: 'Outbound delivery connections opened.', type: 'counter', samples: [{ value: d?.connections ?? 0 }] },
      { name: 'gatehouse_outbound_connection_errors_total', help: 'Outbound delivery connections that failed (connect, greeting, timeouts).', type: 'counter', samples: [{ value: d?.connectionErrors ?? 0 }] },
      { name: 'gatehouse_queue_messages', help: 'Messages in the spool.', type: 'gauge', samples: [{ value: messages }] },
      { name: 'gatehouse_queue_pending_recipients', help: 'Recipients still to be delivered.', type: 'gauge', samples: [{ value: pendingRecipients }] },
      { name: 'gatehouse_queue_held_messages', help: 'Messages held by an administrator.', type: 'gauge', samples: [{ value: held }] },
      {
        name: 'gatehouse_deliveries_total',
        help: 'Recipient delivery outcomes: delivered, deferred (temporary failure, retried), bounced.',
        type: 'counter',
        samples: [
          { labels: { outcome: 'delivered' }, value: d?.delivered ?? 0 },
          { labels: { outcome: 'deferred' }, value: d?.deferred ?? 0 },
          { labels: { outcome: 'bounced' }, value: d?.bounced ?? 0 },
        ],
      },
      {
        name: 'gatehouse_dsns_total',
        help: 'Delivery status notifications generated, by kind.',
        type: 'counter',
        samples: [
          { labels: { kind: 'failure' }, value: (d?.dsns ?? 0) - (d?.delayWarnings ?? 0) },
          { labels: { kind: 'delay' }, value: d?.delayWarnings ?? 0 },
        ],
      },
      { name: 'gatehouse_mail_log_write_errors_total', help: 'Failed mail-log file operations (open, write, rename, delete, close).', type: 'counter', samples: [{ value: log.writeErrors }] },
      { name: 'gatehouse_mail_log_dropped_events_total', help: 'Mail-log events lost (failed writes, buffer cap).', type: 'counter', samples: [{ value: log.dropped }] },
      { name: 'gatehouse_mail_log_lines_total', help: 'Mail-log lines written.', type: 'counter', samples: [{ value: log.linesWritten }] },
      // Syslog forwarding (logging.mailLog.syslog); zero while it is off. Counters restart when its settings change.
      {
        name: 'gatehouse_syslog_lines_total',
        help: 'Mail-log lines forwarded to syslog: sent (handed to the operating system) or dropped (queue full, write failed, unsent at stop).',
        type: 'counter',
        samples: [
          { labels: { outcome: 'sent' }, value: syslog?.sent ?? 0 },
          { labels: { outcome: 'dropped' }, value: syslog?.dropped ?? 0 },
        ],
      },
      { name: 'gatehouse_syslog_errors_total', help: 'Syslog socket errors (connect refused, reset, send failed).', type: 'counter', samples: [{ value: syslog?.errors ?? 0 }] },
      { name: 'gatehouse_syslog_queued_lines', help: 'Mail-log lines waiting to be sent to syslog.', type: 'gauge', samples: [{ value: syslog?.queued ?? 0 }] },
      { name: 'gatehouse_syslog_connected', help: '1 when syslog forwarding is on and (TCP) connected.', type: 'gauge', samples: [{ value: syslog?.connected ? 1 : 0 }] },
    ];
  }
}
