/** VRFY, EXPN, HELP: answered without revealing anything (VRFY 252 as RFC 5321 §3.5.3 allows). */
import { REPLIES } from '../replies.js';
import { proceed, type Outcome } from '../outcome.js';
import type { SessionState } from '../session-state.js';

export function handleInfo(state: SessionState, verb: 'VRFY' | 'EXPN' | 'HELP'): Outcome {
  if (verb === 'VRFY') return proceed(state, REPLIES.vrfy);
  if (verb === 'EXPN') return proceed(state, REPLIES.expn);
  return proceed(state, REPLIES.help);
}
