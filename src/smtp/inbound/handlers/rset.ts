/** RSET: abandon any transaction, keep the greeting. */
import { REPLIES } from '../replies.js';
import { proceed, type Outcome } from '../outcome.js';
import type { SessionState } from '../session-state.js';

export function handleRset(state: SessionState): Outcome {
  if (state.phase === 'transaction') return proceed({ phase: 'ready', greeting: state.greeting }, REPLIES.reset);
  return proceed(state, REPLIES.reset);
}
