/**
 * Certificate expiry (SPEC §6.4): days remaining, the status `certconfig list`
 * shows, and the expiry events the alerts issue delivers — at 90, 60, 30, 15,
 * 5, 4, 3, 2 and 1 days before, on the day (less than 24 hours left) and
 * after expiry (one event per day). Pure functions over a time: callers pass
 * the clock's `now`.
 */
import crypto from 'node:crypto';
import type { Config } from '../config/schema.js';

export const EXPIRY_THRESHOLD_DAYS = [90, 60, 30, 15, 5, 4, 3, 2, 1] as const;
/** Below this many days `list` says "Expires soon". */
export const EXPIRES_SOON_DAYS = 30;

const DAY_MS = 86_400_000;

export type ExpiryStatus = 'valid' | 'expires-soon' | 'expired' | 'not-yet-valid';

export const EXPIRY_STATUS_LABEL: Record<ExpiryStatus, string> = {
  valid: 'Valid',
  'expires-soon': 'Expires soon',
  expired: 'Expired',
  'not-yet-valid': 'Not yet valid',
};

/** Whole days left until `notAfter` (rounded down); negative after expiry (-1 = expired less than a day ago). */
export function daysRemaining(notAfter: Date, now: Date): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
}

export function expiryStatus(notBefore: Date, notAfter: Date, now: Date): ExpiryStatus {
  if (now.getTime() > notAfter.getTime()) return 'expired';
  if (now.getTime() < notBefore.getTime()) return 'not-yet-valid';
  return daysRemaining(notAfter, now) < EXPIRES_SOON_DAYS ? 'expires-soon' : 'valid';
}

/** "364 days", "1 day", "5 hours", "expired 3 days ago", "expired today". */
export function timeRemainingText(notAfter: Date, now: Date): string {
  const ms = notAfter.getTime() - now.getTime();
  if (ms < 0) {
    const ago = Math.floor(-ms / DAY_MS);
    return ago === 0 ? 'expired today' : `expired ${ago} day${ago === 1 ? '' : 's'} ago`;
  }
  const days = Math.floor(ms / DAY_MS);
  if (days >= 1) return `${days} day${days === 1 ? '' : 's'}`;
  const hours = Math.floor(ms / 3_600_000);
  return hours >= 1 ? `${hours} hour${hours === 1 ? '' : 's'}` : 'less than an hour';
}

/**
 * Where a certificate stands against the thresholds: the smallest threshold
 * its days remaining have reached (`60` for 45 days left), `today` in its last
 * 24 hours, `expired` after; null while more than 90 days are left.
 */
export type ExpiryStage = { kind: 'before'; days: (typeof EXPIRY_THRESHOLD_DAYS)[number] } | { kind: 'today' } | { kind: 'expired'; daysAgo: number };

export function expiryStage(notAfter: Date, now: Date): ExpiryStage | null {
  const ms = notAfter.getTime() - now.getTime();
  if (ms < 0) return { kind: 'expired', daysAgo: Math.floor(-ms / DAY_MS) };
  const days = Math.floor(ms / DAY_MS);
  if (days === 0) return { kind: 'today' };
  let reached: (typeof EXPIRY_THRESHOLD_DAYS)[number] | null = null;
  for (const t of EXPIRY_THRESHOLD_DAYS) if (days <= t) reached = t;
  return reached === null ? null : { kind: 'before', days: reached };
}

/** A certificate whose expiry is watched: a profile's leaf or a custom CA. */
export interface WatchedCertificate {
  kind: 'profile' | 'custom-ca';
  name: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 fingerprint: a renewed certificate starts its events afresh. */
  fingerprint256: string;
}

export interface ExpiryEvent {
  /** Stable identity of the event: `profile:web:<fingerprint>:30d`, `...:today`, `...:expired+2`. Deliver each key once. */
  key: string;
  certificate: WatchedCertificate;
  stage: ExpiryStage;
  daysRemaining: number;
  /** `warning` before expiry, `critical` on the day and after. */
  severity: 'warning' | 'critical';
  /** One line for the alert: `Certificate profile "web" (CN=mail.example.com) expires in 30 days (Jan  1 00:00:00 2027 GMT).` */
  text: string;
}

function stageKey(stage: ExpiryStage): string {
  return stage.kind === 'before' ? `${stage.days}d` : stage.kind === 'today' ? 'today' : `expired+${stage.daysAgo}`;
}

/**
 * The expiry events due now: one per certificate that has reached a threshold,
 * unless its key is in `alreadySent` (the alerts issue keeps that set).
 * A certificate that jumped several thresholds (the gateway was off) gets only
 * the latest one.
 */
export function expiryEvents(certificates: readonly WatchedCertificate[], now: Date, alreadySent: ReadonlySet<string> = new Set()): ExpiryEvent[] {
  const events: ExpiryEvent[] = [];
  for (const c of certificates) {
    const stage = expiryStage(c.notAfter, now);
    if (stage === null) continue;
    const key = `${c.kind}:${c.name}:${c.fingerprint256}:${stageKey(stage)}`;
    if (alreadySent.has(key)) continue;
    const what = c.kind === 'profile' ? `Certificate profile "${c.name}"` : `Custom CA "${c.name}"`;
    const when = c.notAfter.toUTCString();
    const left = daysRemaining(c.notAfter, now);
    const text =
      stage.kind === 'before'
        ? `${what} (${c.subject}) expires in ${left} day${left === 1 ? '' : 's'} (${when}).`
        : stage.kind === 'today'
          ? `${what} (${c.subject}) expires today (${when}).`
          : `${what} (${c.subject}) expired ${stage.daysAgo === 0 ? 'today' : `${stage.daysAgo} day${stage.daysAgo === 1 ? '' : 's'} ago`} (${when}).`;
    events.push({ key, certificate: c, stage, daysRemaining: left, severity: stage.kind === 'before' ? 'warning' : 'critical', text });
  }
  return events;
}

function watched(kind: WatchedCertificate['kind'], name: string, pem: string): WatchedCertificate | null {
  try {
    const cert = new crypto.X509Certificate(pem);
    return {
      kind,
      name,
      subject: cert.subject.split('\n').join(', '),
      notBefore: new Date(cert.validFrom),
      notAfter: new Date(cert.validTo),
      fingerprint256: cert.fingerprint256,
    };
  } catch {
    return null;
  }
}

/** Every certificate of a configuration whose expiry is watched: each profile's leaf and each custom CA. */
export function watchedCertificates(config: Config): WatchedCertificate[] {
  return [
    ...config.certificates.map((p) => watched('profile', p.name, p.certificate)),
    ...config.trustStore.custom.map((c) => watched('custom-ca', c.name, c.certificate)),
  ].filter((w): w is WatchedCertificate => w !== null);
}
