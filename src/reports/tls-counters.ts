/**
 * Turns mail-log events into TLS report counts (see tls-counts.ts), per
 * direction, domain and UTC hour. It subscribes to the gateway's event tap
 * (`gateway.onMailEvent`), follows each connection from open to close, and
 * counts the connection once, when it closes, in the hour of its close.
 *
 * Inbound (ICID), only sessions whose policy behaviour is ACCEPT or RELAY
 * (REJECT / TCPREFUSE sessions and connections refused by the per-IP cap
 * carry no mail and are not counted):
 * - policy `tls: required`: TLS established → required success, else
 *   required failure (the client never started TLS, or its handshake or
 *   client certificate failed);
 * - `preferred`: established → preferred success; handshake failed or client
 *   certificate rejected → preferred failure; STARTTLS not used → plaintext;
 * - `off`: plaintext.
 * The inbound domain of a connection is the domain of the first envelope
 * sender on it (MAIL FROM); a connection without one (nothing sent, the null
 * sender, or refused before MAIL) counts under its verified reverse-DNS host
 * name with the first label dropped when it has three or more
 * (`mx1.example.com` → `example.com`), else under its IP address. Messages
 * (`MID ready`) count under their own sender's domain (the null sender under
 * the connection's key), encrypted when their connection was.
 *
 * Outbound (DCID), the destination domain, by the level wanted
 * (`dcid.new.tls`): required levels (`required`, `required-verify`,
 * `required-verify-hosted`): TLS established and not refused by
 * verification → required success, else required failure; preferred levels
 * (`preferred`, `preferred-verify`): established → preferred success;
 * STARTTLS refused or handshake failed → preferred failure (its plaintext
 * retry is a new connection, counted as plaintext); STARTTLS not offered →
 * plaintext; `no` → plaintext. A connection that never opened (TCP connect
 * failed) is not counted. Messages: each `Message done`, encrypted when its
 * connection was.
 */
import type { InboundTls, OutboundTls } from '../core/tls-levels.js';
import type { MailEvent } from '../logging/mail-events.js';
import { addCounts, emptyCounts, hourOf, type TlsCountName, type TlsCounts, type TlsDirection } from './tls-counts.js';

/** Counts of one hour: direction → domain → counts. */
export type HourCounts = Record<TlsDirection, Map<string, TlsCounts>>;

interface InboundConnection {
  /** Fallback key: reverse-DNS domain or IP. */
  hostKey: string;
  counted: boolean;
  tls: InboundTls;
  tlsUp: boolean;
  tlsFailed: boolean;
  senderDomain: string | null;
  mids: Set<number>;
}

interface OutboundConnection {
  domain: string;
  tls: OutboundTls;
  tlsUp: boolean;
  tlsFailed: boolean;
  requiredFailed: boolean;
  verified: boolean;
}

const isRequired = (l: OutboundTls): boolean => l === 'required' || l === 'required-verify' || l === 'required-verify-hosted';

/** The domain of an address (lower case), or null for the null sender and malformed addresses. */
export function domainOfAddress(address: string): string | null {
  const at = address.lastIndexOf('@');
  if (at < 0 || at === address.length - 1) return null;
  return address.slice(at + 1).toLowerCase();
}

/** The inbound key of a connecting host: verified reverse DNS (first label dropped at 3+ labels), else the IP. */
export function hostKey(ip: string, reverseDns: string | null, verified: boolean): string {
  if (!verified || !reverseDns) return ip;
  const labels = reverseDns.toLowerCase().split('.');
  return labels.length >= 3 ? labels.slice(1).join('.') : labels.join('.');
}

export class TlsConnectionCounter {
  private readonly inbound = new Map<number, InboundConnection>();
  /** MID → ICID, from `Start MID` to `ready` / `rejected` / connection close. */
  private readonly midIcid = new Map<number, number>();
  private readonly outbound = new Map<number, OutboundConnection>();
  /** Counts not yet taken by {@link takeDelta}: hour → direction → domain → counts. */
  private delta = new Map<number, HourCounts>();

  /** Feeds one event (the tap's listener). */
  observe(e: MailEvent, time: number): void {
    switch (e.event) {
      case 'icid.new':
        this.inbound.set(e.icid, { hostKey: hostKey(e.ip, e.reverseDns, e.verified), counted: false, tls: 'preferred', tlsUp: false, tlsFailed: false, senderDomain: null, mids: new Set() });
        break;
      case 'icid.policy': {
        const c = this.inbound.get(e.icid);
        if (!c) break;
        c.counted = e.behavior === 'ACCEPT' || e.behavior === 'RELAY';
        c.tls = e.tls ?? 'preferred';
        break;
      }
      case 'icid.limit': {
        const c = this.inbound.get(e.icid);
        if (c && e.what === 'maxConnectionsPerIp') c.counted = false;
        break;
      }
      case 'icid.tls.success': {
        const c = this.inbound.get(e.icid);
        if (c) c.tlsUp = true;
        break;
      }
      case 'icid.tls.failed':
      case 'icid.tls.client-cert-rejected': {
        const c = this.inbound.get(e.icid);
        if (c) c.tlsFailed = true;
        break;
      }
      case 'mid.start': {
        this.midIcid.set(e.mid, e.icid);
        this.inbound.get(e.icid)?.mids.add(e.mid);
        break;
      }
      case 'mid.from': {
        const c = this.inbound.get(e.icid);
        if (c && c.senderDomain === null) c.senderDomain = domainOfAddress(e.from);
        break;
      }
      case 'mid.ready': {
        const icid = this.midIcid.get(e.mid);
        this.midIcid.delete(e.mid);
        const c = icid === undefined ? undefined : this.inbound.get(icid);
        if (!c) break;
        c.mids.delete(e.mid);
        if (!c.counted) break;
        const domain = domainOfAddress(e.from) ?? c.senderDomain ?? c.hostKey;
        const encrypted = c.tlsUp && !c.tlsFailed;
        this.add(time, 'inbound', domain, { messages: 1, encryptedMessages: encrypted ? 1 : 0 });
        break;
      }
      case 'mid.rejected': {
        this.midIcid.delete(e.mid);
        this.inbound.get(e.icid)?.mids.delete(e.mid);
        break;
      }
      case 'icid.close': {
        const c = this.inbound.get(e.icid);
        if (!c) break;
        this.inbound.delete(e.icid);
        for (const mid of c.mids) this.midIcid.delete(mid);
        if (c.counted) this.add(time, 'inbound', c.senderDomain ?? c.hostKey, { connections: 1, [inboundClass(c)]: 1 });
        break;
      }
      case 'dcid.new':
        this.outbound.set(e.dcid, { domain: (e.domain ?? 'unknown').toLowerCase(), tls: e.tls ?? 'preferred', tlsUp: false, tlsFailed: false, requiredFailed: false, verified: false });
        break;
      case 'dcid.tls.success': {
        const c = this.outbound.get(e.dcid);
        if (c) c.tlsUp = true;
        break;
      }
      case 'dcid.tls.verified': {
        const c = this.outbound.get(e.dcid);
        if (c) c.verified = true;
        break;
      }
      case 'dcid.tls.failed': {
        const c = this.outbound.get(e.dcid);
        if (c) c.tlsFailed = true;
        break;
      }
      case 'dcid.tls.required-failed': {
        const c = this.outbound.get(e.dcid);
        if (c) c.requiredFailed = true;
        break;
      }
      case 'dcid.delivery.done': {
        const c = this.outbound.get(e.dcid);
        if (c) this.add(time, 'outbound', c.domain, { messages: 1, encryptedMessages: c.tlsUp ? 1 : 0 });
        break;
      }
      case 'dcid.close': {
        const c = this.outbound.get(e.dcid);
        if (!c) break;
        this.outbound.delete(e.dcid);
        this.add(time, 'outbound', c.domain, { connections: 1, [outboundClass(c)]: 1, verified: c.tlsUp && c.verified ? 1 : 0 });
        break;
      }
      default:
        break;
    }
  }

  /** True when counts are waiting for {@link takeDelta}. */
  get dirty(): boolean {
    return this.delta.size > 0;
  }

  /** The counts gathered since the last call (hour start → counts), and a fresh start. */
  takeDelta(): Map<number, HourCounts> {
    const d = this.delta;
    this.delta = new Map();
    return d;
  }

  /** Puts counts back (a flush that could not write them). */
  restoreDelta(d: Map<number, HourCounts>): void {
    for (const [hour, counts] of d) {
      for (const direction of ['inbound', 'outbound'] as const) {
        for (const [domain, c] of counts[direction]) this.add(hour, direction, domain, c);
      }
    }
  }

  private add(time: number, direction: TlsDirection, domain: string, counts: Partial<TlsCounts>): void {
    const hour = hourOf(time);
    let h = this.delta.get(hour);
    if (!h) this.delta.set(hour, (h = { inbound: new Map(), outbound: new Map() }));
    let c = h[direction].get(domain);
    if (!c) h[direction].set(domain, (c = emptyCounts()));
    addCounts(c, counts);
  }
}

function inboundClass(c: InboundConnection): TlsCountName {
  const up = c.tlsUp && !c.tlsFailed;
  if (c.tls === 'required') return up ? 'requiredSuccess' : 'requiredFailure';
  if (c.tls === 'preferred') return up ? 'preferredSuccess' : c.tlsFailed ? 'preferredFailure' : 'plaintext';
  return 'plaintext';
}

function outboundClass(c: OutboundConnection): TlsCountName {
  if (c.tls === 'no') return 'plaintext';
  if (isRequired(c.tls)) return c.tlsUp && !c.requiredFailed ? 'requiredSuccess' : 'requiredFailure';
  return c.tlsUp ? 'preferredSuccess' : c.tlsFailed ? 'preferredFailure' : 'plaintext';
}
