/** MAIL FROM: opens a transaction after the sender and its parameters pass the policy. */
import type { Command } from '../../protocol/command.js';
import { mailboxToString } from '../../protocol/command.js';
import { matchesAddressList } from '../../../policy/address-list.js';
import { closingReplies, REPLIES } from '../replies.js';
import { proceed, type Outcome } from '../outcome.js';
import type { SessionContext } from '../session-context.js';
import type { SessionState } from '../session-state.js';

export function handleMail(ctx: SessionContext, state: SessionState, cmd: Extract<Command, { verb: 'MAIL' }>): Outcome {
  if (state.phase === 'greeting') return proceed(state, REPLIES.sendHeloFirst, true);
  if (state.phase !== 'ready') return proceed(state, REPLIES.nestedMail, true);
  const policy = ctx.conn.policy;

  if (ctx.messagesAccepted >= policy.maxMessagesPerConnection) {
    ctx.services.log.emit({ event: 'icid.limit', icid: ctx.conn.icid, what: 'maxMessagesPerConnection', detail: String(policy.maxMessagesPerConnection) });
    return { state: { phase: 'closed' }, reply: closingReplies.tooManyMessages(ctx.runtime.hostname), then: 'close' };
  }

  let declaredSize: number | null = null;
  let bodyType: '7BIT' | '8BITMIME' = '7BIT';
  for (const [name, value] of cmd.params) {
    if (name === 'SIZE') {
      if (value === true || !/^\d{1,20}$/.test(value)) return proceed(state, REPLIES.badSize, true);
      declaredSize = Number(value);
      if (declaredSize > policy.maxMessageSize) return proceed(state, REPLIES.sizeDeclaredTooBig);
    } else if (name === 'BODY') {
      if (value === true) return proceed(state, REPLIES.badBody, true);
      const upper = value.toUpperCase();
      if (upper !== '7BIT' && upper !== '8BITMIME') return proceed(state, REPLIES.badBody, true);
      bodyType = upper;
    } else {
      return proceed(state, REPLIES.unsupportedParameter(name));
    }
  }

  const from = cmd.from === null ? '' : mailboxToString(cmd.from);
  if (policy.tls === 'preferred' && ctx.tls === null && from !== '' && matchesAddressList(policy.tlsMandatoryAddressList, from)) {
    return proceed(state, REPLIES.senderMustStartTls);
  }

  const mid = ctx.services.nextMid();
  ctx.services.log.emit({ event: 'mid.start', mid, icid: ctx.conn.icid });
  ctx.services.log.emit({ event: 'mid.from', mid, icid: ctx.conn.icid, from });
  return proceed(
    { phase: 'transaction', greeting: state.greeting, tx: { mid, from, fromMailbox: cmd.from, recipients: [], declaredSize, bodyType } },
    REPLIES.mailOk,
  );
}
