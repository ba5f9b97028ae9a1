/** STARTTLS: offered only when the policy allows TLS and the session is not yet encrypted. */
import { REPLIES } from '../replies.js';
import { proceed, type Outcome } from '../outcome.js';
import type { SessionContext } from '../session-context.js';
import type { SessionState } from '../session-state.js';

export function handleStartTls(ctx: SessionContext, state: SessionState): Outcome {
  if (ctx.conn.policy.tls === 'off') return proceed(state, REPLIES.tlsNotAvailable, true);
  if (ctx.tls !== null) return proceed(state, REPLIES.tlsActive, true);
  if (state.phase === 'greeting') return proceed(state, REPLIES.sendHeloFirst, true);
  if (state.phase !== 'ready') return proceed(state, REPLIES.startTlsInTransaction, true);
  return { state: { phase: 'tls-handshake' }, reply: REPLIES.readyTls, then: 'start-tls' };
}
