/**
 * Rendering helpers for server replies: a pipelined group of replies goes out
 * in one write (SPEC §4.3), and the EHLO reply is built in one place.
 */
import { renderReply, reply, type SmtpReply } from '../../core/smtp-reply.js';

/** All replies rendered back to back (each line CRLF-terminated), for a single socket write. */
export function renderReplies(replies: readonly SmtpReply[]): string {
  let out = '';
  for (const r of replies) out += renderReply(r);
  return out;
}

/**
 * The multi-line `250` EHLO reply: `250-<hostname> <greeting>` then one line per
 * keyword (`PIPELINING`, `SIZE 10485760`, ...). No enhanced status code (RFC 2034).
 * CR, LF and other control characters in the inputs are replaced by spaces.
 */
export function ehloReply(hostname: string, greeting: string, keywords: string[]): SmtpReply {
  const first = [clean(hostname), clean(greeting)].filter((s) => s !== '').join(' ');
  return reply(250, undefined, first, ...keywords.map(clean).filter((k) => k !== ''));
}

function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
}
