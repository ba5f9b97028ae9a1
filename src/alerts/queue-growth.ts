/**
 * Alert: queue growth (SPEC §8). Checked at start and every
 * `alerts.checkIntervalSeconds`: when the spool holds more than
 * `alerts.queueThreshold` live messages, a warning of class queue names the
 * count, the pending recipients and the domains with the most of them.
 * Threshold 0 turns the alert off.
 */
import type { Config } from '../config/schema.js';
import type { SpooledMessage } from '../queue/spool-types.js';
import type { Alert } from './alert.js';

export function queueGrowthAlert(live: Iterable<Readonly<SpooledMessage>>, settings: Config['alerts']): Alert | null {
  if (settings.queueThreshold === 0) return null;
  let messages = 0;
  let pending = 0;
  let held = 0;
  const byDomain = new Map<string, number>();
  for (const m of live) {
    messages++;
    if (m.held) held++;
    for (const r of m.recipients) {
      if (r.state !== 'pending') continue;
      pending++;
      const d = r.address.slice(r.address.lastIndexOf('@') + 1).toLowerCase();
      byDomain.set(d, (byDomain.get(d) ?? 0) + 1);
    }
  }
  if (messages <= settings.queueThreshold) return null;
  const top = [...byDomain.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
  return {
    key: 'queue-growth',
    classes: ['queue'],
    severity: 'warning',
    subject: `${messages} messages in the queue (threshold ${settings.queueThreshold})`,
    lines: [
      `The queue holds ${messages} messages, more than the threshold of ${settings.queueThreshold}.`,
      '',
      `Pending recipients: ${pending}`,
      `Held messages: ${held}`,
      'Domains with the most pending recipients:',
      ...top.map(([d, n]) => `  ${d}: ${n}`),
      'See: gatehouse queue list',
    ],
  };
}
