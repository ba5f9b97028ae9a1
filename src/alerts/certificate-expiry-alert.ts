/**
 * Alert: certificate and custom-CA expiry (SPEC §6.4) at 90, 60, 30, 15, 5,
 * 4, 3, 2, 1 days, on the day and daily after expiry (the events of
 * `tls/expiry.ts`). Class certificates; warning before expiry, critical on
 * the day and after. Checked at start and every `alerts.checkIntervalSeconds`.
 * The keys of the events already raised are kept in
 * `<home>/state/alert-expiry-sent.json` (written atomically), so a restart
 * does not send a threshold again; keys of certificates no longer in the
 * configuration are dropped from it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../core/atomic-file.js';
import type { Config } from '../config/schema.js';
import { expiryEvents, watchedCertificates, type ExpiryEvent } from '../tls/expiry.js';
import type { Alert } from './alert.js';
import type { AlertOutcome } from './alert-dispatcher.js';

export const EXPIRY_STATE_FILE = 'alert-expiry-sent.json';

export function expiryAlert(e: ExpiryEvent): Alert {
  const c = e.certificate;
  const what = c.kind === 'profile' ? `Certificate profile "${c.name}"` : `Custom CA "${c.name}"`;
  const when = e.stage.kind === 'before' ? `expires in ${e.daysRemaining} day${e.daysRemaining === 1 ? '' : 's'}` : e.stage.kind === 'today' ? 'expires today' : 'has expired';
  return {
    key: `certificate-expiry:${e.key}`,
    classes: ['certificates'],
    severity: e.severity,
    subject: `${what} ${when}`,
    lines: [
      e.text,
      '',
      `Subject: ${c.subject}`,
      `Valid until: ${c.notAfter.toUTCString()}`,
      `SHA-256 fingerprint: ${c.fingerprint256}`,
      c.kind === 'profile' ? `Renew it: gatehouse certconfig csr ${c.name}, then certconfig upload ${c.name} --cert FILE (or certconfig rekey ${c.name}).` : `Replace it: gatehouse certconfig ca import FILE, then certconfig ca delete "${c.name}".`,
    ],
  };
}

export class CertificateExpiryWatch {
  private readonly file: string;
  private readonly sent: Set<string>;
  private running: Promise<ExpiryEvent[]> | null = null;

  constructor(
    stateDir: string,
    private readonly raise: (a: Alert) => Promise<AlertOutcome>,
  ) {
    this.file = path.join(stateDir, EXPIRY_STATE_FILE);
    this.sent = new Set(readKeys(this.file));
  }

  /** Raises the expiry events due at `now` that were not raised before; returns them. One check at a time. */
  check(config: Config, now: Date): Promise<ExpiryEvent[]> {
    if (this.running) return this.running;
    this.running = this.run(config, now).finally(() => (this.running = null));
    return this.running;
  }

  private async run(config: Config, now: Date): Promise<ExpiryEvent[]> {
    const watched = watchedCertificates(config);
    const raised: ExpiryEvent[] = [];
    for (const e of expiryEvents(watched, now, this.sent)) {
      const outcome = await this.raise(expiryAlert(e));
      if (outcome.kind === 'failed') continue; // tried again at the next check
      this.sent.add(e.key);
      raised.push(e);
    }
    const before = this.sent.size;
    for (const key of this.sent) if (!watched.some((w) => key.includes(`:${w.fingerprint256}:`))) this.sent.delete(key);
    if (raised.length > 0 || this.sent.size !== before) writeFileAtomicSync(this.file, `${JSON.stringify({ sent: [...this.sent].sort() }, null, 2)}\n`, 0o600);
    return raised;
  }
}

function readKeys(file: string): string[] {
  try {
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { sent?: unknown };
    return Array.isArray(doc.sent) ? doc.sent.filter((k): k is string => typeof k === 'string') : [];
  } catch {
    return [];
  }
}
