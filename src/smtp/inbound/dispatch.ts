/**
 * Routes a parsed command to its verb handler. Policy gates that apply to every
 * verb sit here, in order: a rejected session answers 503 to all but QUIT; a
 * plaintext session under `tls: required` answers 530 to all but
 * EHLO/HELO/NOOP/RSET/QUIT/STARTTLS (SPEC §4.2).
 */
import type { Command } from '../protocol/command.js';
import { handleData } from './handlers/data.js';
import { handleEhlo } from './handlers/ehlo.js';
import { handleInfo } from './handlers/info.js';
import { handleMail } from './handlers/mail.js';
import { handleNoop } from './handlers/noop.js';
import { handleQuit } from './handlers/quit.js';
import { handleRcpt } from './handlers/rcpt.js';
import { handleRset } from './handlers/rset.js';
import { handleStartTls } from './handlers/starttls.js';
import { proceed, type Outcome } from './outcome.js';
import { REPLIES } from './replies.js';
import type { SessionContext } from './session-context.js';
import type { SessionState } from './session-state.js';

const ALLOWED_BEFORE_TLS = new Set(['EHLO', 'HELO', 'NOOP', 'RSET', 'QUIT', 'STARTTLS']);

export function dispatch(ctx: SessionContext, state: SessionState, cmd: Command): Outcome {
  if (state.phase === 'rejecting') {
    return cmd.verb === 'QUIT' ? handleQuit(ctx) : proceed(state, REPLIES.rejectedSession);
  }
  if (cmd.verb === 'UNKNOWN') {
    if (cmd.looksLikeHttp) return { state: { phase: 'closed' }, reply: REPLIES.httpRequest, then: 'close', badCommand: true };
    if (cmd.looksLikeTls) return { state: { phase: 'closed' }, reply: REPLIES.tlsOnPlainPort, then: 'close', badCommand: true };
    return proceed(state, REPLIES.unknownCommand, true);
  }
  const verb = cmd.verb === 'INVALID' ? cmd.name.toUpperCase() : cmd.verb;
  if (ctx.conn.policy.tls === 'required' && ctx.tls === null && !ALLOWED_BEFORE_TLS.has(verb)) {
    if (!ctx.tlsRequiredLogged) {
      ctx.tlsRequiredLogged = true;
      ctx.services.log.emit({ event: 'icid.tls.required', icid: ctx.conn.icid });
    }
    return proceed(state, REPLIES.mustStartTls);
  }
  switch (cmd.verb) {
    case 'INVALID':
      return proceed(state, cmd.reply, true);
    case 'EHLO':
    case 'HELO':
      return handleEhlo(ctx, cmd);
    case 'MAIL':
      return handleMail(ctx, state, cmd);
    case 'RCPT':
      return handleRcpt(ctx, state, cmd);
    case 'DATA':
      return handleData(ctx, state);
    case 'RSET':
      return handleRset(state);
    case 'NOOP':
      return handleNoop(state);
    case 'QUIT':
      return handleQuit(ctx);
    case 'STARTTLS':
      return handleStartTls(ctx, state);
    case 'VRFY':
    case 'EXPN':
    case 'HELP':
      return handleInfo(state, cmd.verb);
    default: {
      const unreachable: never = cmd;
      return unreachable;
    }
  }
}
