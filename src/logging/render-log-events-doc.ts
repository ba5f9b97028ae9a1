/**
 * Renders docs/LOG-EVENTS.md from the event catalogue (MAIL_EVENTS). Run
 * `node dist/src/logging/render-log-events-doc.js > docs/LOG-EVENTS.md` to regenerate;
 * log-events-doc.test.ts fails when the committed doc differs from this output.
 */

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { MAIL_EVENTS, renderMailEvent, type MailEvent, type MailEventFields, type MailEventName } from './mail-events.js';

/**
 * The text form of each event in SPEC §9 notation: `<...>` is a placeholder, except
 * where it wraps an address (`From: <addr>` is written `From: <a@b>`, the null sender `<>`).
 */
export const MAIL_EVENT_TEXT_FORMS: { readonly [K in MailEventName]: string } = {
  'icid.new': 'New SMTP ICID <icid> interface <listener> (<address>) address <ip> reverse dns host <host|unknown> verified <yes|no>',
  'icid.policy': 'ICID <icid> <ACCEPT|RELAY|REJECT|TCPREFUSE> SG <group> match <rule> SBRS <score|None>',
  'icid.tls.success': 'ICID <icid> TLS success protocol <TLSv1.2|TLSv1.3> cipher <name>',
  'icid.tls.failed': 'ICID <icid> TLS failed: <reason>',
  'icid.tls.required': 'ICID <icid> TLS was required but remote host did not initiate it',
  'icid.tls.client-cert-rejected': 'ICID <icid> TLS client certificate rejected: <reason>',
  'icid.starttls.injection': 'ICID <icid> STARTTLS: discarded <bytes> bytes sent before the TLS handshake',
  'icid.limit': 'ICID <icid> limit <what>: <detail>',
  'icid.lost': 'ICID <icid> lost',
  'icid.close': 'ICID <icid> close',
  'mid.start': 'Start MID <mid> ICID <icid>',
  'mid.from': 'MID <mid> ICID <icid> From: <addr>',
  'mid.rcpt': 'MID <mid> ICID <icid> RID <n> To: <addr>',
  'mid.ready': 'MID <mid> ready <bytes> bytes from <addr>',
  'mid.rejected': 'MID <mid> ICID <icid> rejected: <reply>',
  'dcid.new': 'New SMTP DCID <dcid> interface <ip> address <ip> port <port>',
  'dcid.tls.success': 'DCID <dcid> TLS success protocol <proto> cipher <name>',
  'dcid.tls.verified': 'DCID <dcid> TLS certificate verified: matched <identifier>',
  'dcid.tls.verify-failed': 'DCID <dcid> TLS certificate verification failed: <reason>',
  'dcid.tls.downgraded': 'DCID <dcid> TLS downgraded to plaintext: <reason>',
  'dcid.tls.failed': 'DCID <dcid> TLS failed: <reason>',
  'dcid.tls.required-failed': 'DCID <dcid> IP <ip> TLS was required but could not be successfully negotiated',
  'dcid.starttls.unsupported': 'DCID <dcid> STARTTLS command not supported.',
  'dcid.connection-error': 'Connection Error: DCID <dcid> domain: <d> IP:<ip> port: <p> details: <reply> interface: <ip> reason: <reason>',
  'dcid.delivery.start': 'Delivery start DCID <dcid> MID <mid> to RID [<rids>]',
  'dcid.delivery.done': 'Message done DCID <dcid> MID <mid> to RID [<rids>]',
  'mid.delayed': 'Delayed: DCID <dcid> MID <mid> to RID <rid> - <reason>',
  'mid.bounced': 'Bounced: DCID <dcid> MID <mid> to RID <rid> - <reason>',
  'mid.dsn': 'MID <mid> DSN generated for MID <original mid>',
  'dcid.close': 'DCID <dcid> close',
  system: '<text>',
};

/** One sample of each event (used for the doc's Example column and by the tests). */
export const MAIL_EVENT_EXAMPLES: { readonly [K in MailEventName]: MailEventFields[K] } = {
  'icid.new': { icid: 5, listener: 'IncomingMail', listenerAddress: '192.0.2.10', ip: '198.51.100.7', reverseDns: 'mx.example.net', verified: true },
  'icid.policy': { icid: 5, behavior: 'ACCEPT', group: 'UNKNOWNLIST', rule: 'ALL', sbrs: null },
  'icid.tls.success': { icid: 5, protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
  'icid.tls.failed': { icid: 5, reason: 'error:0A0000C1:SSL routines::no shared cipher' },
  'icid.tls.required': { icid: 5 },
  'icid.tls.client-cert-rejected': { icid: 5, reason: 'unable to verify the first certificate' },
  'icid.starttls.injection': { icid: 5, bytes: 22 },
  'icid.limit': { icid: 5, what: 'recipients', detail: 'more than 1000 recipients in one message' },
  'icid.lost': { icid: 5 },
  'icid.close': { icid: 5 },
  'mid.start': { mid: 12, icid: 5 },
  'mid.from': { mid: 12, icid: 5, from: 'alice@example.net' },
  'mid.rcpt': { mid: 12, icid: 5, rid: 0, to: 'bob@example.com' },
  'mid.ready': { mid: 12, bytes: 2048, from: 'alice@example.net' },
  'mid.rejected': { mid: 12, icid: 5, reply: '554 5.7.1 Message refused' },
  'dcid.new': { dcid: 3, interface: '192.0.2.10', ip: '203.0.113.25', port: 25 },
  'dcid.tls.success': { dcid: 3, protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
  'dcid.tls.verified': { dcid: 3, identifier: 'mx.example.com' },
  'dcid.tls.verify-failed': { dcid: 3, reason: 'self-signed certificate' },
  'dcid.tls.downgraded': { dcid: 3, reason: 'handshake failed; retried in plaintext' },
  'dcid.tls.failed': { dcid: 3, reason: 'error:0A000410:SSL routines::sslv3 alert handshake failure' },
  'dcid.tls.required-failed': { dcid: 3, ip: '203.0.113.25' },
  'dcid.starttls.unsupported': { dcid: 3 },
  'dcid.connection-error': {
    dcid: 3,
    domain: 'example.com',
    ip: '203.0.113.25',
    port: 25,
    details: '421 4.3.2 Service not available',
    interface: '192.0.2.10',
    reason: 'unexpected SMTP response',
  },
  'dcid.delivery.start': { dcid: 3, mid: 12, rids: [0, 1] },
  'dcid.delivery.done': { dcid: 3, mid: 12, rids: [0, 1] },
  'mid.delayed': { dcid: 3, mid: 12, rid: 1, reason: '451 4.7.1 Try again later' },
  'mid.bounced': { dcid: 3, mid: 12, rid: 1, reason: '550 5.1.1 User unknown' },
  'mid.dsn': { mid: 13, originalMid: 12 },
  'dcid.close': { dcid: 3 },
  system: { text: 'Gatehouse 0.1.0 started' },
};

/** The example of `name` as a full event. */
export function exampleEvent<K extends MailEventName>(name: K): MailEvent {
  return { event: name, ...MAIL_EVENT_EXAMPLES[name] } as MailEvent;
}

/** Markdown table cell text: a code span with `|` escaped (GFM tables). */
function codeCell(s: string): string {
  return `\`${s.replace(/\|/g, '\\|')}\``;
}

function textCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/** The whole of docs/LOG-EVENTS.md, generated from MAIL_EVENTS. */
export function renderLogEventsDoc(): string {
  const out: string[] = [
    '# Mail log events',
    '',
    '<!-- Generated from src/logging/mail-events.ts; do not edit by hand. Regenerate with:',
    '     npm run -s build && node dist/src/logging/render-log-events-doc.js > docs/LOG-EVENTS.md -->',
    '',
    'Every event the mail log can carry (SPEC §9). In `mail.current` each event is one line,',
    '`<ctime> <Level>: <text>` (for example `Tue Apr 17 00:57:53 2018 Info: ICID 5 close`);',
    'in `mail.current.jsonl` it is one JSON object with `time` (ISO 8601, UTC), `level`, `event`,',
    'the event\'s fields, and `text`. In the text forms, `<...>` is a placeholder, except that',
    'angle brackets around an address are literal (`From: <a@b>`; the null sender is `<>`).',
    'Control characters in field values are written as `\\xHH` (CR LF as `\\x0D\\x0A`), so a',
    'value can never start a new line.',
    '',
    '| Event | Level | Text form | Example | Description |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const name of Object.keys(MAIL_EVENTS) as MailEventName[]) {
    const entry = MAIL_EVENTS[name];
    const example = renderMailEvent(exampleEvent(name)).text;
    out.push(`| ${codeCell(name)} | ${entry.level} | ${codeCell(MAIL_EVENT_TEXT_FORMS[name])} | ${codeCell(example)} | ${textCell(entry.describe)} |`);
  }
  out.push('');
  return out.join('\n');
}

function isMain(): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) process.stdout.write(renderLogEventsDoc());
