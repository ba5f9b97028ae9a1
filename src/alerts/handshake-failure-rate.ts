/**
 * Alert: inbound TLS handshake failures above a rate (SPEC §8). Counts the
 * mail-log `icid.tls.failed` events (`ICID n TLS failed: ...`) in a sliding
 * window of `alerts.tlsFailureWindowMinutes`; when more than
 * `alerts.tlsFailureThreshold` fall in it, raises a warning of classes tls and
 * security (many failures may be a scan or a downgrade attempt as much as a
 * broken client). The client address comes from the connection's `icid.new`
 * event. Threshold 0 turns the alert off.
 */
import type { Config } from '../config/schema.js';
import type { MailEvent } from '../logging/mail-events.js';
import type { Alert } from './alert.js';

interface Failure {
  time: number;
  ip: string | null;
  reason: string;
}

/** Connections whose address is remembered at most (ICIDs are forgotten on close). */
const MAX_OPEN = 10_000;

export class HandshakeFailureRate {
  private readonly failures: Failure[] = [];
  private readonly ipByIcid = new Map<number, string>();

  /**
   * Feeds one mail-log event; returns the alert to raise when this event put
   * the window above the threshold, else null.
   */
  observe(e: MailEvent, time: number, settings: Config['alerts']): Alert | null {
    if (e.event === 'icid.new') {
      if (this.ipByIcid.size >= MAX_OPEN) this.ipByIcid.delete(this.ipByIcid.keys().next().value!);
      this.ipByIcid.set(e.icid, e.ip);
      return null;
    }
    if (e.event === 'icid.close' || e.event === 'icid.lost') {
      this.ipByIcid.delete(e.icid);
      return null;
    }
    if (e.event !== 'icid.tls.failed') return null;
    const windowMs = settings.tlsFailureWindowMinutes * 60_000;
    this.failures.push({ time, ip: this.ipByIcid.get(e.icid) ?? null, reason: e.reason });
    while (this.failures.length > 0 && this.failures[0]!.time <= time - windowMs) this.failures.shift();
    // Never more than needed to decide and describe.
    if (this.failures.length > settings.tlsFailureThreshold + 1000) this.failures.splice(0, this.failures.length - settings.tlsFailureThreshold - 1000);
    if (settings.tlsFailureThreshold === 0 || this.failures.length <= settings.tlsFailureThreshold) return null;
    return this.alert(settings);
  }

  private alert(settings: Config['alerts']): Alert {
    const byIp = new Map<string, number>();
    const byReason = new Map<string, number>();
    for (const f of this.failures) {
      byIp.set(f.ip ?? 'unknown', (byIp.get(f.ip ?? 'unknown') ?? 0) + 1);
      byReason.set(f.reason, (byReason.get(f.reason) ?? 0) + 1);
    }
    const top = (m: Map<string, number>): string[] => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, n]) => `  ${k}: ${n}`);
    const n = this.failures.length;
    return {
      key: 'tls-handshake-failures',
      classes: ['tls', 'security'],
      severity: 'warning',
      subject: `${n} inbound TLS handshake failures in ${settings.tlsFailureWindowMinutes} minutes`,
      lines: [
        `${n} inbound TLS handshakes failed within ${settings.tlsFailureWindowMinutes} minutes (threshold: more than ${settings.tlsFailureThreshold}).`,
        '',
        'Client addresses:',
        ...top(byIp),
        'Reasons:',
        ...top(byReason),
      ],
    };
  }
}
