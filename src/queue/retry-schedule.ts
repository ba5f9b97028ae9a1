/**
 * Pure retry arithmetic of the delivery queue (SPEC §5.3, catalogue #42):
 * the first retry after `retryInitialSeconds`, each next one twice as late,
 * capped at `retryMaxSeconds`; a message older than `lifetimeHours` expires
 * (bounce with a DSN).
 */

export interface RetrySettings {
  retryInitialSeconds: number;
  retryMaxSeconds: number;
  lifetimeHours: number;
}

/** Delay in ms before the next attempt, after `attempts` (>= 1) attempts have failed. */
export function retryDelayMs(attempts: number, s: RetrySettings): number {
  const n = Math.max(1, Math.floor(attempts));
  const initial = s.retryInitialSeconds * 1000;
  const max = Math.max(initial, s.retryMaxSeconds * 1000);
  // 2^(n-1) overflows to Infinity long before it matters; min() keeps it finite.
  return Math.min(max, initial * 2 ** Math.min(n - 1, 60));
}

/** Epoch ms when a message received at `receivedAt` expires. */
export function expiresAt(receivedAt: number, s: RetrySettings): number {
  return receivedAt + s.lifetimeHours * 3_600_000;
}

export function isExpired(receivedAt: number, now: number, s: RetrySettings): boolean {
  return now >= expiresAt(receivedAt, s);
}

/**
 * When to try again after a deferral at `now`: null when the next attempt would
 * fall after the queue lifetime (the caller bounces instead). A retry scheduled
 * exactly at the expiry instant is still made, so the last attempt happens.
 */
export function nextAttemptAt(attempts: number, receivedAt: number, now: number, s: RetrySettings): number | null {
  const at = now + retryDelayMs(attempts, s);
  const end = expiresAt(receivedAt, s);
  if (now >= end) return null;
  return Math.min(at, end);
}
