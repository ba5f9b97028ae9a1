/** EHLO / HELO: (re)start the session, list extensions. An EHLO also resets any transaction (RFC 5321 §4.1.4). */
import { reply } from '../../../core/smtp-reply.js';
import type { Command } from '../../protocol/command.js';
import { proceed, type Outcome } from '../outcome.js';
import type { SessionContext } from '../session-context.js';

export function extensionsFor(ctx: SessionContext): string[] {
  const ext = ['PIPELINING', `SIZE ${ctx.conn.policy.maxMessageSize}`, '8BITMIME', 'ENHANCEDSTATUSCODES'];
  if (ctx.conn.policy.tls !== 'off' && ctx.tls === null) ext.push('STARTTLS');
  return ext;
}

export function handleEhlo(ctx: SessionContext, cmd: Extract<Command, { verb: 'EHLO' | 'HELO' }>): Outcome {
  const host = ctx.runtime.hostname;
  const greeting = { verb: cmd.verb, domain: cmd.domain };
  if (cmd.verb === 'HELO') return proceed({ phase: 'ready', greeting }, reply(250, undefined, host));
  return proceed({ phase: 'ready', greeting }, reply(250, undefined, host, ...extensionsFor(ctx)));
}
