/** DATA: with at least one recipient, answer 354 and switch to the DATA reader. */
import { DataReader } from '../../protocol/data-reader.js';
import { REPLIES } from '../replies.js';
import { proceed, type Outcome } from '../outcome.js';
import type { SessionContext } from '../session-context.js';
import type { SessionState } from '../session-state.js';

export function handleData(ctx: SessionContext, state: SessionState): Outcome {
  if (state.phase === 'greeting') return proceed(state, REPLIES.sendHeloFirst, true);
  if (state.phase !== 'transaction') return proceed(state, REPLIES.needMail, true);
  if (state.tx.recipients.length === 0) return proceed(state, REPLIES.needRcpt, true);
  const reader = new DataReader({
    maxBytes: ctx.conn.policy.maxMessageSize,
    bareLineEndings: ctx.runtime.smtp.bareLineEndings,
  });
  return { state: { phase: 'data', greeting: state.greeting, tx: state.tx, reader }, reply: REPLIES.startData, then: 'read-data' };
}
