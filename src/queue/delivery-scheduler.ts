/**
 * The delivery scheduler (SPEC §5.3): picks due recipients from the spool,
 * groups them by destination domain, and runs per-domain workers that resolve
 * the next hops, open policy-checked connections (delivery-attempt.ts) and
 * send message after message over each one (up to `maxMessagesPerConnection`;
 * this reuse is what makes throughput), at most `maxConcurrency` connections
 * per domain, within `maxRecipientsPerPeriod`. A connection whose domain has no
 * more work waits up to `connectionIdleMs` (2 s, like Postfix's connection
 * cache) for the next message before it says QUIT, so a steady trickle of mail
 * does not pay a TCP + TLS handshake every few messages. Bodies of messages
 * just stored by this process are kept in a small bounded cache (`stored()`),
 * so first delivery attempts do not read them back from the spool.
 *
 * Outcomes go back to the spool per recipient: 2xx delivered, 5xx bounced
 * (DSN to the sender), 4xx deferred with the pure retry schedule until the
 * queue lifetime, then bounced (DSN). State lives only in the spool, so a
 * restart recovers by itself. Held messages are skipped. Clock and resolver
 * are injected; `flush()` makes everything due now and resolves when the work
 * it started is finished (tests, `gatehouse queue flush`).
 */
import type { QueueListEntry } from '../core/control-protocol.js';
import { toQueueListEntry } from './queue-listing.js';
import tls from 'node:tls';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { reply, type SmtpReply } from '../core/smtp-reply.js';
import type { Config } from '../config/schema.js';
import type { DnsResolver } from '../dns/resolver.js';
import type { MailLogSink } from '../logging/mail-events.js';
import { compileDestinationControls, type DestinationControls } from '../policy/destination-controls.js';
import {
  newCounters,
  openDeliveryConnection,
  type DeliveryConnection,
  type DeliveryMessage,
  type DeliveryCounters,
  type RecipientOutcome,
  type RequiredTlsFailure,
  type TlsRecord,
} from '../smtp/outbound/delivery-attempt.js';
import { resolveNextHops, type NextHop } from '../smtp/outbound/next-hops.js';
import { sourceAddressFor } from '../smtp/outbound/source-address.js';
import { DEFAULT_CLIENT_TIMEOUTS, formatReply, type ClientTimeouts } from '../smtp/outbound/smtp-client.js';
import { trustedCaList } from '../tls/secure-context.js';
import { encodeAttempt, decodeAttempt } from './attempt-record.js';
import { buildDsn, shouldSendDsn, statusOf, type FailedRecipient } from './dsn.js';
import { delayWarningDue } from './delay-warning.js';
import { IpConnectionSlots } from './ip-connection-slots.js';
import { expiresAt, isExpired, nextAttemptAt } from './retry-schedule.js';
import type { RecipientUpdate, Spool, SpooledMessage, SpoolRecipient } from './spool.js';

/** The outbound client certificate (`destinationControls.certificate`), resolved with its key. */
export interface ClientCertificate {
  /** Leaf + intermediates, PEM. */
  cert: string;
  key: string;
}

export interface DeliverySchedulerOptions {
  spool: Spool;
  log: MailLogSink;
  nextDcid: () => number;
  nextMid: () => number;
  clock: Clock;
  resolver: DnsResolver;
  config: Config;
  clientCertificate?: ClientCertificate | null;
  timeouts?: Partial<ClientTimeouts>;
  /** Random source for MX shuffling. */
  random?: () => number;
  /** A required TLS level could not be met (alerts subscribe here; `alertOnRequiredTlsFailure` is passed along). */
  onRequiredTlsFailure?: (e: RequiredTlsFailure & { alert: boolean }) => void;
  /** How long an open connection with nothing to send waits for new work before QUIT (ms; 0 = close at once). */
  connectionIdleMs?: number;
}

interface WorkItem {
  mid: number;
  rids: number[];
}

/** The recipients of a work item still waiting for delivery. */
function pendingRecipients(m: SpooledMessage, item: WorkItem): SpoolRecipient[] {
  return m.recipients.filter((r) => item.rids.includes(r.rid) && r.state === 'pending');
}

function deliveryMessage(m: SpooledMessage, recipients: readonly SpoolRecipient[], body: Buffer): DeliveryMessage {
  return { mid: m.mid, from: m.from, bodyType: m.bodyType, body, recipients: recipients.map((r) => ({ rid: r.rid, address: r.address })) };
}

/** A work item with what it takes to send it now. */
interface ReadyItem {
  item: WorkItem;
  m: SpooledMessage;
  message: DeliveryMessage;
}

interface DomainState {
  queue: WorkItem[];
  active: number;
  /** Recipients sent in the current rate period: [epoch ms, count]. */
  sent: [number, number][];
  /** Workers whose connection is open and waiting for work: call with true (work queued) or false (close). */
  parked: ((work: boolean) => void)[];
}

const MAX_TIMER_MS = 30_000;
/** Default of `connectionIdleMs` (Postfix's smtp_connection_cache_time_limit is also 2 s). */
export const DEFAULT_CONNECTION_IDLE_MS = 2000;
/** Bytes of freshly stored bodies kept in memory for their first delivery attempt (oldest dropped first). */
const BODY_CACHE_BYTES = 16 * 1024 * 1024;

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return (at < 0 ? address : address.slice(at + 1)).toLowerCase();
}

export class DeliveryScheduler {
  readonly counters: DeliveryCounters = newCounters();
  private config: Config;
  private controls: DestinationControls;
  private secureContext: tls.SecureContext;
  private readonly timeouts: ClientTimeouts;
  private readonly domains = new Map<string, DomainState>();
  private readonly inFlight = new Set<string>();
  private readonly connections = new Set<DeliveryConnection>();
  private running = false;
  private stopping = false;
  private tickScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private busy = 0;
  private idleWaiters: (() => void)[] = [];
  /** Messages whose delay warning is sent (or being sent); the durable mark is `delayWarned` in the attempt records. */
  private readonly delayWarned = new Set<number>();
  /** `queue.maxConnectionsPerIp`: domains that share an MX share its connection slots. */
  private readonly ipSlots = new IpConnectionSlots(() => this.config.queue.maxConnectionsPerIp);
  /** Bumped by every new configuration: open connections of an older one are not reused. */
  private generation = 0;
  private readonly connectionIdleMs: number;
  /** Bodies of recently stored messages (insertion order = age), exactly the bytes handed to the spool. */
  private readonly bodies = new Map<number, Buffer>();
  private bodyBytes = 0;

  constructor(private readonly o: DeliverySchedulerOptions) {
    this.config = o.config;
    this.controls = compileDestinationControls(o.config.destinationControls);
    this.secureContext = this.buildContext(o.config, o.clientCertificate ?? null);
    this.timeouts = { ...DEFAULT_CLIENT_TIMEOUTS, ...o.timeouts };
    this.connectionIdleMs = o.connectionIdleMs ?? DEFAULT_CONNECTION_IDLE_MS;
  }

  private buildContext(config: Config, cert: ClientCertificate | null): tls.SecureContext {
    return tls.createSecureContext({
      ca: trustedCaList(config.trustStore),
      minVersion: config.ssl.outbound.minVersion,
      ciphers: config.ssl.outbound.ciphers,
      ...(cert ? { cert: cert.cert, key: cert.key } : {}),
    });
  }

  /** A new committed configuration: routes, destination controls, trust store and client certificate apply to the next connections. */
  setConfig(config: Config, clientCertificate: ClientCertificate | null = null): void {
    this.secureContext = this.buildContext(config, clientCertificate);
    this.config = config;
    this.controls = compileDestinationControls(config.destinationControls);
    this.generation++;
    this.closeParked();
    this.wake();
  }

  start(): void {
    this.running = true;
    this.stopping = false;
    this.wake();
  }

  /** Stops picking work; lets running deliveries finish up to `graceMs`, then cuts their connections. */
  async stop(graceMs = 5000): Promise<void> {
    this.running = false;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    for (const st of this.domains.values()) {
      for (const item of st.queue.splice(0)) for (const rid of item.rids) this.inFlight.delete(`${item.mid}:${rid}`);
    }
    this.closeParked();
    let t: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (t = setTimeout(resolve, graceMs)));
    await Promise.race([this.idle(), deadline]);
    if (t) clearTimeout(t);
    for (const c of this.connections) void c.close();
    await Promise.race([this.idle(), new Promise((r) => setTimeout(r, 1000).unref())]);
  }

  /** Something new may be due (a message was stored, a hold released): schedule a pass soon. */
  wake(): void {
    if (!this.running || this.tickScheduled) return;
    this.tickScheduled = true;
    this.busy++;
    setImmediate(() => {
      this.tickScheduled = false;
      try {
        this.tick();
      } catch (err) {
        this.o.log.emit({ event: 'system', text: `delivery scheduler error: ${errorMessage(err)}` });
      } finally {
        this.release();
      }
    });
  }

  /** A message is durable in the spool (its body is kept for the first attempt): schedule a pass soon. */
  stored(mid: number, body: Buffer): void {
    if (body.length <= BODY_CACHE_BYTES / 4) {
      this.bodies.set(mid, body);
      this.bodyBytes += body.length;
      for (const [old, b] of this.bodies) {
        if (this.bodyBytes <= BODY_CACHE_BYTES) break;
        this.bodies.delete(old);
        this.bodyBytes -= b.length;
      }
    }
    this.wake();
  }

  private forgetBody(mid: number): void {
    const b = this.bodies.get(mid);
    if (!b) return;
    this.bodies.delete(mid);
    this.bodyBytes -= b.length;
  }

  /** Resolves when no pass or delivery is running. */
  idle(): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private release(): void {
    this.busy--;
    if (this.busy === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Makes every pending recipient due now, runs a pass, and resolves when that work is done. */
  async flush(): Promise<void> {
    const now = this.o.clock.now();
    const writes: Promise<void>[] = [];
    for (const m of this.o.spool.list()) {
      const updates: RecipientUpdate[] = m.recipients.filter((r) => r.state === 'pending' && r.nextAttemptAt > now).map((r) => ({ rid: r.rid, nextAttemptAt: now }));
      if (updates.length > 0) writes.push(this.o.spool.update(m.mid, updates));
    }
    await Promise.all(writes);
    await this.runDue();
  }

  /** Runs one pass over what is due at the clock's now and waits for it, connections closed (fake-clock tests, flush). */
  async runDue(): Promise<void> {
    const wasRunning = this.running;
    this.running = true;
    this.busy++;
    try {
      this.tick();
    } finally {
      this.release();
      this.running = wasRunning && !this.stopping;
    }
    await this.idle();
    this.closeParked();
    await this.idle();
  }

  /** Tells every connection waiting for work to close now. */
  private closeParked(): void {
    for (const st of this.domains.values()) for (const close of st.parked.splice(0)) close(false);
  }

  /**
   * The worker's connection has nothing to send: wait up to `connectionIdleMs`
   * for new work of its domain. A parked connection is not work (`idle()`
   * resolves meanwhile); resolves true when work was queued, false to close.
   */
  private waitForWork(st: DomainState): Promise<boolean> {
    if (this.stopping || this.connectionIdleMs <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      let done = false;
      const finish = (work: boolean): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const i = st.parked.indexOf(finish);
        if (i >= 0) st.parked.splice(i, 1);
        this.busy++;
        resolve(work);
      };
      const timer = setTimeout(() => finish(false), this.connectionIdleMs);
      timer.unref();
      st.parked.push(finish);
      this.release();
    });
  }

  /** One pass: expire old recipients, queue due ones per domain, start workers, arm the timer for the next due time. */
  private tick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.o.clock.now();
    let nextDue = Infinity;
    for (const m of this.o.spool.live()) {
      if (m.held) continue;
      const expired: number[] = [];
      const byDomain = new Map<string, number[]>();
      for (const r of m.recipients) {
        if (r.state !== 'pending' || this.inFlight.has(`${m.mid}:${r.rid}`)) continue;
        if (isExpired(m.receivedAt, now, this.config.queue)) {
          expired.push(r.rid);
          continue;
        }
        if (r.nextAttemptAt > now) {
          nextDue = Math.min(nextDue, r.nextAttemptAt);
          continue;
        }
        const d = domainOf(r.address);
        const list = byDomain.get(d) ?? [];
        list.push(r.rid);
        byDomain.set(d, list);
      }
      const copy = expired.length > 0 ? this.o.spool.get(m.mid) : undefined;
      if (copy) this.track(this.expire(copy, expired));
      for (const [domain, rids] of byDomain) {
        for (const rid of rids) this.inFlight.add(`${m.mid}:${rid}`);
        this.domainState(domain).queue.push({ mid: m.mid, rids });
      }
    }
    for (const [domain, st] of this.domains) this.startWorkers(domain, st);
    if (this.running && nextDue !== Infinity) {
      const wait = Math.min(MAX_TIMER_MS, Math.max(50, nextDue - now));
      this.timer = setTimeout(() => this.wake(), wait);
      this.timer.unref();
    }
  }

  private domainState(domain: string): DomainState {
    let st = this.domains.get(domain);
    if (!st) {
      st = { queue: [], active: 0, sent: [], parked: [] };
      this.domains.set(domain, st);
    }
    return st;
  }

  private startWorkers(domain: string, st: DomainState): void {
    const { maxConcurrency } = this.controls.forDomain(domain).settings;
    // Open connections waiting for work first, one per queued item; then new workers.
    for (let n = st.queue.length; n > 0 && st.parked.length > 0; n--) st.parked.shift()!(true);
    while (st.queue.length > st.active && st.active < maxConcurrency) {
      st.active++;
      this.track(
        this.runWorker(domain, st).finally(() => {
          st.active--;
          if (st.active === 0 && st.queue.length === 0) this.domains.delete(domain);
        }),
      );
    }
  }

  private track(p: Promise<void>): void {
    this.busy++;
    p.catch((err) => this.o.log.emit({ event: 'system', text: `delivery error: ${errorMessage(err)}` })).finally(() => this.release());
  }

  private async runWorker(domain: string, st: DomainState): Promise<void> {
    while (st.queue.length > 0 && !this.stopping) {
      const policy = this.controls.forDomain(domain);
      const routing = await resolveNextHops(domain, {
        routes: this.config.smtpRoutes,
        resolver: this.o.resolver,
        ipPreference: policy.settings.ipPreference,
        ...(this.o.random ? { random: this.o.random } : {}),
      });
      if (routing.kind !== 'hops') {
        // DNS says bounce or defer: the same for everything queued to this domain.
        for (const item of st.queue.splice(0)) await this.settleAll(item, routing.reply, null);
        return;
      }
      let conn: DeliveryConnection | null = null;
      let releaseSlot = (): void => {};
      let lastFailure: { reply: SmtpReply; hop: NextHop; tls: TlsRecord | null; dcid: number | null } | null = null;
      for (const hop of routing.hops) {
        releaseSlot = await this.ipSlots.acquire(hop.ip);
        // While this worker waited for a slot, others may have taken everything.
        if (this.stopping || st.queue.length === 0) {
          releaseSlot();
          break;
        }
        const res = await openDeliveryConnection({
          nextDcid: this.o.nextDcid,
          log: this.o.log,
          hostname: this.config.hostname,
          domain,
          hop,
          sourceAddress: sourceAddressFor(hop.ip, this.config.destinationControls),
          policy: this.controls.forHop(domain, hop.ip),
          tlsOptions: { secureContext: this.secureContext },
          timeouts: this.timeouts,
          counters: this.counters,
          onRequiredTlsFailure: (e) => this.o.onRequiredTlsFailure?.({ ...e, alert: this.controls.alertOnRequiredTlsFailure }),
        });
        if (res.kind === 'open') {
          conn = res.conn;
          break;
        }
        releaseSlot();
        // A permanent refusal by one host never outweighs a temporary failure of another: bounce only when every host said 5xx.
        if (lastFailure === null || lastFailure.reply.code >= 500 || res.reply.code < 500) lastFailure = { reply: res.reply, hop, tls: res.tls, dcid: res.dcid };
        if (this.stopping) break;
      }
      if (!conn) {
        // Every host failed: defer all that is queued for the domain now (one dead destination costs one round of connections, not one per message).
        const r = lastFailure?.reply ?? reply(451, '4.4.1', 'No next hop reachable');
        for (const item of st.queue.splice(0)) await this.settleAll(item, r, lastFailure ? { hop: lastFailure.hop, tls: lastFailure.tls, dcid: lastFailure.dcid } : null);
        return;
      }
      this.connections.add(conn);
      const generation = this.generation;
      // The message whose envelope went out with the previous one's end of data.
      let following: ReadyItem | null = null;
      try {
        const { maxMessagesPerConnection } = conn.policy.settings;
        while (conn.usable && conn.messages < maxMessagesPerConnection && !this.stopping && generation === this.generation) {
          let current: ReadyItem | null = following;
          following = null;
          if (!current) {
            const item = st.queue.shift();
            if (!item) {
              if (await this.waitForWork(st)) continue;
              break;
            }
            if (this.rateLimited(domain, st, item)) continue;
            current = await this.readyItem(item);
            if (!current) continue;
          }
          const next = conn.messages + 2 <= maxMessagesPerConnection ? this.follower(domain, st, conn) : null;
          await this.send(conn, current, next);
          if (next) {
            if (conn.pipelined === next.message) following = next;
            else st.queue.unshift(next.item); // not sent after all (this message never got to its data)
          }
        }
      } finally {
        this.connections.delete(conn);
        // A follower whose envelope went out but that was never sent: closing the connection makes the
        // next hop drop it; a later pass queues it again.
        if (following) this.releaseItem(following.item);
        await conn.close();
        releaseSlot();
      }
    }
  }

  /** Recipient rate limit of the destination: postpones the item (no attempt counted) when the period's budget is used. */
  private rateLimited(domain: string, st: DomainState, item: WorkItem): boolean {
    const { maxRecipientsPerPeriod, periodMinutes } = this.controls.forDomain(domain).settings;
    if (maxRecipientsPerPeriod === null) return false;
    const now = this.o.clock.now();
    const period = periodMinutes * 60_000;
    st.sent = st.sent.filter(([t]) => t > now - period);
    const used = st.sent.reduce((n, [, c]) => n + c, 0);
    if (used + item.rids.length <= maxRecipientsPerPeriod || used === 0) {
      st.sent.push([now, item.rids.length]);
      return false;
    }
    const until = (st.sent[0]?.[0] ?? now) + period;
    const updates = item.rids.map((rid) => ({ rid, nextAttemptAt: until }));
    for (const rid of item.rids) this.inFlight.delete(`${item.mid}:${rid}`);
    this.track(this.o.spool.update(item.mid, updates).catch(() => {}));
    return true;
  }

  private releaseItem(item: WorkItem): void {
    for (const rid of item.rids) this.inFlight.delete(`${item.mid}:${rid}`);
  }

  /** The message of a work item, ready to send; null (the item released) when there is nothing to send. */
  private async readyItem(item: WorkItem): Promise<ReadyItem | null> {
    const m = this.o.spool.get(item.mid);
    const recipients = m && !m.held ? pendingRecipients(m, item) : [];
    if (!m || recipients.length === 0) {
      this.releaseItem(item);
      return null;
    }
    let body: Buffer;
    try {
      body = this.bodies.get(m.mid) ?? (await this.o.spool.readBody(m.mid));
    } catch (err) {
      this.o.log.emit({ event: 'system', text: `MID ${m.mid} could not be read from the spool: ${errorMessage(err)}` });
      this.releaseItem(item);
      return null;
    }
    return { item, m, message: deliveryMessage(m, recipients, body) };
  }

  /**
   * The next queued item, taken off the queue, when it can follow the current message on `conn`
   * without a round trip of its own (RFC 2920 pipelining across transactions): its body is in
   * memory, the connection can take it (`canFollow`), and the destination has no recipient rate
   * limit (whose budget is only spent on items actually sent). Otherwise null, the queue untouched.
   */
  private follower(domain: string, st: DomainState, conn: DeliveryConnection): ReadyItem | null {
    const item = st.queue[0];
    if (!item || this.controls.forDomain(domain).settings.maxRecipientsPerPeriod !== null) return null;
    const body = this.bodies.get(item.mid);
    const m = body ? this.o.spool.get(item.mid) : undefined;
    if (!body || !m || m.held) return null;
    const recipients = pendingRecipients(m, item);
    if (recipients.length === 0) return null;
    const message = deliveryMessage(m, recipients, body);
    if (!conn.canFollow(message)) return null;
    st.queue.shift();
    return { item, m, message };
  }

  /** Sends one message (and `next`'s envelope with its end of data, when possible); its outcome is saved in the background. */
  private async send(conn: DeliveryConnection, r: ReadyItem, next: ReadyItem | null): Promise<void> {
    const outcomes = await conn.deliver(r.message, next?.message);
    // The state write (group-committed with everything else) runs while the connection goes on with
    // the next message: delivery is not paced by fsync. A crash before it is durable means a
    // redelivery, never a loss.
    this.track(this.applyOutcomes(r.m, outcomes, { dcid: conn.dcid, hop: conn.hop, tls: conn.tls }, r.message.body).finally(() => this.releaseItem(r.item)));
  }

  /** Same reply for every recipient of a work item (DNS verdicts, unreachable destinations). */
  private async settleAll(item: WorkItem, r: SmtpReply, where: { dcid: number | null; hop: NextHop | null; tls: TlsRecord | null } | null): Promise<void> {
    const m = this.o.spool.get(item.mid);
    try {
      if (!m) return;
      const outcome: RecipientOutcome['outcome'] = r.code >= 500 ? 'bounced' : r.code < 300 ? 'delivered' : 'deferred';
      const rids = item.rids.filter((rid) => m.recipients.find((x) => x.rid === rid)?.state === 'pending');
      await this.applyOutcomes(m, rids.map((rid) => ({ rid, outcome, reply: r })), where ?? { dcid: null, hop: null, tls: null }, null);
    } finally {
      for (const rid of item.rids) this.inFlight.delete(`${item.mid}:${rid}`);
    }
  }

  private async applyOutcomes(
    m: SpooledMessage,
    outcomes: RecipientOutcome[],
    where: { dcid: number | null; hop: NextHop | null; tls: TlsRecord | null },
    body: Buffer | null,
  ): Promise<void> {
    const now = this.o.clock.now();
    const updates: RecipientUpdate[] = [];
    const bounced: FailedRecipient[] = [];
    const delayed: FailedRecipient[] = [];
    const dcid = where.dcid ?? 0;
    // Only a message old enough for a warning needs its records read (the common case costs nothing).
    const due = delayWarningDue(m, now, this.config.queue);
    const warned = due && (this.delayWarned.has(m.mid) || m.recipients.some((r) => decodeAttempt(r.lastReply)?.delayWarned === true));
    const warnNow = due && !warned;
    for (const o of outcomes) {
      const r = m.recipients.find((x) => x.rid === o.rid);
      if (!r) continue;
      const attempts = r.attempts + 1;
      const text = formatReply(o.reply);
      const attempt = { at: now, reply: text, dcid: where.dcid, host: where.hop?.host ?? null, ip: where.hop?.ip ?? null, port: where.hop?.port ?? null, tls: where.tls };
      const record = encodeAttempt(warned ? { ...attempt, delayWarned: true } : attempt);
      if (o.outcome === 'delivered') {
        this.counters.delivered++;
        updates.push({ rid: o.rid, state: 'delivered', attempts, lastReply: record });
      } else if (o.outcome === 'bounced') {
        this.counters.bounced++;
        this.o.log.emit({ event: 'mid.bounced', dcid, mid: m.mid, rid: o.rid, reason: text });
        updates.push({ rid: o.rid, state: 'bounced', attempts, lastReply: record });
        bounced.push({ address: r.address, status: statusOf(o.reply.code, o.reply.enhanced), diagnostic: text, remoteMta: where.hop?.host ?? null, lastAttempt: new Date(now) });
      } else {
        const next = nextAttemptAt(attempts, m.receivedAt, now, this.config.queue);
        if (next === null) {
          this.counters.bounced++;
          const reason = `${text} (queue lifetime of ${this.config.queue.lifetimeHours} h exceeded)`;
          this.o.log.emit({ event: 'mid.bounced', dcid, mid: m.mid, rid: o.rid, reason });
          updates.push({ rid: o.rid, state: 'bounced', attempts, lastReply: record });
          bounced.push({ address: r.address, status: '5.4.7', diagnostic: reason, remoteMta: where.hop?.host ?? null, lastAttempt: new Date(now) });
        } else {
          this.counters.deferred++;
          this.o.log.emit({ event: 'mid.delayed', dcid, mid: m.mid, rid: o.rid, reason: text });
          const warnedRecord = warnNow ? encodeAttempt({ ...attempt, delayWarned: true }) : record;
          updates.push({ rid: o.rid, state: 'pending', attempts, nextAttemptAt: next, lastReply: warnedRecord });
          if (warnNow) delayed.push({ address: r.address, status: statusOf(o.reply.code, o.reply.enhanced), diagnostic: text, remoteMta: where.hop?.host ?? null, lastAttempt: new Date(now) });
        }
      }
    }
    if (updates.length === 0) return;
    if (delayed.length > 0) {
      this.markDelayWarned(m.mid);
      // The warning covers the whole message: its other recipients still queued are listed too.
      for (const r of m.recipients) {
        if (r.state !== 'pending' || outcomes.some((o) => o.rid === r.rid)) continue;
        const last = decodeAttempt(r.lastReply);
        delayed.push({ address: r.address, status: '4.0.0', diagnostic: last?.reply ?? 'not yet attempted', remoteMta: last?.host ?? null, lastAttempt: new Date(last?.at || now) });
      }
    }
    // Done, or waiting for a retry much later: the spool has the body.
    const othersPending = m.recipients.some((r) => r.state === 'pending' && !updates.some((u) => u.rid === r.rid));
    if (!othersPending || updates.some((u) => u.state === 'pending')) this.forgetBody(m.mid);
    try {
      // Delivered recipients ride with the next spool batch (no fdatasync of their own): a crash
      // before it is written means delivering them again, never losing mail.
      await this.o.spool.update(m.mid, updates, { lazy: updates.every((u) => u.state === 'delivered') });
    } catch (err) {
      this.o.log.emit({ event: 'system', text: `MID ${m.mid} delivery state could not be saved: ${errorMessage(err)}` });
      return;
    }
    if (bounced.length > 0) await this.sendDsn(m, bounced, body);
    if (delayed.length > 0) await this.sendDsn(m, delayed, body, 'delay');
    if (updates.some((u) => u.state === 'pending')) this.armFor(updates);
  }

  /** Remembers a sent delay warning (the in-memory guard between workers of different domains of one message). */
  private markDelayWarned(mid: number): void {
    if (this.delayWarned.size >= 10_000) for (const x of this.delayWarned) if (!this.o.spool.get(x)) this.delayWarned.delete(x);
    this.delayWarned.add(mid);
  }

  private armFor(updates: RecipientUpdate[]): void {
    if (!this.running) return;
    const soonest = Math.min(...updates.map((u) => u.nextAttemptAt ?? Infinity));
    if (soonest === Infinity) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(50, soonest - this.o.clock.now()));
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), wait);
    this.timer.unref();
  }

  /** Recipients past the queue lifetime: bounce now (with the last error) and tell the sender. */
  private async expire(m: SpooledMessage, rids: number[]): Promise<void> {
    for (const rid of rids) this.inFlight.add(`${m.mid}:${rid}`);
    try {
      const now = this.o.clock.now();
      const updates: RecipientUpdate[] = [];
      const bounced: FailedRecipient[] = [];
      for (const rid of rids) {
        const r = m.recipients.find((x) => x.rid === rid);
        if (!r) continue;
        const last = decodeAttempt(r.lastReply);
        const reason = `Message expired after ${this.config.queue.lifetimeHours} h in the queue${last ? `; last error: ${last.reply}` : ''}`;
        this.counters.bounced++;
        this.o.log.emit({ event: 'mid.bounced', dcid: last?.dcid ?? 0, mid: m.mid, rid, reason });
        updates.push({ rid, state: 'bounced' });
        bounced.push({ address: r.address, status: '5.4.7', diagnostic: reason, remoteMta: last?.host ?? null, lastAttempt: new Date(last?.at || now) });
      }
      await this.o.spool.update(m.mid, updates);
      await this.sendDsn(m, bounced, null);
    } finally {
      for (const rid of rids) this.inFlight.delete(`${m.mid}:${rid}`);
    }
  }

  /** Stores a DSN for `bounced` as a new message to the envelope sender (never for `<>`), logs it and wakes delivery. */
  private async sendDsn(m: SpooledMessage, bounced: FailedRecipient[], body: Buffer | null, kind: 'failure' | 'delay' = 'failure'): Promise<void> {
    if (!shouldSendDsn(m.from)) return;
    let original = body;
    if (!original) {
      try {
        original = await this.o.spool.readBody(m.mid);
      } catch {
        original = Buffer.alloc(0);
      }
    }
    const now = this.o.clock.now();
    const dsn = buildDsn({
      hostname: this.config.hostname,
      originalMid: m.mid,
      to: m.from,
      arrivalDate: new Date(m.receivedAt),
      now: new Date(now),
      recipients: bounced,
      originalBody: original,
      kind,
      willRetryUntil: new Date(expiresAt(m.receivedAt, this.config.queue)),
    });
    const mid = this.o.nextMid();
    try {
      await this.o.spool.store(
        { mid, icid: 0, receivedAt: now, from: '', recipients: [m.from], listener: 'dsn', bodyType: dsn.some((b) => b >= 0x80) ? '8BITMIME' : '7BIT', tls: null, clientIp: '127.0.0.1' },
        dsn,
      );
    } catch (err) {
      this.o.log.emit({ event: 'system', text: `MID ${m.mid} DSN could not be stored: ${errorMessage(err)}` });
      return;
    }
    this.counters.dsns++;
    if (kind === 'delay') this.counters.delayWarnings++;
    this.o.log.emit({ event: 'mid.dsn', mid, originalMid: m.mid, to: m.from });
    this.stored(mid, dsn);
  }

  // ---------------------------------------------------------------------------
  // Administration (`gatehouse queue ...`)

  list(): QueueListEntry[] {
    return this.o.spool.list().map(toQueueListEntry);
  }

  private mustGet(mid: number): SpooledMessage {
    const m = this.o.spool.get(mid);
    if (!m) throw new Error(`MID ${mid} is not in the queue`);
    return m;
  }

  /** Removes a message without notifying anyone (recipients marked deleted). */
  async deleteMessage(mid: number): Promise<void> {
    const m = this.mustGet(mid);
    const pending = m.recipients.filter((r) => r.state === 'pending');
    await this.o.spool.update(mid, pending.map((r) => ({ rid: r.rid, state: 'deleted' as const })));
    this.o.log.emit({ event: 'system', text: `MID ${mid} deleted from the queue by an administrator` });
  }

  /** Bounces every pending recipient now, with a DSN to the sender. */
  async bounceMessage(mid: number): Promise<void> {
    const m = this.mustGet(mid);
    const pending = m.recipients.filter((r) => r.state === 'pending' && !this.inFlight.has(`${mid}:${r.rid}`));
    const r = reply(550, '5.3.0', 'Bounced by an administrator (gatehouse queue bounce)');
    await this.applyOutcomes(m, pending.map((x) => ({ rid: x.rid, outcome: 'bounced', reply: r })), { dcid: null, hop: null, tls: null }, null);
  }

  async hold(mid: number, held: boolean): Promise<void> {
    this.mustGet(mid);
    await this.o.spool.update(mid, [], { held });
    this.o.log.emit({ event: 'system', text: `MID ${mid} ${held ? 'held' : 'released'} by an administrator` });
    if (!held) this.wake();
  }
}
