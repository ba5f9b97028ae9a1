/**
 * The delivery queue as administrators see it (`gatehouse queue ...`, SPEC
 * §12): list, flush, delete, bounce, hold, release. A running gateway answers
 * through its control socket (runQueueRequest); without one, `list` reads the
 * spool directly (only one process ever writes the spool, so this happens
 * only when no gateway runs).
 */
import { errorMessage } from '../core/errors.js';
import type { HomeLayout } from '../core/home-layout.js';
import { QUEUE_ACTIONS, type ControlResponse, type QueueListEntry, type QueueRequest } from '../core/control-protocol.js';
import type { DeliveryScheduler } from '../queue/delivery-scheduler.js';
import { toQueueListEntry } from '../queue/queue-listing.js';
import { Spool } from '../queue/spool.js';

/** Handles one queue request inside the running gateway. */
export async function runQueueRequest(scheduler: DeliveryScheduler | null, request: QueueRequest | undefined): Promise<ControlResponse> {
  if (!request || !(QUEUE_ACTIONS as readonly string[]).includes(request.action)) return { ok: false, error: `queue: expected an action ${QUEUE_ACTIONS.join('|')}` };
  if (!scheduler) return { ok: false, error: 'delivery is not running in this gateway' };
  const { action } = request;
  try {
    switch (action) {
      case 'list':
        return { ok: true, command: 'queue', action, messages: scheduler.list() };
      case 'flush':
        // Make everything due and start it; do not wait for slow next hops.
        void scheduler.flush();
        return { ok: true, command: 'queue', action };
      case 'delete':
      case 'bounce':
      case 'hold':
      case 'release': {
        const mid = request.mid;
        if (typeof mid !== 'number' || !Number.isSafeInteger(mid) || mid < 0) return { ok: false, error: `queue ${action}: a MID is required` };
        if (action === 'delete') await scheduler.deleteMessage(mid);
        else if (action === 'bounce') await scheduler.bounceMessage(mid);
        else await scheduler.hold(mid, action === 'hold');
        return { ok: true, command: 'queue', action, mid };
      }
    }
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}

/** `queue list` without a running gateway: opens the spool, reads it, closes it. */
export async function listQueueOffline(layout: HomeLayout): Promise<QueueListEntry[]> {
  const spool = await Spool.open(layout.spoolDir, { fsync: true });
  try {
    return spool.list().map(toQueueListEntry);
  } finally {
    await spool.close();
  }
}
