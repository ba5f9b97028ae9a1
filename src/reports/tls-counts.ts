/**
 * The counters of the TLS connections report (SPEC §9; the appliance's
 * Monitor > TLS Connections: required / preferred × success / failure,
 * plaintext connections, messages total and encrypted). One `TlsCounts` is
 * kept per direction, domain and hour. Pure data and arithmetic.
 *
 * Every counted connection is in exactly one of the five classes, so
 * `connections = requiredSuccess + requiredFailure + preferredSuccess +
 * preferredFailure + plaintext`.
 */

export type TlsDirection = 'inbound' | 'outbound';

export interface TlsCounts {
  /** Connections counted (the sum of the five classes below). */
  connections: number;
  /** TLS required by the policy and established. */
  requiredSuccess: number;
  /** TLS required by the policy and not established (nothing was accepted or sent). */
  requiredFailure: number;
  /** TLS preferred and established. */
  preferredSuccess: number;
  /** TLS preferred, tried, and failed (handshake failure or STARTTLS refused). */
  preferredFailure: number;
  /** Connections without TLS where none was tried or required (policy off, STARTTLS not used or not offered). */
  plaintext: number;
  /** Outbound: encrypted connections whose certificate was verified. Inbound: always 0. */
  verified: number;
  /** Messages: inbound accepted (`ready`), outbound delivered (`Message done`, one per message and connection). */
  messages: number;
  /** Of `messages`, those carried over TLS. */
  encryptedMessages: number;
}

export type TlsCountName = keyof TlsCounts;

export const TLS_COUNT_NAMES: readonly TlsCountName[] = [
  'connections',
  'requiredSuccess',
  'requiredFailure',
  'preferredSuccess',
  'preferredFailure',
  'plaintext',
  'verified',
  'messages',
  'encryptedMessages',
];

export function emptyCounts(): TlsCounts {
  return { connections: 0, requiredSuccess: 0, requiredFailure: 0, preferredSuccess: 0, preferredFailure: 0, plaintext: 0, verified: 0, messages: 0, encryptedMessages: 0 };
}

/** Adds `b` into `a` (in place) and returns `a`. */
export function addCounts(a: TlsCounts, b: Partial<TlsCounts>): TlsCounts {
  for (const k of TLS_COUNT_NAMES) {
    const v = b[k];
    if (typeof v === 'number' && Number.isFinite(v)) a[k] += v;
  }
  return a;
}

/** Encrypted connections (required + preferred successes). */
export function encryptedConnections(c: TlsCounts): number {
  return c.requiredSuccess + c.preferredSuccess;
}

/** Share of messages carried over TLS, 0..1; null when there were no messages. */
export function encryptedShare(c: TlsCounts): number | null {
  return c.messages === 0 ? null : c.encryptedMessages / c.messages;
}

/** Start of the UTC hour holding `ms`. */
export function hourOf(ms: number): number {
  return Math.floor(ms / 3_600_000) * 3_600_000;
}
