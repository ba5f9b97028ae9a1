/**
 * The mail-log event catalogue: every event the mail log can carry, its typed
 * fields, and its appliance-format text (SPEC §9). The text line and the JSON
 * line are both rendered from here; docs/LOG-EVENTS.md is kept in step by a test.
 */

import type { InboundTls, OutboundTls } from '../core/tls-levels.js';

type Rids = readonly number[];
const rids = (r: Rids): string => `[${r.join(', ')}]`;
const addr = (a: string): string => `<${a}>`;

/** Field types of each event, by name. */
export interface MailEventFields {
  'icid.new': { icid: number; listener: string; listenerAddress: string; ip: string; reverseDns: string | null; verified: boolean };
  /** `policy` and `tls` (the mail flow policy and its TLS setting) are JSON-only fields, for tracking and the TLS report. */
  'icid.policy': { icid: number; behavior: 'ACCEPT' | 'RELAY' | 'REJECT' | 'TCPREFUSE'; group: string; rule: string; sbrs: number | null; policy?: string; tls?: InboundTls };
  'icid.tls.success': { icid: number; protocol: string; cipher: string };
  'icid.tls.failed': { icid: number; reason: string };
  'icid.tls.required': { icid: number };
  'icid.tls.client-cert-rejected': { icid: number; reason: string };
  'icid.starttls.injection': { icid: number; bytes: number };
  'icid.limit': { icid: number; what: string; detail: string };
  'icid.lost': { icid: number };
  'icid.close': { icid: number };
  'mid.start': { mid: number; icid: number };
  'mid.from': { mid: number; icid: number; from: string };
  'mid.rcpt': { mid: number; icid: number; rid: number; to: string };
  'mid.ready': { mid: number; bytes: number; from: string };
  'mid.rejected': { mid: number; icid: number; reply: string };
  /**
   * JSON-only fields, for tracking and the TLS report: `domain` (the destination domain), `host` (the next hop's
   * name), `tls` (the wanted level), `destination` (the destination-control entry that chose it) and `retryOf`
   * (on the plaintext retry after a failed handshake: the DCID of the failed connection).
   */
  'dcid.new': { dcid: number; interface: string; ip: string; port: number; domain?: string; host?: string; tls?: OutboundTls; destination?: string; retryOf?: number };
  'dcid.tls.success': { dcid: number; protocol: string; cipher: string };
  'dcid.tls.verified': { dcid: number; identifier: string };
  'dcid.tls.verify-failed': { dcid: number; reason: string };
  'dcid.tls.downgraded': { dcid: number; reason: string };
  'dcid.tls.failed': { dcid: number; reason: string };
  'dcid.tls.required-failed': { dcid: number; ip: string };
  'dcid.starttls.unsupported': { dcid: number };
  'dcid.connection-error': { dcid: number; domain: string; ip: string; port: number; details: string; interface: string; reason: string };
  'dcid.delivery.start': { dcid: number; mid: number; rids: Rids };
  'dcid.delivery.done': { dcid: number; mid: number; rids: Rids };
  'mid.delayed': { dcid: number; mid: number; rid: number; reason: string };
  'mid.bounced': { dcid: number; mid: number; rid: number; reason: string };
  /** `to` (JSON only): the DSN's recipient, the original envelope sender. */
  'mid.dsn': { mid: number; originalMid: number; to?: string };
  'dcid.close': { dcid: number };
  'system': { text: string };
}

export type MailEventName = keyof MailEventFields;
export type MailEvent = { [K in MailEventName]: { event: K } & MailEventFields[K] }[MailEventName];

/** Severity prefix of the text line (`Info:`, `Warning:`). */
export type LogLevel = 'Info' | 'Warning' | 'Critical';

interface CatalogueEntry<K extends MailEventName> {
  level: LogLevel;
  /** One-line description, for docs/LOG-EVENTS.md. */
  describe: string;
  text: (f: MailEventFields[K]) => string;
}

export const MAIL_EVENTS: { [K in MailEventName]: CatalogueEntry<K> } = {
  'icid.new': {
    level: 'Info',
    describe: 'A client connected to a listener.',
    text: (f) => `New SMTP ICID ${f.icid} interface ${f.listener} (${f.listenerAddress}) address ${f.ip} reverse dns host ${f.reverseDns ?? 'unknown'} verified ${f.verified ? 'yes' : 'no'}`,
  },
  'icid.policy': {
    level: 'Info',
    describe: 'The HAT matched a sender group; its mail flow policy behaviour applies.',
    text: (f) => `ICID ${f.icid} ${f.behavior} SG ${f.group} match ${f.rule} SBRS ${f.sbrs ?? 'None'}`,
  },
  'icid.tls.success': { level: 'Info', describe: 'Inbound STARTTLS handshake completed.', text: (f) => `ICID ${f.icid} TLS success protocol ${f.protocol} cipher ${f.cipher}` },
  'icid.tls.failed': { level: 'Info', describe: 'Inbound STARTTLS handshake failed (the TLS library\'s reason).', text: (f) => `ICID ${f.icid} TLS failed: ${f.reason}` },
  'icid.tls.required': {
    level: 'Info',
    describe: 'A command other than EHLO/HELO/NOOP/RSET/QUIT/STARTTLS arrived on a plaintext session whose policy requires TLS.',
    text: (f) => `ICID ${f.icid} TLS was required but remote host did not initiate it`,
  },
  'icid.tls.client-cert-rejected': { level: 'Warning', describe: 'A client certificate was missing or invalid under verifyClientCertificate.', text: (f) => `ICID ${f.icid} TLS client certificate rejected: ${f.reason}` },
  'icid.starttls.injection': {
    level: 'Warning',
    describe: 'Bytes pipelined after STARTTLS, before the handshake, were discarded (CVE-2011-0411 class).',
    text: (f) => `ICID ${f.icid} STARTTLS: discarded ${f.bytes} bytes sent before the TLS handshake`,
  },
  'icid.limit': { level: 'Info', describe: 'A session limit was hit (what and detail say which).', text: (f) => `ICID ${f.icid} limit ${f.what}: ${f.detail}` },
  'icid.lost': { level: 'Info', describe: 'The connection ended without QUIT.', text: (f) => `ICID ${f.icid} lost` },
  'icid.close': { level: 'Info', describe: 'The connection closed.', text: (f) => `ICID ${f.icid} close` },
  'mid.start': { level: 'Info', describe: 'A message transaction began (MAIL FROM accepted).', text: (f) => `Start MID ${f.mid} ICID ${f.icid}` },
  'mid.from': { level: 'Info', describe: 'Envelope sender.', text: (f) => `MID ${f.mid} ICID ${f.icid} From: ${addr(f.from)}` },
  'mid.rcpt': { level: 'Info', describe: 'An accepted envelope recipient and its RID.', text: (f) => `MID ${f.mid} ICID ${f.icid} RID ${f.rid} To: ${addr(f.to)}` },
  'mid.ready': { level: 'Info', describe: 'The message is stored durably and acknowledged with 250.', text: (f) => `MID ${f.mid} ready ${f.bytes} bytes from ${addr(f.from)}` },
  'mid.rejected': { level: 'Info', describe: 'The message was refused after DATA.', text: (f) => `MID ${f.mid} ICID ${f.icid} rejected: ${f.reply}` },
  'dcid.new': { level: 'Info', describe: 'A delivery connection opened.', text: (f) => `New SMTP DCID ${f.dcid} interface ${f.interface} address ${f.ip} port ${f.port}` },
  'dcid.tls.success': { level: 'Info', describe: 'Outbound STARTTLS handshake completed.', text: (f) => `DCID ${f.dcid} TLS success protocol ${f.protocol} cipher ${f.cipher}` },
  'dcid.tls.verified': { level: 'Info', describe: 'The peer certificate chained to a trusted CA and matched an identifier.', text: (f) => `DCID ${f.dcid} TLS certificate verified: matched ${f.identifier}` },
  'dcid.tls.verify-failed': { level: 'Warning', describe: 'The peer certificate could not be verified.', text: (f) => `DCID ${f.dcid} TLS certificate verification failed: ${f.reason}` },
  'dcid.tls.downgraded': { level: 'Warning', describe: 'A preferred level continued in plaintext.', text: (f) => `DCID ${f.dcid} TLS downgraded to plaintext: ${f.reason}` },
  'dcid.tls.failed': { level: 'Info', describe: 'Outbound TLS failed.', text: (f) => `DCID ${f.dcid} TLS failed: ${f.reason}` },
  'dcid.tls.required-failed': {
    level: 'Warning',
    describe: 'A required TLS level could not be met; nothing was sent.',
    text: (f) => `DCID ${f.dcid} IP ${f.ip} TLS was required but could not be successfully negotiated`,
  },
  'dcid.starttls.unsupported': { level: 'Info', describe: 'The next hop did not offer STARTTLS.', text: (f) => `DCID ${f.dcid} STARTTLS command not supported.` },
  'dcid.connection-error': {
    level: 'Info',
    describe: 'A delivery connection failed.',
    text: (f) => `Connection Error: DCID ${f.dcid} domain: ${f.domain} IP:${f.ip} port: ${f.port} details: ${f.details} interface: ${f.interface} reason: ${f.reason}`,
  },
  'dcid.delivery.start': { level: 'Info', describe: 'Delivery of a message to some recipients began.', text: (f) => `Delivery start DCID ${f.dcid} MID ${f.mid} to RID ${rids(f.rids)}` },
  'dcid.delivery.done': { level: 'Info', describe: 'The next hop accepted the message for these recipients.', text: (f) => `Message done DCID ${f.dcid} MID ${f.mid} to RID ${rids(f.rids)}` },
  'mid.delayed': { level: 'Info', describe: 'A recipient was deferred; it will be retried.', text: (f) => `Delayed: DCID ${f.dcid} MID ${f.mid} to RID ${f.rid} - ${f.reason}` },
  'mid.bounced': { level: 'Info', describe: 'A recipient failed permanently.', text: (f) => `Bounced: DCID ${f.dcid} MID ${f.mid} to RID ${f.rid} - ${f.reason}` },
  'mid.dsn': { level: 'Info', describe: 'A delivery status notification was generated.', text: (f) => `MID ${f.mid} DSN generated for MID ${f.originalMid}` },
  'dcid.close': { level: 'Info', describe: 'A delivery connection closed.', text: (f) => `DCID ${f.dcid} close` },
  system: { level: 'Info', describe: 'Gateway start, stop, reload and other system notes.', text: (f) => f.text },
};

/** The text of an event as it appears after the timestamp and level in mail.current. */
export function renderMailEvent(e: MailEvent): { level: LogLevel; text: string } {
  const entry = MAIL_EVENTS[e.event] as CatalogueEntry<typeof e.event>;
  return { level: entry.level, text: entry.text(e as never) };
}

/** Where events go. The gateway has one; tests may collect events in memory. */
export interface MailLogSink {
  emit(e: MailEvent): void;
}
