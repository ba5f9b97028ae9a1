/**
 * The inbound session as one tagged union. Every handler takes a state and
 * returns the next; the driver (session.ts) switches on `phase` exhaustively.
 * TLS is a property of the connection (SessionContext.tls), not of the phase:
 * a successful STARTTLS returns the session to `greeting`.
 */
import type { DataReader } from '../protocol/data-reader.js';
import type { Mailbox } from '../protocol/command.js';

export interface Greeting {
  readonly verb: 'EHLO' | 'HELO';
  readonly domain: string;
}

export interface Transaction {
  readonly mid: number;
  /** Envelope sender; '' for the null sender `<>`. */
  readonly from: string;
  readonly fromMailbox: Mailbox | null;
  readonly recipients: readonly string[];
  readonly declaredSize: number | null;
  readonly bodyType: '7BIT' | '8BITMIME';
}

export type SessionState =
  /** Banner sent; EHLO/HELO expected. */
  | { readonly phase: 'greeting' }
  /** Greeted, no transaction open. */
  | { readonly phase: 'ready'; readonly greeting: Greeting }
  /** MAIL accepted; RCPT and DATA expected. */
  | { readonly phase: 'transaction'; readonly greeting: Greeting; readonly tx: Transaction }
  /** Receiving message text after 354. */
  | { readonly phase: 'data'; readonly greeting: Greeting; readonly tx: Transaction; readonly reader: DataReader }
  /** `220 Ready to start TLS` sent; the handshake runs; no input is read. */
  | { readonly phase: 'tls-handshake' }
  /** Mail flow policy `reject`: 554 banner sent, every command but QUIT gets 503. */
  | { readonly phase: 'rejecting' }
  /** Closing or closed; nothing more is read. */
  | { readonly phase: 'closed' };

export type Phase = SessionState['phase'];
