/** RCPT TO: adds a recipient after the relay rules (RAT or relay), limits and rate pass. */
import type { Command } from '../../protocol/command.js';
import { mailboxToString } from '../../protocol/command.js';
import { isRecipientDomainAccepted, isRelayProbe } from '../../../policy/recipient-access-table.js';
import { REPLIES } from '../replies.js';
import { proceed, type Outcome } from '../outcome.js';
import type { SessionContext } from '../session-context.js';
import type { SessionState } from '../session-state.js';

export function handleRcpt(ctx: SessionContext, state: SessionState, cmd: Extract<Command, { verb: 'RCPT' }>): Outcome {
  if (state.phase === 'greeting') return proceed(state, REPLIES.sendHeloFirst, true);
  if (state.phase !== 'transaction') return proceed(state, REPLIES.needMail, true);
  const policy = ctx.conn.policy;
  const to = cmd.to;

  const firstParam = cmd.params.keys().next();
  if (firstParam.done !== true) return proceed(state, REPLIES.unsupportedParameter(firstParam.value));

  const isBarePostmaster = to.domain === '' && to.local.toLowerCase() === 'postmaster';
  if (policy.behavior === 'accept' && !isBarePostmaster) {
    if (isRelayProbe(to.local, to.domain, to.quoted, to.hadSourceRoute) !== null) return proceed(state, REPLIES.relayProbe);
    if (!isRecipientDomainAccepted(ctx.runtime.listener.rat, to.domain)) return proceed(state, REPLIES.recipientRejected);
  }

  const address = mailboxToString(to);
  const tx = state.tx;
  if (tx.recipients.some((r) => r.toLowerCase() === address.toLowerCase())) return proceed(state, REPLIES.rcptOk);
  if (tx.recipients.length >= policy.maxRecipientsPerMessage) return proceed(state, REPLIES.tooManyRecipients);
  if (!ctx.services.recipientRates.tryConsume(ctx.conn.ip, policy.maxRecipientsPerHour)) {
    ctx.services.log.emit({ event: 'icid.limit', icid: ctx.conn.icid, what: 'maxRecipientsPerHour', detail: String(policy.maxRecipientsPerHour) });
    return proceed(state, REPLIES.recipientRate);
  }

  const rid = tx.recipients.length;
  ctx.services.log.emit({ event: 'mid.rcpt', mid: tx.mid, icid: ctx.conn.icid, rid, to: address });
  return proceed({ ...state, tx: { ...tx, recipients: [...tx.recipients, address] } }, REPLIES.rcptOk);
}
