/**
 * The alert dispatcher (SPEC §8): every condition hands its alerts here. It
 * debounces by alert key on the injected clock (a key raised within
 * `alerts.debounceMinutes` of its last raise is dropped; seeded from the
 * history so a restart does not resend), routes by class × severity to the
 * configured recipients, composes the email and hands it to the gateway's
 * queue through `inject` (stored in the spool with the null envelope sender,
 * delivered by the delivery scheduler like any message), logs a `system`
 * mail-log line with the MID, and appends the history.
 *
 * An alert no recipient subscribes to is still recorded in the history, as
 * not sent (`sent: false`, no MID), and is debounced like a sent one. A
 * failure to queue an alert is logged and recorded, never alerted about.
 */
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import type { MailLogSink } from '../logging/mail-events.js';
import { alertRecipients, type Alert } from './alert.js';
import { appendAlertHistory, lastRaisedByKey, type AlertHistoryRecord } from './alert-history-file.js';
import { composeAlertMessage, oneLine } from './alert-message.js';

/** What the gateway stores in its spool for an alert; returns the MID. */
export type InjectAlertMessage = (m: { from: string; recipients: string[]; body: Buffer }) => Promise<number>;

export interface AlertDispatcherOptions {
  /** The running configuration (read at each raise: a commit changes recipients at once). */
  config: () => Config;
  clock: Clock;
  historyFile: string;
  inject: InjectAlertMessage;
  log: MailLogSink;
}

export type AlertOutcome =
  | { kind: 'sent'; mid: number; recipients: string[]; messageId: string }
  | { kind: 'debounced'; lastRaisedAt: number }
  | { kind: 'no-recipient' }
  | { kind: 'failed'; error: string };

/** `alerts.from`, else `gatehouse@<hostname>`. */
export function alertSender(config: Config): string {
  return config.alerts.from ?? `gatehouse@${config.hostname}`;
}

export class AlertDispatcher {
  private readonly lastRaised: Map<string, number>;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly o: AlertDispatcherOptions) {
    this.lastRaised = lastRaisedByKey(o.historyFile);
  }

  /**
   * Raises an alert. The debounce decision is taken synchronously, so two
   * raises of one key in the same tick send one message.
   */
  raise(alert: Alert): Promise<AlertOutcome> {
    const now = this.o.clock.now();
    const config = this.o.config();
    const last = this.lastRaised.get(alert.key);
    if (last !== undefined && now - last < config.alerts.debounceMinutes * 60_000) return Promise.resolve({ kind: 'debounced', lastRaisedAt: last });
    this.lastRaised.set(alert.key, now);
    const p = this.dispatch(alert, config, now);
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  /** Resolves when every alert raised so far is queued (or recorded as not sent). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async dispatch(alert: Alert, config: Config, now: number): Promise<AlertOutcome> {
    const recipients = alertRecipients(alert, config.alerts.recipients);
    const record: AlertHistoryRecord = {
      time: new Date(now).toISOString(),
      key: alert.key,
      class: alert.classes[0] ?? 'system',
      classes: [...alert.classes],
      severity: alert.severity,
      subject: alert.subject,
      recipients,
      sent: false,
      mid: null,
    };
    const what = `(${alert.classes.join(',')} ${alert.severity})`;
    if (recipients.length === 0) {
      this.o.log.emit({ event: 'system', text: `Alert not sent ${what}: no recipient subscribes to it: ${oneLine(alert.subject)}` });
      this.record({ ...record, note: 'no recipient subscribes to this class and severity' });
      return { kind: 'no-recipient' };
    }
    const message = composeAlertMessage({ alert, from: alertSender(config), to: recipients, hostname: config.hostname, now: new Date(now) });
    let mid: number;
    try {
      mid = await this.o.inject({ from: '', recipients, body: message.body });
    } catch (err) {
      const error = errorMessage(err);
      // Forget the raise so the next occurrence tries again; never alert about this.
      this.lastRaised.delete(alert.key);
      this.o.log.emit({ event: 'system', text: `Alert could not be queued ${what}: ${error}: ${oneLine(alert.subject)}` });
      this.record({ ...record, note: `could not be queued: ${error}` });
      return { kind: 'failed', error };
    }
    this.o.log.emit({ event: 'system', text: `Alert MID ${mid} queued ${what} to ${recipients.map((r) => `<${r}>`).join(', ')}: ${message.subject}` });
    this.record({ ...record, sent: true, mid });
    return { kind: 'sent', mid, recipients, messageId: message.messageId };
  }

  private record(r: AlertHistoryRecord): void {
    try {
      appendAlertHistory(this.o.historyFile, r);
    } catch (err) {
      this.o.log.emit({ event: 'system', text: `alert history could not be written: ${errorMessage(err)}` });
    }
  }
}
