/**
 * Message tracking (SPEC §9 `gatehouse track`, GUI "Mail Logs & Message
 * Tracking"): a message's whole story, rebuilt from the JSON-lines mail log
 * (rotated generations oldest first, then mail.current.jsonl).
 *
 * Correlation: `mid.start` ties a MID to its ICID (the inbound connection,
 * its sender group, policy and TLS); every delivery event names its DCID and
 * MID (`Delivery start`, `Message done`, `Delayed`, `Bounced`), which ties
 * the DCID's connection lines (`New SMTP DCID`, TLS, verification, close) to
 * the message; `dcid.new.retryOf` adds the failed handshake connection that
 * preceded a plaintext retry; `mid.dsn` links a DSN and its original.
 *
 * Two passes over the files: the first keeps a small index per MID (ICID,
 * addresses, DCIDs, time), the second collects the events of the selected
 * messages only, so memory grows with the number of messages, not of lines.
 */
import { homeLayout } from '../core/home-layout.js';
import type { InboundTls, OutboundTls } from '../core/tls-levels.js';
import { readLoggedEvents, type LoggedEvent } from '../logging/mail-log-files.js';
import type { LogLevel } from '../logging/mail-events.js';

export interface TrackQuery {
  mid?: number;
  /** Envelope sender: `a@b` exactly, or `@b` / `b` for every sender of that domain (case-insensitive). */
  from?: string;
  /** Envelope recipient, same forms as `from`. */
  to?: string;
  /** Only messages received at or after this time (ms since the epoch). */
  since?: number;
  /** Only messages received before this time (ms since the epoch). */
  until?: number;
  /** At most this many stories, the most recent ones (default 1000). */
  limit?: number;
}

export type RecipientStatus = 'delivered' | 'bounced' | 'deferred' | 'queued';

export type MessageOutcome =
  /** Every recipient delivered. */
  | 'delivered'
  /** Every recipient bounced. */
  | 'bounced'
  /** Some recipients delivered, the others bounced. */
  | 'partially bounced'
  /** At least one recipient is waiting for a retry after a failed attempt. */
  | 'deferred'
  /** Stored, not yet attempted. */
  | 'queued'
  /** Refused after DATA. */
  | 'rejected'
  /** The transaction never completed (no `ready`, no rejection). */
  | 'incomplete';

export interface InboundConnectionStory {
  icid: number;
  time: string;
  listener: string;
  listenerAddress: string;
  ip: string;
  reverseDns: string | null;
  reverseDnsVerified: boolean;
}

export interface SenderGroupStory {
  behavior: string;
  group: string;
  rule: string;
  sbrs: number | null;
  /** Mail flow policy name and its TLS setting (null in logs written before these fields existed). */
  policy: string | null;
  tls: InboundTls | null;
}

export interface TlsInStory {
  status: 'encrypted' | 'plaintext' | 'failed';
  protocol: string | null;
  cipher: string | null;
  /** Reason of a failed handshake, a TLS-required refusal, or a rejected client certificate. */
  failure: string | null;
}

export interface DeliveryAttemptStory {
  dcid: number;
  /** Time of the connection (or of its failure). */
  time: string;
  domain: string | null;
  /** Next hop name (MX or route host) and address. */
  host: string | null;
  ip: string | null;
  port: number | null;
  interface: string | null;
  /** The TLS level wanted and the destination-control entry that chose it. */
  tlsWanted: OutboundTls | null;
  destination: string | null;
  /** This connection is the plaintext retry after the handshake of `retryOf` failed. */
  retryOf: number | null;
  tls: { protocol: string; cipher: string } | null;
  verification: { verified: true; identifier: string } | { verified: false; reason: string } | null;
  tlsFailure: string | null;
  starttlsUnsupported: boolean;
  downgraded: string | null;
  requiredTlsFailed: boolean;
  connectionError: { details: string; reason: string } | null;
  /** RIDs of `Delivery start`, of `Message done`, and the deferred / bounced ones with their reasons. */
  started: number[];
  delivered: number[];
  delayed: { rid: number; reason: string }[];
  bounced: { rid: number; reason: string }[];
}

export interface MessageStory {
  mid: number;
  /** Time of `Start MID` (or of the DSN's creation). */
  receivedAt: string | null;
  connection: InboundConnectionStory | null;
  senderGroup: SenderGroupStory | null;
  tlsIn: TlsInStory | null;
  /** Envelope sender (`''` is the null sender); null when the log does not say. */
  from: string | null;
  recipients: { rid: number; to: string; status: RecipientStatus; reason: string | null }[];
  bytes: number | null;
  rejected: string | null;
  /** For a DSN: the MID it reports on. */
  dsnFor: number | null;
  /** DSNs generated for this message. */
  dsns: number[];
  attempts: DeliveryAttemptStory[];
  outcome: MessageOutcome;
  /** The log lines of the story, in order. */
  lines: { time: string; level: LogLevel; text: string }[];
}

/** What the first pass keeps per MID. */
interface MidIndex {
  mid: number;
  time: number;
  icid: number | null;
  from: string | null;
  to: string[];
  dcids: Set<number>;
  dsnFor: number | null;
}

/** `a@b` exactly, or `@b` / `b` as a domain; case-insensitive. */
function addressMatcher(pattern: string): (address: string) => boolean {
  const p = pattern.trim().toLowerCase().replace(/^<|>$/g, '');
  if (p.includes('@') && !p.startsWith('@')) return (a) => a.toLowerCase() === p;
  const domain = p.replace(/^@/, '');
  return (a) => a.toLowerCase().endsWith(`@${domain}`);
}

/** The ID fields of a JSON log line (they are numbers, written without spaces by JSON.stringify). */
const ID_FIELDS = /"(mid|originalMid|icid|dcid)":(\d+)/g;

function field<T>(e: LoggedEvent, name: string): T | undefined {
  return (e as unknown as Record<string, unknown>)[name] as T | undefined;
}

/** The messages matching `query`, each with its whole story, oldest first. */
export async function trackMessages(home: string, query: TrackQuery): Promise<MessageStory[]> {
  const dir = homeLayout(home).mailLogDir;
  const limit = query.limit ?? 1000;

  // Pass 1: a light index of every MID, and the retry links between DCIDs.
  const index = new Map<number, MidIndex>();
  const retryOf = new Map<number, number>();
  const entry = (mid: number, time: number): MidIndex => {
    let m = index.get(mid);
    if (!m) index.set(mid, (m = { mid, time, icid: null, from: null, to: [], dcids: new Set(), dsnFor: null }));
    return m;
  };
  const indexed = (line: string): boolean => line.includes('"event":"mid.') || line.includes('"event":"dcid.delivery.') || line.includes('"retryOf":');
  for await (const e of readLoggedEvents(dir, indexed)) {
    const t = Date.parse(e.time);
    switch (e.event) {
      case 'mid.start':
        entry(e.mid, t).icid = e.icid;
        break;
      case 'mid.from':
        entry(e.mid, t).from = e.from;
        break;
      case 'mid.rcpt':
        entry(e.mid, t).to.push(e.to);
        break;
      case 'mid.dsn': {
        const dsn = entry(e.mid, t);
        dsn.dsnFor = e.originalMid;
        dsn.from = '';
        if (e.to !== undefined) dsn.to.push(e.to);
        break;
      }
      case 'dcid.delivery.start':
      case 'dcid.delivery.done':
      case 'mid.delayed':
      case 'mid.bounced':
        if (e.dcid > 0) entry(e.mid, t).dcids.add(e.dcid);
        break;
      case 'dcid.new':
        if (e.retryOf !== undefined) retryOf.set(e.dcid, e.retryOf);
        break;
      default:
        break;
    }
  }

  const fromMatches = query.from !== undefined ? addressMatcher(query.from) : null;
  const toMatches = query.to !== undefined ? addressMatcher(query.to) : null;
  let selected = [...index.values()].filter((m) => {
    if (query.mid !== undefined && m.mid !== query.mid) return false;
    if (fromMatches && (m.from === null || !fromMatches(m.from))) return false;
    if (toMatches && !m.to.some(toMatches)) return false;
    if (query.since !== undefined && m.time < query.since) return false;
    if (query.until !== undefined && m.time >= query.until) return false;
    return true;
  });
  selected.sort((a, b) => a.time - b.time || a.mid - b.mid);
  if (selected.length > limit) selected = selected.slice(selected.length - limit);
  if (selected.length === 0) return [];

  // Pass 2: the events of the selected messages, their connections and their delivery connections.
  const byMid = new Map<number, { index: MidIndex; events: LoggedEvent[] }>();
  const midsOfIcid = new Map<number, number[]>();
  const midsOfDcid = new Map<number, number[]>();
  const add = (map: Map<number, number[]>, key: number, mid: number): void => {
    const list = map.get(key);
    if (list) list.push(mid);
    else map.set(key, [mid]);
  };
  for (const m of selected) {
    byMid.set(m.mid, { index: m, events: [] });
    if (m.icid !== null) add(midsOfIcid, m.icid, m.mid);
    for (const d of m.dcids) {
      add(midsOfDcid, d, m.mid);
      for (let r = retryOf.get(d); r !== undefined; r = retryOf.get(r)) add(midsOfDcid, r, m.mid);
    }
  }
  // Only lines naming a selected MID (or original MID), ICID or DCID are parsed.
  const selectedMids = new Set(byMid.keys());
  const relevant = (line: string): boolean => {
    for (const m of line.matchAll(ID_FIELDS)) {
      const id = Number(m[2]);
      const set = m[1] === 'icid' ? midsOfIcid : m[1] === 'dcid' ? midsOfDcid : selectedMids;
      if (set.has(id)) return true;
    }
    return false;
  };
  for await (const e of readLoggedEvents(dir, relevant)) {
    const mid = field<number>(e, 'mid');
    if (mid !== undefined) {
      byMid.get(mid)?.events.push(e);
      if (e.event === 'mid.dsn') byMid.get(e.originalMid)?.events.push(e);
      continue;
    }
    const dcid = field<number>(e, 'dcid');
    if (dcid !== undefined) {
      for (const m of midsOfDcid.get(dcid) ?? []) byMid.get(m)?.events.push(e);
      continue;
    }
    const icid = field<number>(e, 'icid');
    if (icid !== undefined) for (const m of midsOfIcid.get(icid) ?? []) byMid.get(m)?.events.push(e);
  }
  return selected.map((m) => buildStory(m, byMid.get(m.mid)!.events));
}

function buildStory(m: MidIndex, events: LoggedEvent[]): MessageStory {
  const story: MessageStory = {
    mid: m.mid,
    receivedAt: null,
    connection: null,
    senderGroup: null,
    tlsIn: null,
    from: m.from,
    recipients: [],
    bytes: null,
    rejected: null,
    dsnFor: m.dsnFor,
    dsns: [],
    attempts: [],
    outcome: 'incomplete',
    lines: events.map((e) => ({ time: e.time, level: e.level, text: e.text })),
  };
  const attempts = new Map<number, DeliveryAttemptStory>();
  const attempt = (dcid: number, time: string): DeliveryAttemptStory => {
    let a = attempts.get(dcid);
    if (!a) {
      a = {
        dcid,
        time,
        domain: null,
        host: null,
        ip: null,
        port: null,
        interface: null,
        tlsWanted: null,
        destination: null,
        retryOf: null,
        tls: null,
        verification: null,
        tlsFailure: null,
        starttlsUnsupported: false,
        downgraded: null,
        requiredTlsFailed: false,
        connectionError: null,
        started: [],
        delivered: [],
        delayed: [],
        bounced: [],
      };
      attempts.set(dcid, a);
    }
    return a;
  };
  /** Final state per RID: the last delivery event about it wins. */
  const finalState = new Map<number, { status: RecipientStatus; reason: string | null }>();
  let ready = false;
  for (const e of events) {
    switch (e.event) {
      case 'icid.new':
        story.connection = { icid: e.icid, time: e.time, listener: e.listener, listenerAddress: e.listenerAddress, ip: e.ip, reverseDns: e.reverseDns, reverseDnsVerified: e.verified };
        break;
      case 'icid.policy':
        story.senderGroup = { behavior: e.behavior, group: e.group, rule: e.rule, sbrs: e.sbrs, policy: e.policy ?? null, tls: e.tls ?? null };
        break;
      case 'icid.tls.success':
        story.tlsIn = { status: 'encrypted', protocol: e.protocol, cipher: e.cipher, failure: null };
        break;
      case 'icid.tls.failed':
        story.tlsIn = { status: 'failed', protocol: null, cipher: null, failure: e.reason };
        break;
      case 'icid.tls.client-cert-rejected':
        story.tlsIn = { status: 'failed', protocol: story.tlsIn?.protocol ?? null, cipher: story.tlsIn?.cipher ?? null, failure: `client certificate rejected: ${e.reason}` };
        break;
      case 'mid.start':
        story.receivedAt = e.time;
        break;
      case 'mid.from':
        story.from = e.from;
        break;
      case 'mid.rcpt':
        story.recipients.push({ rid: e.rid, to: e.to, status: 'queued', reason: null });
        break;
      case 'mid.ready':
        ready = true;
        story.bytes = e.bytes;
        break;
      case 'mid.rejected':
        story.rejected = e.reply;
        break;
      case 'mid.dsn':
        if (e.mid === m.mid) {
          story.receivedAt ??= e.time;
          ready = true;
          if (story.recipients.length === 0 && e.to !== undefined) story.recipients.push({ rid: 0, to: e.to, status: 'queued', reason: null });
        } else story.dsns.push(e.mid);
        break;
      case 'dcid.new': {
        const a = attempt(e.dcid, e.time);
        a.ip = e.ip;
        a.port = e.port;
        a.interface = e.interface;
        a.domain = e.domain ?? a.domain;
        a.host = e.host ?? null;
        a.tlsWanted = e.tls ?? null;
        a.destination = e.destination ?? null;
        a.retryOf = e.retryOf ?? null;
        break;
      }
      case 'dcid.tls.success':
        attempt(e.dcid, e.time).tls = { protocol: e.protocol, cipher: e.cipher };
        break;
      case 'dcid.tls.verified':
        attempt(e.dcid, e.time).verification = { verified: true, identifier: e.identifier };
        break;
      case 'dcid.tls.verify-failed':
        attempt(e.dcid, e.time).verification = { verified: false, reason: e.reason };
        break;
      case 'dcid.tls.downgraded':
        attempt(e.dcid, e.time).downgraded = e.reason;
        break;
      case 'dcid.tls.failed':
        attempt(e.dcid, e.time).tlsFailure = e.reason;
        break;
      case 'dcid.tls.required-failed':
        attempt(e.dcid, e.time).requiredTlsFailed = true;
        break;
      case 'dcid.starttls.unsupported':
        attempt(e.dcid, e.time).starttlsUnsupported = true;
        break;
      case 'dcid.connection-error': {
        const a = attempt(e.dcid, e.time);
        a.connectionError = { details: e.details, reason: e.reason };
        a.domain ??= e.domain;
        a.ip ??= e.ip;
        a.port ??= e.port;
        break;
      }
      case 'dcid.delivery.start':
        attempt(e.dcid, e.time).started.push(...e.rids);
        break;
      case 'dcid.delivery.done':
        attempt(e.dcid, e.time).delivered.push(...e.rids);
        for (const rid of e.rids) finalState.set(rid, { status: 'delivered', reason: null });
        break;
      case 'mid.delayed':
        if (e.dcid > 0) attempt(e.dcid, e.time).delayed.push({ rid: e.rid, reason: e.reason });
        finalState.set(e.rid, { status: 'deferred', reason: e.reason });
        break;
      case 'mid.bounced':
        if (e.dcid > 0) attempt(e.dcid, e.time).bounced.push({ rid: e.rid, reason: e.reason });
        finalState.set(e.rid, { status: 'bounced', reason: e.reason });
        break;
      default:
        break;
    }
  }
  if (story.connection && story.tlsIn === null) story.tlsIn = { status: 'plaintext', protocol: null, cipher: null, failure: null };
  for (const r of story.recipients) {
    const f = finalState.get(r.rid);
    if (f) Object.assign(r, f);
  }
  story.attempts = [...attempts.values()].sort((a, b) => a.dcid - b.dcid);
  story.outcome = outcomeOf(story, ready);
  return story;
}

function outcomeOf(story: MessageStory, ready: boolean): MessageOutcome {
  if (story.rejected !== null) return 'rejected';
  if (!ready) return 'incomplete';
  const states = story.recipients.map((r) => r.status);
  if (states.length === 0 || states.every((s) => s === 'queued')) return 'queued';
  if (states.some((s) => s === 'deferred' || s === 'queued')) return 'deferred';
  if (states.every((s) => s === 'delivered')) return 'delivered';
  if (states.every((s) => s === 'bounced')) return 'bounced';
  return 'partially bounced';
}
