/**
 * One delivery connection to one next hop, with the TLS level of its
 * destination control applied exactly as SPEC §5.2 says (STYLE habits 3, 5):
 *
 * | level                  | not offered / refused          | handshake fails                 | verification fails        |
 * |------------------------|--------------------------------|---------------------------------|---------------------------|
 * | no                     | (never STARTTLS)               | –                               | –                         |
 * | preferred              | plaintext, downgrade logged    | reconnect once in plaintext     | (not verified)            |
 * | required               | nothing sent, defer 4.7.4      | nothing sent, defer 4.7.4       | (not verified)            |
 * | preferred-verify       | plaintext, downgrade logged    | reconnect once in plaintext     | logged, continue encrypted|
 * | required-verify(-hosted)| nothing sent, defer 4.7.4     | nothing sent, defer 4.7.4       | nothing sent, defer 4.7.5 |
 *
 * Every fallback is a logged and counted event, and before the first MAIL the
 * achieved level is checked once more against the wanted one (the last,
 * local check of habit 3), so no path can send in plaintext where TLS is
 * required.
 */
import type tls from 'node:tls';
import type { OutboundTls } from '../../core/tls-levels.js';
import { reply, type SmtpReply } from '../../core/smtp-reply.js';
import type { MailLogSink } from '../../logging/mail-events.js';
import type { DestinationPolicy } from '../../policy/destination-controls.js';
import { describeIdentifier, identifiersFor, verifyPeer } from '../../policy/tls-verification.js';
import { has8BitBytes } from './dot-stuff.js';
import { downgradeTo7bit } from './eight-bit-downgrade.js';
import type { NextHop } from './next-hops.js';
import { intendedInterface } from './source-address.js';
import { SmtpClient, SmtpClientError, TlsHandshakeError, endpointText, formatReply, type Capabilities, type ClientFailureKind, type ClientTimeouts, type MailTransaction } from './smtp-client.js';

/** What one connection achieved, kept on the recipients' records for reports and `track`. */
export interface TlsRecord {
  wanted: OutboundTls;
  /** Which destination-control entry chose `wanted`. */
  policy: string;
  achieved: 'plaintext' | 'encrypted' | 'verified';
  protocol: string | null;
  cipher: string | null;
  /** Verification outcome: true, false (with `verifyFailure`), or null when the level does not verify. */
  verified: boolean | null;
  verifyFailure: string | null;
  /** Identifier that matched (`name`), whether it was weak, and what was tried. */
  identifier: string | null;
  weak: boolean;
  tried: string[];
  /** Why a preferred level ended in plaintext, if it did. */
  downgrade: string | null;
  /** Bytes received after the STARTTLS 220 and discarded (response injection). */
  discardedBytes: number;
}

export interface DeliveryCounters {
  connections: number;
  connectionErrors: number;
  tlsSuccess: number;
  tlsFailures: number;
  /** Preferred levels that fell back to plaintext. */
  downgrades: number;
  /** preferred-verify connections that continued with an unverified certificate. */
  unverifiedContinued: number;
  requiredTlsFailures: number;
  delivered: number;
  deferred: number;
  bounced: number;
  dsns: number;
  /** Of `dsns`: delay warnings (Action: delayed). */
  delayWarnings: number;
}

export function newCounters(): DeliveryCounters {
  return { connections: 0, connectionErrors: 0, tlsSuccess: 0, tlsFailures: 0, downgrades: 0, unverifiedContinued: 0, requiredTlsFailures: 0, delivered: 0, deferred: 0, bounced: 0, dsns: 0, delayWarnings: 0 };
}

/** The event the alerts issue subscribes to (`alertOnRequiredTlsFailure`). */
export interface RequiredTlsFailure {
  dcid: number;
  domain: string;
  /** The hop's host name (MX exchange, route host). */
  host: string;
  ip: string;
  port: number;
  level: OutboundTls;
  reason: string;
}

export interface AttemptContext {
  nextDcid: () => number;
  log: MailLogSink;
  /** EHLO name. */
  hostname: string;
  domain: string;
  hop: NextHop;
  /** Local address to connect from (`sourceAddressV4`/`V6` of the hop's family); null: the OS chooses. */
  sourceAddress: string | null;
  policy: DestinationPolicy;
  /** ca (trusted list), minVersion, ciphers, and the client certificate when configured. */
  tlsOptions: tls.ConnectionOptions;
  timeouts: ClientTimeouts;
  counters: DeliveryCounters;
  onRequiredTlsFailure?: (e: RequiredTlsFailure) => void;
}

export type OpenResult =
  | { kind: 'open'; conn: DeliveryConnection }
  /** Nothing was sent; `reply` is the deferral (or the next hop's permanent refusal of the session). */
  | { kind: 'failed'; reply: SmtpReply; tls: TlsRecord | null; dcid: number | null };

export interface RecipientOutcome {
  rid: number;
  outcome: 'delivered' | 'deferred' | 'bounced';
  reply: SmtpReply;
}

export interface DeliveryMessage {
  mid: number;
  from: string;
  bodyType: '7BIT' | '8BITMIME';
  body: Buffer;
  recipients: readonly { rid: number; address: string }[];
}

const isRequired = (l: OutboundTls): boolean => l === 'required' || l === 'required-verify' || l === 'required-verify-hosted';
const verifies = (l: OutboundTls): boolean => l === 'preferred-verify' || l === 'required-verify' || l === 'required-verify-hosted';
const needsVerified = (l: OutboundTls): boolean => l === 'required-verify' || l === 'required-verify-hosted';

const CONNECTION_REASON: Record<ClientFailureKind, string> = {
  network: 'network error',
  timeout: 'connection timed out',
  unexpected: 'unexpected SMTP response',
  canceled: 'connection canceled',
};

function outcomeOf(r: SmtpReply): RecipientOutcome['outcome'] {
  if (r.code >= 200 && r.code < 300) return 'delivered';
  return r.code >= 500 ? 'bounced' : 'deferred';
}

/**
 * The failure of a session the next hop refused (greeting, EHLO/HELO): a 5xx
 * refusal is permanent (bounce, keeping the next hop's code and enhanced
 * status); anything else defers with 451 4.4.2.
 */
function refusal(r: SmtpReply, text: string): SmtpReply {
  if (r.code >= 500 && r.code < 600) return reply(r.code, r.enhanced?.startsWith('5.') ? r.enhanced : '5.0.0', text);
  return reply(451, '4.4.2', text);
}

/**
 * Opens a connection to `ctx.hop` and negotiates TLS per the policy. A
 * preferred level whose handshake fails is retried once in plaintext on a new
 * connection (with its own DCID).
 */
export async function openDeliveryConnection(ctx: AttemptContext): Promise<OpenResult> {
  const first = await openOnce(ctx, false);
  if (first.kind !== 'retry-plaintext') return first;
  const second = await openOnce(ctx, true, first.reason, first.dcid);
  return second.kind === 'retry-plaintext' ? { kind: 'failed', reply: reply(451, '4.4.2', second.reason), tls: null, dcid: null } : second;
}

type OnceResult = OpenResult | { kind: 'retry-plaintext'; reason: string; dcid: number };

async function openOnce(ctx: AttemptContext, plaintextOnly: boolean, downgradeReason?: string, retryOf?: number): Promise<OnceResult> {
  const { hop, log, counters } = ctx;
  const level = ctx.policy.settings.tls;
  const dcid = ctx.nextDcid();
  const record: TlsRecord = {
    wanted: level,
    policy: ctx.policy.matched,
    achieved: 'plaintext',
    protocol: null,
    cipher: null,
    verified: null,
    verifyFailure: null,
    identifier: null,
    weak: false,
    tried: [],
    downgrade: downgradeReason ?? null,
    discardedBytes: 0,
  };
  const connectionError = (details: string, kind: ClientFailureKind, iface: string): void => {
    counters.connectionErrors++;
    log.emit({ event: 'dcid.connection-error', dcid, domain: ctx.domain, ip: hop.ip, port: hop.port, details, interface: iface, reason: CONNECTION_REASON[kind] });
  };
  let client: SmtpClient;
  try {
    client = await SmtpClient.connect({ ip: hop.ip, port: hop.port, timeouts: ctx.timeouts, localAddress: ctx.sourceAddress });
  } catch (err) {
    const e = err instanceof SmtpClientError ? err : new SmtpClientError('network', String(err));
    // A source address this machine does not have fails here (EADDRNOTAVAIL): the line names it, and the message defers.
    connectionError(e.message, e.kind, intendedInterface(hop.ip, ctx.sourceAddress));
    return { kind: 'failed', reply: reply(451, '4.4.1', `Connection to ${endpointText(hop.ip, hop.port)} failed: ${e.message}`), tls: null, dcid };
  }
  counters.connections++;
  log.emit({ event: 'dcid.new', dcid, interface: client.localAddress, ip: hop.ip, port: hop.port, domain: ctx.domain, host: hop.host, tls: level, destination: ctx.policy.matched, ...(retryOf !== undefined ? { retryOf } : {}) });
  const close = async (): Promise<void> => {
    await client.quit();
    log.emit({ event: 'dcid.close', dcid });
  };
  const requiredFailure = async (reason: string, enhanced: '4.7.4' | '4.7.5', alive: boolean): Promise<OpenResult> => {
    counters.requiredTlsFailures++;
    log.emit({ event: 'dcid.tls.required-failed', dcid, ip: hop.ip });
    ctx.onRequiredTlsFailure?.({ dcid, domain: ctx.domain, host: hop.host, ip: hop.ip, port: hop.port, level, reason });
    if (alive) await close();
    else {
      client.destroy();
      log.emit({ event: 'dcid.close', dcid });
    }
    return { kind: 'failed', reply: reply(454, enhanced, `TLS was required but could not be successfully negotiated: ${reason}`), tls: record, dcid };
  };
  const downgrade = (reason: string): void => {
    counters.downgrades++;
    record.downgrade = reason;
    log.emit({ event: 'dcid.tls.downgraded', dcid, reason });
  };

  try {
    const greeting = await client.greeting();
    if (greeting.code !== 220) {
      connectionError(formatReply(greeting), 'unexpected', client.localAddress);
      await close();
      return { kind: 'failed', reply: refusal(greeting, `Next hop ${hop.ip} refused the session: ${formatReply(greeting)}`), tls: null, dcid };
    }
    let hello = await client.hello(ctx.hostname);
    if (hello.reply.code !== 250) {
      connectionError(formatReply(hello.reply), 'unexpected', client.localAddress);
      await close();
      return { kind: 'failed', reply: refusal(hello.reply, `Next hop ${hop.ip} refused EHLO/HELO: ${formatReply(hello.reply)}`), tls: null, dcid };
    }
    if (downgradeReason !== undefined) {
      // The plaintext retry after a failed handshake: the downgrade is logged (and counted) on this connection.
      downgrade(downgradeReason);
    } else if (level !== 'no' && !plaintextOnly) {
      if (!hello.caps.starttls) {
        log.emit({ event: 'dcid.starttls.unsupported', dcid });
        if (isRequired(level)) return await requiredFailure('STARTTLS not offered', '4.7.4', true);
        downgrade('STARTTLS not offered');
      } else {
        let started: Awaited<ReturnType<SmtpClient['startTls']>>;
        try {
          started = await client.startTls({ ...ctx.tlsOptions, rejectUnauthorized: false, checkServerIdentity: () => undefined, ...(hop.servername ? { servername: hop.servername } : {}) });
        } catch (err) {
          if (!(err instanceof TlsHandshakeError)) throw err;
          counters.tlsFailures++;
          log.emit({ event: 'dcid.tls.failed', dcid, reason: err.message });
          if (isRequired(level)) return await requiredFailure(`TLS handshake failed: ${err.message}`, '4.7.4', false);
          client.destroy();
          log.emit({ event: 'dcid.close', dcid });
          return { kind: 'retry-plaintext', reason: `TLS handshake failed: ${err.message}`, dcid };
        }
        if ('refused' in started) {
          counters.tlsFailures++;
          log.emit({ event: 'dcid.tls.failed', dcid, reason: 'STARTTLS unexpected response' });
          if (isRequired(level)) return await requiredFailure(`STARTTLS refused: ${formatReply(started.refused)}`, '4.7.4', true);
          downgrade(`STARTTLS refused: ${formatReply(started.refused)}`);
        } else {
          counters.tlsSuccess++;
          record.achieved = 'encrypted';
          record.protocol = started.info.protocol;
          record.cipher = started.info.cipher;
          record.discardedBytes = started.discarded;
          log.emit({ event: 'dcid.tls.success', dcid, protocol: started.info.protocol, cipher: started.info.cipher });
          if (started.discarded > 0) log.emit({ event: 'system', text: `DCID ${dcid} STARTTLS: discarded ${started.discarded} bytes received before the TLS handshake` });
          if (verifies(level)) {
            const ids = identifiersFor(level === 'required-verify-hosted' ? 'hosted' : 'verify', hop.identifiers);
            const v = verifyPeer(started.socket, ids);
            record.tried = ids.map((i) => i.name);
            if (v.verified) {
              record.verified = true;
              record.achieved = 'verified';
              record.identifier = v.identifier.name;
              record.weak = v.identifier.weak;
              log.emit({ event: 'dcid.tls.verified', dcid, identifier: describeIdentifier(v.identifier) });
            } else {
              record.verified = false;
              record.verifyFailure = v.reason;
              log.emit({ event: 'dcid.tls.verify-failed', dcid, reason: v.reason });
              if (needsVerified(level)) return await requiredFailure(`certificate verification failed: ${v.reason}`, '4.7.5', true);
              counters.unverifiedContinued++;
            }
          }
          hello = await client.hello(ctx.hostname);
          if (hello.reply.code !== 250) {
            connectionError(formatReply(hello.reply), 'unexpected', client.localAddress);
            await close();
            return { kind: 'failed', reply: reply(451, '4.4.2', `Next hop ${hop.ip} refused EHLO after STARTTLS: ${formatReply(hello.reply)}`), tls: record, dcid };
          }
        }
      }
    }
    // The local minimum, checked last (habit 3): whatever happened above, never send below the wanted level.
    if (isRequired(level) && record.achieved === 'plaintext') return await requiredFailure('no TLS on this connection', '4.7.4', true);
    if (needsVerified(level) && record.achieved !== 'verified') return await requiredFailure('certificate not verified', '4.7.5', true);
    return { kind: 'open', conn: new DeliveryConnection(ctx, dcid, client, hello.caps, record) };
  } catch (err) {
    const e = err instanceof SmtpClientError ? err : new SmtpClientError('network', String(err));
    connectionError(e.reply ? formatReply(e.reply) : e.message, e.kind, client.localAddress);
    client.destroy();
    log.emit({ event: 'dcid.close', dcid });
    return { kind: 'failed', reply: reply(451, '4.4.2', `Connection to ${endpointText(hop.ip, hop.port)} failed: ${e.message}`), tls: record, dcid };
  }
}

/** An open, policy-checked connection: deliver messages one after another, then close. */
export class DeliveryConnection {
  messages = 0;
  private closed = false;
  /**
   * The message whose MAIL/RCPT/DATA went out with the previous message's end of data (RFC 2920
   * pipelining across transactions): the next `deliver` must be for it, or the connection is
   * closed (the next hop then drops the half-sent transaction).
   */
  pipelined: DeliveryMessage | null = null;
  private pipelinedTx: MailTransaction | null = null;

  constructor(
    private readonly ctx: AttemptContext,
    readonly dcid: number,
    private readonly client: SmtpClient,
    readonly caps: Capabilities,
    readonly tls: TlsRecord,
  ) {}

  get hop(): NextHop {
    return this.ctx.hop;
  }

  /** The destination control that applied to this connection. */
  get policy(): DestinationPolicy {
    return this.ctx.policy;
  }

  get usable(): boolean {
    return !this.closed && !this.client.isBroken;
  }

  /**
   * Whether `m` can follow the current message without a round trip of its own: the next hop
   * pipelines, and `m` needs no 8-bit conversion and fits its SIZE limit (the checks `deliver`
   * would otherwise make before sending anything).
   */
  canFollow(m: DeliveryMessage): boolean {
    if (!this.caps.pipelining || this.closed) return false;
    if (m.bodyType === '8BITMIME' && !this.caps.eightBitMime) return false;
    return !this.exceedsSizeLimit(m.body.length);
  }

  /** The next hop announced a SIZE limit (RFC 1870) and `bytes` is over it. */
  private exceedsSizeLimit(bytes: number): boolean {
    return this.caps.size !== null && this.caps.size > 0 && bytes > this.caps.size;
  }

  /**
   * Sends one message to some of its recipients (RSET first when the last transaction was left
   * open); returns each recipient's outcome. `next` (when `canFollow` says so): its envelope goes
   * out with this message's end of data, and `pipelined` is set to it when that happened.
   */
  async deliver(m: DeliveryMessage, next?: DeliveryMessage): Promise<RecipientOutcome[]> {
    const { log } = this.ctx;
    const rids = m.recipients.map((r) => r.rid);
    const all = (r: SmtpReply): RecipientOutcome[] => rids.map((rid) => ({ rid, outcome: outcomeOf(r), reply: r }));
    const chained = this.pipelined === m ? this.pipelinedTx : null;
    this.pipelined = null;
    this.pipelinedTx = null;
    this.messages++;
    log.emit({ event: 'dcid.delivery.start', dcid: this.dcid, mid: m.mid, rids });
    // RFC 6152: a next hop without 8BITMIME cannot take 8-bit data: convert (single-part text to
    // quoted-printable) or, when that cannot be done safely, bounce with a clear reason.
    let body = m.body;
    let bodyType = m.bodyType;
    if (m.bodyType === '8BITMIME' && !this.caps.eightBitMime && has8BitBytes(m.body)) {
      const converted = downgradeTo7bit(m.body);
      if (converted.kind === 'refused') {
        return all(reply(554, '5.6.3', `Message has 8-bit content that cannot be converted (${converted.reason}) and the next hop does not support 8BITMIME (RFC 6152)`));
      }
      body = converted.body;
      bodyType = '7BIT';
      log.emit({ event: 'system', text: `DCID ${this.dcid} MID ${m.mid} 8-bit body converted to quoted-printable: the next hop does not support 8BITMIME` });
    }
    if (this.exceedsSizeLimit(body.length)) {
      return all(reply(552, '5.3.4', `Message size ${body.length} exceeds the next hop's limit of ${this.caps.size} bytes`));
    }
    try {
      const tx = chained ?? { from: m.from, recipients: m.recipients.map((r) => r.address), body, bodyType };
      const nextTx = next && this.canFollow(next) ? { from: next.from, recipients: next.recipients.map((r) => r.address), body: next.body, bodyType: next.bodyType } : undefined;
      const res = await this.client.transaction(tx, this.caps, nextTx);
      if (res.nextSent && next && nextTx) {
        this.pipelined = next;
        this.pipelinedTx = nextTx;
      }
      const out: RecipientOutcome[] = m.recipients.map((r, i) => {
        const rr = res.recipients[i] ?? reply(451, '4.4.2', 'No reply to RCPT');
        if (!(rr.code >= 200 && rr.code < 300)) return { rid: r.rid, outcome: outcomeOf(rr), reply: rr };
        const fin = res.final ?? res.failure ?? reply(451, '4.4.2', 'No reply after DATA');
        return { rid: r.rid, outcome: outcomeOf(fin), reply: fin };
      });
      const done = out.filter((o) => o.outcome === 'delivered').map((o) => o.rid);
      if (done.length > 0) log.emit({ event: 'dcid.delivery.done', dcid: this.dcid, mid: m.mid, rids: done });
      return out;
    } catch (err) {
      const e = err instanceof SmtpClientError ? err : new SmtpClientError('network', String(err));
      this.ctx.counters.connectionErrors++;
      log.emit({
        event: 'dcid.connection-error',
        dcid: this.dcid,
        domain: this.ctx.domain,
        ip: this.ctx.hop.ip,
        port: this.ctx.hop.port,
        details: e.reply ? formatReply(e.reply) : e.message,
        interface: this.client.localAddress,
        reason: CONNECTION_REASON[e.kind],
      });
      return all(reply(451, '4.4.2', `Connection to ${this.ctx.hop.ip} lost during the transaction: ${e.message}`));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.quit();
    this.ctx.log.emit({ event: 'dcid.close', dcid: this.dcid });
  }
}
