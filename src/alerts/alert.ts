/**
 * The alert model (SPEC §8): what a condition raises. An alert has a stable
 * key (the debounce identity: the same key is not sent again within
 * `alerts.debounceMinutes`), one or more classes, a severity, a subject and
 * body lines. Recipients subscribe to classes × severities; an alert reaches a
 * recipient when one of its classes and its severity are both subscribed.
 */
import type { Config } from '../config/schema.js';

export type AlertRecipientConfig = Config['alerts']['recipients'][number];
export type AlertClass = AlertRecipientConfig['classes'][number];
export type AlertSeverity = AlertRecipientConfig['severities'][number];

export interface Alert {
  /** Debounce identity, e.g. `required-tls:example.com`, `queue-growth`. */
  key: string;
  /** Non-empty; the first is the primary class. */
  classes: readonly AlertClass[];
  severity: AlertSeverity;
  /** Without the `[Gatehouse ...]` prefix the dispatcher adds. */
  subject: string;
  /** The text of the message, one line each (no line breaks inside). */
  lines: readonly string[];
}

/** The recipients an alert goes to: one of its classes and its severity subscribed. */
export function alertRecipients(alert: Alert, recipients: readonly AlertRecipientConfig[]): string[] {
  return recipients.filter((r) => r.severities.includes(alert.severity) && alert.classes.some((c) => r.classes.includes(c))).map((r) => r.address);
}

/** The spool `listener` of alert messages: how the loop guards recognise them. */
export const ALERT_LISTENER = 'alert';
