/**
 * Editing alert recipients and settings (SPEC §8) as pure functions over a
 * draft. Delivery, debounce and history are the alerts module's; this only
 * decides who gets which classes and severities, the From address and the
 * debounce interval.
 */
import { UserError } from '../core/errors.js';
import type { Config } from '../config/schema.js';

export const ALERT_CLASSES = ['system', 'tls', 'certificates', 'queue', 'security'] as const;
export const ALERT_SEVERITIES = ['critical', 'warning', 'info'] as const;
export type AlertClass = (typeof ALERT_CLASSES)[number];
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
export type AlertRecipient = Config['alerts']['recipients'][number];

function pick<T extends string>(values: readonly string[], allowed: readonly T[], what: string): T[] {
  const wanted = values.map((v) => v.trim().toLowerCase()).filter((v) => v !== '');
  if (wanted.includes('all')) return [...allowed];
  if (wanted.length === 0) throw new UserError(`give at least one alert ${what}: ${allowed.join(', ')} or all`);
  const unknown = wanted.filter((v) => !(allowed as readonly string[]).includes(v));
  if (unknown.length > 0) throw new UserError(`unknown alert ${what} ${unknown.join(', ')}: use ${allowed.join(', ')} or all`);
  return allowed.filter((a) => wanted.includes(a));
}

/** A plausible email address (one @, something on each side, no spaces), lower-cased domain. */
export function toAlertAddress(input: string): string {
  const text = input.trim();
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1 || /\s|[<>]/.test(text) || text.indexOf('@') !== at) {
    throw new UserError(`"${input}" is not an email address (e.g. postmaster@example.com)`);
  }
  return `${text.slice(0, at)}@${text.slice(at + 1).toLowerCase()}`;
}

export function findAlertRecipient(config: Config, address: string): AlertRecipient {
  const key = toAlertAddress(address).toLowerCase();
  const r = config.alerts.recipients.find((x) => x.address.toLowerCase() === key);
  if (r === undefined) {
    throw new UserError(`${address} is not an alert recipient (recipients: ${config.alerts.recipients.map((x) => x.address).join(', ') || 'none'})`);
  }
  return r;
}

export interface NewAlertRecipient {
  /** Absent: every class. */
  classes?: readonly string[] | undefined;
  /** Absent: every severity. */
  severities?: readonly string[] | undefined;
}

export function addAlertRecipient(draft: Config, address: string, spec: NewAlertRecipient): AlertRecipient {
  const addr = toAlertAddress(address);
  if (draft.alerts.recipients.some((r) => r.address.toLowerCase() === addr.toLowerCase())) {
    throw new UserError(`${addr} already receives alerts: delete it first (alertconfig delete ${addr}) to change its classes`);
  }
  const recipient: AlertRecipient = {
    address: addr,
    classes: spec.classes === undefined ? [...ALERT_CLASSES] : pick(spec.classes, ALERT_CLASSES, 'class'),
    severities: spec.severities === undefined ? [...ALERT_SEVERITIES] : pick(spec.severities, ALERT_SEVERITIES, 'severity'),
  };
  draft.alerts.recipients.push(recipient);
  return recipient;
}

export function deleteAlertRecipient(draft: Config, address: string): AlertRecipient {
  const r = findAlertRecipient(draft, address);
  draft.alerts.recipients = draft.alerts.recipients.filter((x) => x !== r);
  return r;
}

export interface AlertSetup {
  /** From address of alert mail; `''` restores the alerts module's default. */
  from?: string | undefined;
  debounceMinutes?: number | undefined;
  /** Certificate expiry and queue size check interval. */
  checkIntervalSeconds?: number | undefined;
  /** Inbound TLS handshake failures: more than this many within the window raise an alert (0: off). */
  tlsFailureThreshold?: number | undefined;
  tlsFailureWindowMinutes?: number | undefined;
  /** More than this many messages in the queue raise an alert (0: off). */
  queueThreshold?: number | undefined;
}

/** The flags of `alertconfig setup`, for "nothing to change". */
export const ALERT_SETUP_FIELDS = ['from', 'debounceMinutes', 'checkIntervalSeconds', 'tlsFailureThreshold', 'tlsFailureWindowMinutes', 'queueThreshold'] as const;

export function setupAlerts(draft: Config, setup: AlertSetup): Config['alerts'] {
  if (setup.from !== undefined) draft.alerts.from = setup.from.trim() === '' ? null : toAlertAddress(setup.from);
  if (setup.debounceMinutes !== undefined) draft.alerts.debounceMinutes = setup.debounceMinutes;
  if (setup.checkIntervalSeconds !== undefined) draft.alerts.checkIntervalSeconds = setup.checkIntervalSeconds;
  if (setup.tlsFailureThreshold !== undefined) draft.alerts.tlsFailureThreshold = setup.tlsFailureThreshold;
  if (setup.tlsFailureWindowMinutes !== undefined) draft.alerts.tlsFailureWindowMinutes = setup.tlsFailureWindowMinutes;
  if (setup.queueThreshold !== undefined) draft.alerts.queueThreshold = setup.queueThreshold;
  return draft.alerts;
}
