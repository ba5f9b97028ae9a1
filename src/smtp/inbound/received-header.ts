/**
 * The `Received:` trace header we prepend (RFC 5321 §4.4, with the RFC 3848
 * protocol names: ESMTPS when STARTTLS was used) recording protocol and cipher.
 */
import type { Greeting } from './session-state.js';
import type { TlsFacts } from './session-context.js';

export interface ReceivedInput {
  greeting: Greeting;
  ip: string;
  reverseDns: string | null;
  hostname: string;
  mid: number;
  tls: TlsFacts | null;
  recipients: readonly string[];
  date: Date;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

/** RFC 5322 date-time in local time with a numeric zone. */
export function rfc5322Date(d: Date): string {
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const zone = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`;
  return `${DAYS[d.getDay()]}, ${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zone}`;
}

/** Keep only printable ASCII without parentheses or brackets, at most 255 characters. */
function clean(s: string): string {
  return s.replace(/[^\x21-\x7e]|[()[\]\\]/g, '').slice(0, 255) || 'unknown';
}

/** The client address as an RFC 5321 §4.1.3 address literal body: `IPv6:` before an IPv6 address (as Postfix writes it). */
function addressLiteral(ip: string): string {
  const text = clean(ip);
  return text.includes(':') ? `IPv6:${text}` : text;
}

export function receivedHeader(r: ReceivedInput): string {
  const protocol = (r.greeting.verb === 'EHLO' ? 'ESMTP' : 'SMTP') + (r.tls ? 'S' : '');
  const lines = [
    `Received: from ${clean(r.greeting.domain)} (${clean(r.reverseDns ?? 'unknown')} [${addressLiteral(r.ip)}])`,
    `\tby ${r.hostname} (Gatehouse) with ${protocol} id ${r.mid}`,
  ];
  if (r.tls) lines.push(`\t(version=${clean(r.tls.protocol)} cipher=${clean(r.tls.cipher)})`);
  const only = r.recipients.length === 1 ? r.recipients[0] : undefined;
  if (only !== undefined) lines.push(`\tfor <${only.replace(/[^\x21-\x7e]/g, '')}>;`);
  else {
    const last = lines.length - 1;
    lines[last] = `${lines[last]};`;
  }
  lines.push(`\t${rfc5322Date(r.date)}`);
  return lines.join('\r\n') + '\r\n';
}
