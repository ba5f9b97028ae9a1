/**
 * What a session knows besides its state: the connection, the listener settings
 * it was opened under (a snapshot: a commit affects only later sessions), the
 * services it uses, and per-connection counters.
 */
import type tls from 'node:tls';
import type { Clock } from '../../core/clock.js';
import type { Config, Listener, MailFlowPolicy } from '../../config/schema.js';
import type { MailLogSink } from '../../logging/mail-events.js';
import type { NewMessage } from '../../queue/spool-types.js';
import type { RecipientRateLimiter } from '../../policy/recipient-rate-limiter.js';

/** Where accepted messages go: resolves only once the message is durable. */
export interface MessageStore {
  store(message: NewMessage, body: Buffer): Promise<void>;
}

export interface InboundServices {
  readonly spool: MessageStore;
  readonly log: MailLogSink;
  readonly nextMid: () => number;
  readonly clock: Clock;
  readonly recipientRates: RecipientRateLimiter;
  /** Counted TLS outcomes (for reports and alerts); optional hook. */
  readonly onTlsOutcome?: (outcome: { ok: boolean; listener: string; reason?: string }) => void;
}

/** A listener's settings as compiled from one committed configuration. */
export interface ListenerRuntime {
  readonly listener: Listener;
  /** Banner / EHLO name. */
  readonly hostname: string;
  readonly smtp: Config['smtp'];
  readonly tls: {
    readonly defaultContext: tls.SecureContext;
    /** Contexts carry the trusted CA list, used when a policy asks for a client certificate. */
    readonly sniCallback: (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => void;
  };
}

export interface ConnectionFacts {
  readonly icid: number;
  readonly ip: string;
  readonly port: number;
  readonly reverseDns: { readonly host: string | null; readonly verified: boolean };
  readonly senderGroup: string;
  readonly policy: MailFlowPolicy;
}

export interface TlsFacts {
  readonly protocol: string;
  readonly cipher: string;
  /** Subject CN of a verified client certificate, when one was presented and verified. */
  readonly clientCertificate: string | null;
}

export interface SessionContext {
  readonly runtime: ListenerRuntime;
  readonly services: InboundServices;
  readonly conn: ConnectionFacts;
  /** Set once STARTTLS succeeded. */
  tls: TlsFacts | null;
  messagesAccepted: number;
  badCommands: number;
  /** `TLS was required` is logged once per session. */
  tlsRequiredLogged: boolean;
}
