/**
 * The alerts feature as the gateway runs it: one AlertDispatcher and the
 * conditions that feed it — required-TLS failures (the delivery scheduler's
 * hook), certificate expiry and queue growth (checked at start and every
 * `alerts.checkIntervalSeconds`), inbound TLS handshake failure rate (every
 * mail-log event). Alert messages are stored in the gateway's spool with the
 * null envelope sender and listener `alert`, then the scheduler is woken.
 * Built by the composition root (app/gateway.ts) once the spool is open.
 */
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import type { MailEvent, MailLogSink } from '../logging/mail-events.js';
import type { Spool } from '../queue/spool.js';
import { ALERT_LISTENER, type Alert } from './alert.js';
import { AlertDispatcher, type AlertOutcome } from './alert-dispatcher.js';
import { alertHistoryFile } from './alert-history-file.js';
import { CertificateExpiryWatch } from './certificate-expiry-alert.js';
import { HandshakeFailureRate } from './handshake-failure-rate.js';
import { queueGrowthAlert } from './queue-growth.js';
import { messagesWaitingFor, requiredTlsAlert, type RequiredTlsFailureFacts } from './required-tls-alert.js';

export interface AlertMonitorOptions {
  config: Config;
  clock: Clock;
  stateDir: string;
  log: MailLogSink;
  spool: Spool;
  nextMid: () => number;
  /** Wakes the delivery scheduler after an alert is stored. */
  wake: () => void;
}

export class AlertMonitor {
  readonly dispatcher: AlertDispatcher;
  private config: Config;
  private readonly expiry: CertificateExpiryWatch;
  private readonly handshakes = new HandshakeFailureRate();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly o: AlertMonitorOptions) {
    this.config = o.config;
    this.dispatcher = new AlertDispatcher({
      config: () => this.config,
      clock: o.clock,
      historyFile: alertHistoryFile(o.stateDir),
      log: o.log,
      inject: async ({ from, recipients, body }) => {
        if (this.stopped) throw new Error('the gateway is stopping');
        const mid = o.nextMid();
        await o.spool.store({ mid, icid: 0, receivedAt: o.clock.now(), from, recipients, listener: ALERT_LISTENER, bodyType: '7BIT', tls: null, clientIp: '127.0.0.1' }, body);
        o.wake();
        return mid;
      },
    });
    this.expiry = new CertificateExpiryWatch(o.stateDir, (a) => this.dispatcher.raise(a));
  }

  /** Runs the periodic checks now and then every `alerts.checkIntervalSeconds`. */
  start(): void {
    void this.checkNow();
    this.arm();
  }

  setConfig(config: Config): void {
    const interval = config.alerts.checkIntervalSeconds !== this.config.alerts.checkIntervalSeconds;
    this.config = config;
    if (interval && this.timer) this.arm();
  }

  /** Certificate expiry and queue growth, at the clock's now. Resolves when their alerts are queued. */
  async checkNow(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.expiry.check(this.config, new Date(this.o.clock.now()));
      const queue = queueGrowthAlert(this.o.spool.live(), this.config.alerts);
      if (queue) await this.raise(queue);
    } catch (err) {
      this.o.log.emit({ event: 'system', text: `alert check failed: ${errorMessage(err)}` });
    }
  }

  /** Every mail-log event (subscribed by the gateway through its MailEventTap). */
  readonly onMailEvent = (e: MailEvent, time: number): void => {
    if (this.stopped) return;
    const alert = this.handshakes.observe(e, time, this.config.alerts);
    if (alert) void this.raise(alert);
  };

  /** The delivery scheduler's required-TLS hook; `alert` is `destinationControls.alertOnRequiredTlsFailure`. */
  readonly onRequiredTlsFailure = (e: RequiredTlsFailureFacts & { alert: boolean }): void => {
    if (this.stopped || !e.alert) return;
    const alert = requiredTlsAlert(e, messagesWaitingFor(this.o.spool.live(), e.domain));
    if (alert) void this.raise(alert);
  };

  raise(alert: Alert): Promise<AlertOutcome> {
    return this.dispatcher.raise(alert);
  }

  /** Resolves when every alert raised so far is queued or recorded. */
  idle(): Promise<void> {
    return this.dispatcher.idle();
  }

  /** Stops the timer and waits for alerts in flight (before the spool closes). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    await this.dispatcher.idle();
  }

  private arm(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => void this.checkNow(), this.config.alerts.checkIntervalSeconds * 1000);
    this.timer.unref();
  }
}
