/**
 * What a verb handler returns: the reply, the next state, and what the driver
 * must do after the reply is written.
 */
import type { SmtpReply } from '../../core/smtp-reply.js';
import type { SessionState } from './session-state.js';

export type AfterReply =
  /** Keep reading commands. */
  | 'continue'
  /** Switch to the DATA reader (after 354). */
  | 'read-data'
  /** Discard buffered input and start the TLS handshake (after 220). */
  | 'start-tls'
  /** Close the connection after the reply. */
  | 'close';

export interface Outcome {
  readonly state: SessionState;
  readonly reply: SmtpReply;
  readonly then: AfterReply;
  /** The command was a protocol error (unknown, bad syntax, out of sequence): counts towards the bad-command limit. */
  readonly badCommand?: boolean;
}

export const proceed = (state: SessionState, reply: SmtpReply, badCommand = false): Outcome => ({ state, reply, then: 'continue', badCommand });
