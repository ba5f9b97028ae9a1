/**
 * Alert: a required outbound TLS level could not be met (SPEC §5.2, §8).
 * Classes system and tls, severity warning; names the destination domain,
 * the MX (host and IP), the reason and the number of messages waiting for
 * the domain. One key per domain, so the debounce is per destination.
 *
 * Loop guard: when every message waiting for the domain is itself an alert
 * (an alert recipient behind a broken required-TLS destination), no alert is
 * raised: alerts about failed alert deliveries would never end.
 */
import type { SpooledMessage } from '../queue/spool-types.js';
import { ALERT_LISTENER, type Alert } from './alert.js';

/** What the delivery scheduler reports (RequiredTlsFailure plus the hop's host name). */
export interface RequiredTlsFailureFacts {
  dcid: number;
  domain: string;
  /** The MX / route host name; absent when the hook did not say. */
  host?: string | undefined;
  ip: string;
  port: number;
  level: string;
  reason: string;
}

export interface WaitingMessages {
  /** Live messages with at least one pending recipient in the domain. */
  messages: number;
  /** Of those, the ones that are alerts. */
  alerts: number;
}

const domainOf = (address: string): string => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

export function messagesWaitingFor(live: Iterable<Readonly<SpooledMessage>>, domain: string): WaitingMessages {
  const d = domain.toLowerCase();
  const out = { messages: 0, alerts: 0 };
  for (const m of live) {
    if (!m.recipients.some((r) => r.state === 'pending' && domainOf(r.address) === d)) continue;
    out.messages++;
    if (m.listener === ALERT_LISTENER) out.alerts++;
  }
  return out;
}

/** The alert, or null when only alerts are waiting (loop guard). */
export function requiredTlsAlert(f: RequiredTlsFailureFacts, waiting: WaitingMessages): Alert | null {
  if (waiting.messages > 0 && waiting.messages === waiting.alerts) return null;
  const mx = f.host && f.host !== f.ip ? `${f.host} (${f.ip} port ${f.port})` : `${f.ip} port ${f.port}`;
  return {
    key: `required-tls:${f.domain.toLowerCase()}`,
    classes: ['system', 'tls'],
    severity: 'warning',
    subject: `TLS required for ${f.domain} but could not be negotiated with ${f.host ?? f.ip}`,
    lines: [
      `Delivery to ${f.domain} requires TLS (${f.level}), but it could not be negotiated; nothing was sent and the messages stay queued for retry.`,
      '',
      `Destination domain: ${f.domain}`,
      `MX: ${mx}`,
      `Reason: ${f.reason}`,
      `Messages waiting for ${f.domain}: ${waiting.messages}`,
      `TLS level: ${f.level}`,
      `DCID: ${f.dcid}`,
    ],
  };
}
