/**
 * End of DATA: check what the reader saw (size, line lengths, bare line endings,
 * hop count), prepend `Received:`, and store the message durably before the 250.
 */
import { reply } from '../../../core/smtp-reply.js';
import { errorMessage } from '../../../core/errors.js';
import { receivedHeader } from '../received-header.js';
import { REPLIES } from '../replies.js';
import { proceed, type Outcome } from '../outcome.js';
import type { SessionContext } from '../session-context.js';
import type { SessionState } from '../session-state.js';

type DataState = Extract<SessionState, { phase: 'data' }>;

export async function completeMessage(ctx: SessionContext, state: DataState): Promise<Outcome> {
  const { tx, greeting } = state;
  const ready: SessionState = { phase: 'ready', greeting };
  const result = state.reader.result();
  const refuse = (r: typeof REPLIES.messageTooBig): Outcome => {
    ctx.services.log.emit({ event: 'mid.rejected', mid: tx.mid, icid: ctx.conn.icid, reply: `${r.code} ${r.enhanced ?? ''} ${r.lines.join(' ')}`.replace(/ +/g, ' ') });
    return proceed(ready, r);
  };
  if (result.sizeExceeded) return refuse(REPLIES.messageTooBig);
  if (result.longLines > 0) return refuse(REPLIES.textLineTooLong);
  if (result.bareLineEndings > 0 && ctx.runtime.smtp.bareLineEndings === 'reject') return refuse(REPLIES.bareLineEnding);
  if (result.receivedHeaderCount > ctx.runtime.smtp.maxReceivedHeaders) return refuse(REPLIES.mailLoop);

  const now = ctx.services.clock.now();
  const header = receivedHeader({
    greeting,
    ip: ctx.conn.ip,
    reverseDns: ctx.conn.reverseDns.host,
    hostname: ctx.runtime.hostname,
    mid: tx.mid,
    tls: ctx.tls,
    recipients: tx.recipients,
    date: new Date(now),
  });
  const body = Buffer.concat([Buffer.from(header, 'latin1'), result.body]);
  try {
    await ctx.services.spool.store(
      {
        mid: tx.mid,
        icid: ctx.conn.icid,
        receivedAt: now,
        from: tx.from,
        recipients: [...tx.recipients],
        listener: ctx.runtime.listener.name,
        bodyType: tx.bodyType,
        tls: ctx.tls ? { protocol: ctx.tls.protocol, cipher: ctx.tls.cipher } : null,
        clientIp: ctx.conn.ip,
      },
      body,
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const r = code === 'ENOSPC' || code === 'EDQUOT' ? REPLIES.storageFull : REPLIES.localError;
    ctx.services.log.emit({ event: 'system', text: `MID ${tx.mid} ICID ${ctx.conn.icid} spool write failed: ${code ?? errorMessage(err)}` });
    return refuse(r);
  }
  ctx.messagesAccepted++;
  ctx.services.log.emit({ event: 'mid.ready', mid: tx.mid, bytes: body.length, from: tx.from });
  return proceed(ready, reply(250, '2.0.0', `Ok: queued as ${tx.mid}`));
}
