/**
 * Delivery status notifications (RFC 3464 / RFC 6522; SPEC §5.3; catalogue
 * #43): a `multipart/report; report-type=delivery-status` with a human part,
 * the `message/delivery-status` part (one block per failed recipient) and the
 * original message's header section (`text/rfc822-headers`). Marked
 * `Auto-Submitted: auto-replied`; sent with the null sender `<>` to the
 * original envelope sender, never when that sender is itself `<>` (no bounce
 * loops). Lines are CRLF only, ready for the spool.
 *
 * The same builder makes delay warnings (`kind: 'delay'`, RFC 3464 §2.3.3
 * `Action: delayed` with a 4.x.x status and `Will-Retry-Until`): the message
 * is still queued and will be retried.
 */
import crypto from 'node:crypto';

export interface FailedRecipient {
  address: string;
  /** Enhanced status, e.g. `5.1.1`. */
  status: string;
  /** The remote reply or our reason (`smtp; 550 5.1.1 ...`). */
  diagnostic: string;
  /** The next hop that answered, when there was one. */
  remoteMta: string | null;
  lastAttempt: Date;
}

export interface DsnInput {
  /** Our host name (Reporting-MTA, From). */
  hostname: string;
  originalMid: number;
  /** Original envelope sender; must not be '' (the caller checks with shouldSendDsn). */
  to: string;
  arrivalDate: Date;
  now: Date;
  recipients: FailedRecipient[];
  /** The original message (header section is copied). */
  originalBody: Buffer;
  /** `failure` (default): the recipients failed for good. `delay`: still being retried. */
  kind?: 'failure' | 'delay';
  /** For `delay`: when the queue gives up (the message's expiry). */
  willRetryUntil?: Date;
}

/** RFC 5321 §4.5.5: never a notification about a message from the null sender. */
export function shouldSendDsn(envelopeSender: string): boolean {
  return envelopeSender !== '';
}

/** The header section of a stored message (everything before the first empty line). */
export function headerSection(body: Buffer): Buffer {
  const end = body.indexOf('\r\n\r\n');
  return end < 0 ? body : body.subarray(0, end + 2);
}

function rfc5322Date(d: Date): string {
  return d.toUTCString().replace('GMT', '+0000');
}

/** Removes CR/LF (header injection) from a value put into a header or status field. */
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

/** Enhanced status for a reply code without one. */
export function statusOf(code: number, enhanced: string | undefined): string {
  if (enhanced) return enhanced;
  return code >= 500 ? '5.0.0' : '4.0.0';
}

export function buildDsn(input: DsnInput): Buffer {
  const boundary = `=_gatehouse_dsn_${crypto.randomBytes(12).toString('hex')}`;
  const host = oneLine(input.hostname);
  const delay = input.kind === 'delay';
  const until = input.willRetryUntil ? rfc5322Date(input.willRetryUntil) : null;
  const summary = delay
    ? ['Your message has not been delivered yet to one or more recipients.', `It is still in the queue and will be retried${until ? ` until ${until}` : ''}.`, 'You do not need to send it again.']
    : ['Your message could not be delivered to one or more recipients.'];
  const lines: string[] = [
    `From: Mail Delivery System <MAILER-DAEMON@${host}>`,
    `To: <${oneLine(input.to)}>`,
    delay ? 'Subject: Delayed Mail (still being retried)' : 'Subject: Undelivered Mail Returned to Sender',
    `Date: ${rfc5322Date(input.now)}`,
    `Message-ID: <dsn.${input.originalMid}.${crypto.randomBytes(6).toString('hex')}@${host}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated delivery status notification.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Description: Notification',
    '',
    `This is the mail system at host ${host}.`,
    '',
    ...summary,
    '',
    ...input.recipients.map((r) => `<${oneLine(r.address)}>: ${oneLine(r.diagnostic)}`),
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    'Content-Description: Delivery report',
    '',
    `Reporting-MTA: dns; ${host}`,
    `X-Gatehouse-Queue-ID: ${input.originalMid}`,
    `Arrival-Date: ${rfc5322Date(input.arrivalDate)}`,
  ];
  for (const r of input.recipients) {
    lines.push('', `Final-Recipient: rfc822; ${oneLine(r.address)}`, `Action: ${delay ? 'delayed' : 'failed'}`, `Status: ${oneLine(r.status)}`);
    if (r.remoteMta) lines.push(`Remote-MTA: dns; ${oneLine(r.remoteMta)}`);
    lines.push(`Diagnostic-Code: smtp; ${oneLine(r.diagnostic)}`, `Last-Attempt-Date: ${rfc5322Date(r.lastAttempt)}`);
    if (delay && until) lines.push(`Will-Retry-Until: ${until}`);
  }
  lines.push('', `--${boundary}`, 'Content-Type: text/rfc822-headers', 'Content-Description: Undelivered message headers', '', '');
  const head = Buffer.from(lines.join('\r\n'), 'latin1');
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  return Buffer.concat([head, stripTrailingCrlf(headerSection(input.originalBody)), tail]);
}

function stripTrailingCrlf(b: Buffer): Buffer {
  let end = b.length;
  while (end >= 2 && b[end - 2] === 0x0d && b[end - 1] === 0x0a) end -= 2;
  return b.subarray(0, end);
}
