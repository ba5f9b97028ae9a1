/**
 * SMTP commands as the parser hands them to the session: one tagged union,
 * no sockets, no configuration. Produced by `parseCommand` (command-parser.ts).
 */
import type { SmtpReply } from '../../core/smtp-reply.js';

/** An envelope address `local@domain`. The null reverse-path `<>` is `null` in MAIL. */
export interface Mailbox {
  /** Local part as written (quotes removed for quoted-string local parts). */
  readonly local: string;
  /** Domain, lower-cased; an address literal keeps its brackets (`[192.0.2.1]`); '' for bare `<postmaster>`. */
  readonly domain: string;
  /** The local part was a quoted string (`"a b"@x`). */
  readonly quoted: boolean;
  /** A source route (`<@a,@b:u@d>`) was given and dropped (RFC 5321 §4.1.1.3 says ignore it). */
  readonly hadSourceRoute: boolean;
}

/** ESMTP parameters, keyword upper-cased; `true` for a keyword without a value. */
export type EsmtpParams = ReadonlyMap<string, string | true>;

export type Command =
  | { readonly verb: 'EHLO' | 'HELO'; readonly domain: string }
  | { readonly verb: 'MAIL'; readonly from: Mailbox | null; readonly params: EsmtpParams }
  | { readonly verb: 'RCPT'; readonly to: Mailbox; readonly params: EsmtpParams }
  | { readonly verb: 'DATA' | 'RSET' | 'NOOP' | 'QUIT' | 'STARTTLS' | 'HELP' }
  | { readonly verb: 'VRFY' | 'EXPN'; readonly argument: string }
  /** A known verb with bad syntax; `reply` is what to answer (501/553/555...). */
  | { readonly verb: 'INVALID'; readonly name: string; readonly reply: SmtpReply }
  /** An unrecognised verb (500). `looksLikeHttp` / `looksLikeTls` flag cross-protocol input. */
  | { readonly verb: 'UNKNOWN'; readonly name: string; readonly looksLikeHttp: boolean; readonly looksLikeTls: boolean };

export type Verb = Command['verb'];

/** `local@domain` as written in logs and headers (no angle brackets). */
export function mailboxToString(m: Mailbox): string {
  const local = m.quoted ? `"${m.local.replace(/(["\\])/g, '\\$1')}"` : m.local;
  return m.domain === '' ? local : `${local}@${m.domain}`;
}
