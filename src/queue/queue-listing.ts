/** A spooled message as `gatehouse queue list` shows it (online through the gateway, or offline from the spool). */
import type { QueueListEntry } from '../core/control-protocol.js';
import { decodeAttempt } from './attempt-record.js';
import type { SpooledMessage } from './spool-types.js';

export function toQueueListEntry(m: SpooledMessage): QueueListEntry {
  return {
    mid: m.mid,
    from: m.from,
    receivedAt: m.receivedAt,
    size: m.size,
    held: m.held,
    recipients: m.recipients.map((r) => ({
      rid: r.rid,
      address: r.address,
      state: r.state,
      attempts: r.attempts,
      nextAttemptAt: r.nextAttemptAt,
      lastReply: decodeAttempt(r.lastReply)?.reply ?? null,
    })),
  };
}
