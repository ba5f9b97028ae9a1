/** QUIT: 221 and close. */
import { closingReplies } from '../replies.js';
import type { Outcome } from '../outcome.js';
import type { SessionContext } from '../session-context.js';

export function handleQuit(ctx: SessionContext): Outcome {
  return { state: { phase: 'closed' }, reply: closingReplies.quit(ctx.runtime.hostname), then: 'close' };
}
