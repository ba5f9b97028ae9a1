/** NOOP: nothing. */
import { REPLIES } from '../replies.js';
import { proceed, type Outcome } from '../outcome.js';
import type { SessionState } from '../session-state.js';

export function handleNoop(state: SessionState): Outcome {
  return proceed(state, REPLIES.ok);
}
