/**
 * When a delay warning is due (SPEC §5.3 "optional delay warnings"; RFC 3464
 * `Action: delayed`): once per message, the first time one of its recipients
 * is deferred after it has been queued for `queue.delayWarningHours` (0 turns
 * warnings off). Never for the null sender (RFC 5321 §4.5.5; this also keeps
 * DSNs from ever producing warnings of their own). Pure: whether one was
 * already sent is the caller's to know.
 */
import type { SpooledMessage } from './spool.js';

export interface DelayWarningSettings {
  delayWarningHours: number;
}

export function delayWarningDue(m: Pick<SpooledMessage, 'from' | 'receivedAt'>, now: number, s: DelayWarningSettings): boolean {
  if (s.delayWarningHours <= 0 || m.from === '') return false;
  return now - m.receivedAt >= s.delayWarningHours * 3_600_000;
}
