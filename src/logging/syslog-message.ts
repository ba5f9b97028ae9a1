/**
 * One mail-log line as a syslog message, in the BSD form of RFC 3164 that the
 * appliance sends (its syslog lines read `<host> mail_logs: Info: <text>`):
 *
 *     <PRI>Mmm dd hh:mm:ss HOST TAG: Level: text
 *
 * PRI = facility × 8 + severity (Info → 6 informational, Warning → 4,
 * Critical → 2). The timestamp is local time with the day of month
 * space-padded (`Nov  9`), as RFC 3164 §4.1.2 requires. Over TCP each message is
 * framed by RFC 6587 octet counting (`LEN SP MSG`); over UDP it is one datagram.
 *
 * Pure: no sockets, no clock. The text is the mail log's already-sanitised
 * line text, so it holds no CR or LF and one message is always one line.
 */
import { SYSLOG_FACILITY_CODES, type SyslogFacility } from '../config/syslog-settings.js';
import type { LogLevel } from './mail-events.js';

/** RFC 5424 §6.2.1 severities of the mail log's levels. */
export const SYSLOG_SEVERITY: Readonly<Record<LogLevel, number>> = { Critical: 2, Warning: 4, Info: 6 };

/** Longest UDP datagram sent: RFC 3164 allows 1024, most servers take 2048 (rsyslog's default is 8 KiB). */
export const MAX_UDP_MESSAGE_BYTES = 2048;
/** Longest message sent over TCP (rsyslog's default `maxMessageSize`). */
export const MAX_TCP_MESSAGE_BYTES = 8192;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** One line to forward: its time (ms), level and text, as the mail log rendered them. */
export interface MailLogLine {
  time: number;
  level: LogLevel;
  text: string;
}

/** What every message of one sender shares. */
export interface SyslogHeader {
  facility: SyslogFacility;
  /** HOST field: the gateway's host name. */
  hostname: string;
  /** TAG field, e.g. `mail_logs`. */
  tag: string;
}

export function syslogPri(facility: SyslogFacility, level: LogLevel): number {
  return SYSLOG_FACILITY_CODES[facility] * 8 + SYSLOG_SEVERITY[level];
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** `Mmm dd hh:mm:ss` in local time, the day space-padded (`Nov  9 08:05:03`). */
export function formatSyslogTimestamp(d: Date): string {
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** `<PRI>Mmm dd hh:mm:ss HOST TAG: Level: text`. */
export function formatSyslogMessage(header: SyslogHeader, line: MailLogLine): string {
  return `<${syslogPri(header.facility, line.level)}>${formatSyslogTimestamp(new Date(line.time))} ${header.hostname} ${header.tag}: ${line.level}: ${line.text}`;
}

/**
 * `s` as UTF-8, cut to at most `maxBytes` without splitting a character
 * (a cut multi-byte sequence would make the receiver see U+FFFD or reject it).
 */
export function utf8Truncated(s: string, maxBytes: number): { bytes: Buffer; truncated: boolean } {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length <= maxBytes) return { bytes, truncated: false };
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return { bytes: bytes.subarray(0, end), truncated: true };
}

/** RFC 6587 §3.4.1 octet-counting frame: `MSG-LEN SP SYSLOG-MSG`. */
export function octetCountingFrame(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}
