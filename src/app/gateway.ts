/**
 * The composition root: builds the running gateway from one committed
 * configuration (mail log, spool, ID counters, resolver, listeners), starts it,
 * applies a new configuration without dropping sessions, and stops it
 * gracefully.
 */
import fs from 'node:fs';
import { systemClock, type Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { HomeLayout } from '../core/home-layout.js';
import type { Config } from '../config/schema.js';
import { createResolver, type DnsResolver } from '../dns/resolver.js';
import { lookupReverseDns } from '../dns/reverse-dns.js';
import { lookupSbrs } from '../dns/dnsbl.js';
import { MailLog } from '../logging/mail-log.js';
import { MailEventTap, type MailEventListener } from '../logging/mail-event-tap.js';
import { SyslogSender, type SyslogStats } from '../logging/syslog-sender.js';
import { parseSyslogTarget } from '../config/syslog-settings.js';
import { TlsReportRecorder } from '../reports/tls-report-recorder.js';
import { AlertMonitor } from '../alerts/alert-monitor.js';
import { RecipientRateLimiter } from '../policy/recipient-rate-limiter.js';
import { Spool } from '../queue/spool.js';
import { DeliveryScheduler, type ClientCertificate } from '../queue/delivery-scheduler.js';
import type { RequiredTlsFailure } from '../smtp/outbound/delivery-attempt.js';
import type { ClientTimeouts } from '../smtp/outbound/smtp-client.js';
import { ConnectionTracker } from '../smtp/inbound/connection-tracker.js';
import { ListenerServer } from '../smtp/inbound/listener-server.js';
import type { InboundServices } from '../smtp/inbound/session-context.js';
import { KeyStore } from '../tls/key-store.js';
import type { ResolvedProfile } from '../tls/secure-context.js';
import { IdSequence } from './id-sequence.js';
import { compileListenerRuntime } from './listener-runtime.js';

export interface GatewayOptions {
  layout: HomeLayout;
  config: Config;
  clock?: Clock;
  /** Replace the DNS resolver (tests). */
  resolver?: DnsResolver;
  /** Run the delivery scheduler (default true; tests that only receive turn it off). */
  deliver?: boolean;
  /** Outbound client timeouts (tests shorten them). */
  deliveryTimeouts?: Partial<ClientTimeouts>;
  /** Required outbound TLS failed (the alerts feature subscribes here). */
  onRequiredTlsFailure?: (e: RequiredTlsFailure & { alert: boolean }) => void;
  /** How often the TLS report counters are written to the home (default 10 s). */
  tlsReportFlushMs?: number;
  /** TCP syslog reconnect back-off (default 500 ms doubling to 30 s; tests shorten it). */
  syslogRetryMs?: { initial: number; max: number };
}

export interface BoundListener {
  name: string;
  type: 'public' | 'private';
  address: string;
  port: number;
}

export class Gateway {
  private config: Config;
  private readonly listeners = new Map<string, ListenerServer>();
  private readonly tracker = new ConnectionTracker();
  private resolver: DnsResolver;
  private mailLog!: MailLog;
  /** Every component logs through the tap, so subscribers see each event. */
  private events!: MailEventTap;
  private readonly pendingSubscribers: MailEventListener[] = [];
  private spool!: Spool;
  private ids!: IdSequence;
  private services!: InboundServices;
  private readonly clock: Clock;
  private readonly keyStore: KeyStore;
  private sweepTimer: NodeJS.Timeout | undefined;
  private scheduler: DeliveryScheduler | null = null;
  /** TLS connections report counters (SPEC §9), fed by the event tap, flushed to `<home>/state/tls-report/`. */
  private tlsReport: TlsReportRecorder | null = null;
  private alertMonitor: AlertMonitor | null = null;
  /** Forwards every mail-log line to `logging.mailLog.syslog.target` (null while that is off). */
  private syslog: SyslogSender | null = null;
  /** The settings `syslog` was built from, to see whether a new configuration changes them. */
  private syslogKey = 'off';

  constructor(private readonly options: GatewayOptions) {
    this.config = options.config;
    this.clock = options.clock ?? systemClock;
    this.resolver = options.resolver ?? createResolver(options.config.dns);
    this.keyStore = new KeyStore(options.layout.keysDir);
  }

  get currentConfig(): Config {
    return this.config;
  }

  get spoolStore(): Spool {
    return this.spool;
  }

  get log(): MailLog {
    return this.mailLog;
  }

  /**
   * Subscribes to every mail-log event (report counters, alert conditions).
   * May be called before start(); returns the function that unsubscribes.
   */
  onMailEvent(listener: MailEventListener): () => void {
    if (!this.events) {
      this.pendingSubscribers.push(listener);
      return () => {
        const i = this.pendingSubscribers.indexOf(listener);
        if (i >= 0) this.pendingSubscribers.splice(i, 1);
        else this.events?.subscribe(listener)();
      };
    }
    return this.events.subscribe(listener);
  }

  /** The TLS report recorder (null before start): `flush()` writes the counts now. */
  get tlsReportRecorder(): TlsReportRecorder | null {
    return this.tlsReport;
  }

  /** The alerts feature (SPEC §8; null before start): checkNow, idle, raise. */
  get alerts(): AlertMonitor | null {
    return this.alertMonitor;
  }

  /** Syslog forwarding counters (null while forwarding is off). */
  syslogStats(): SyslogStats | null {
    return this.syslog?.stats() ?? null;
  }

  /** The delivery scheduler (null when delivery is off): counters, flush, queue administration. */
  get delivery(): DeliveryScheduler | null {
    return this.scheduler;
  }

  async start(): Promise<BoundListener[]> {
    const { layout } = this.options;
    for (const dir of [layout.spoolDir, layout.mailLogDir, layout.runDir, layout.stateDir]) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const logCfg = this.config.logging.mailLog;
    this.mailLog = await MailLog.open(layout.mailLogDir, { maxBytes: logCfg.maxBytes, retain: logCfg.retain, rotateDaily: logCfg.rotateDaily, json: logCfg.json, clock: this.clock });
    this.configureSyslog(this.config);
    this.events = new MailEventTap(this.mailLog, this.clock);
    for (const listener of this.pendingSubscribers.splice(0)) this.events.subscribe(listener);
    const tlsReport = new TlsReportRecorder({ stateDir: layout.stateDir, clock: this.clock, ...(this.options.tlsReportFlushMs ? { flushMs: this.options.tlsReportFlushMs } : {}), onError: (text) => this.events.emit({ event: 'system', text }) });
    this.events.subscribe(tlsReport.listener);
    tlsReport.start();
    this.tlsReport = tlsReport;
    this.spool = await Spool.open(layout.spoolDir, { fsync: this.config.queue.fsync, now: () => this.clock.now() });
    this.ids = IdSequence.open(layout.idsFile);
    const recipientRates = new RecipientRateLimiter(this.clock);
    this.sweepTimer = setInterval(() => recipientRates.sweep(), 60_000);
    this.sweepTimer.unref();
    const profiles = await this.resolveProfiles(this.config);
    const alerts = new AlertMonitor({ config: this.config, clock: this.clock, stateDir: layout.stateDir, log: this.events, spool: this.spool, nextMid: () => this.ids.take('mid'), wake: () => this.scheduler?.wake() });
    this.alertMonitor = alerts;
    this.events.subscribe(alerts.onMailEvent);
    const onRequiredTlsFailure = this.options.onRequiredTlsFailure;
    if (this.options.deliver !== false) {
      this.scheduler = new DeliveryScheduler({
        spool: this.spool,
        log: this.events,
        nextDcid: () => this.ids.take('dcid'),
        nextMid: () => this.ids.take('mid'),
        clock: this.clock,
        resolver: this.resolver,
        config: this.config,
        clientCertificate: this.clientCertificate(this.config, profiles),
        ...(this.options.deliveryTimeouts ? { timeouts: this.options.deliveryTimeouts } : {}),
        onRequiredTlsFailure: (e) => {
          alerts.onRequiredTlsFailure(e);
          onRequiredTlsFailure?.(e);
        },
      });
    }
    const spool = this.spool;
    this.services = {
      spool: {
        store: async (message, body) => {
          await spool.store(message, body);
          this.scheduler?.stored(message.mid, body);
        },
      },
      log: this.events,
      nextMid: () => this.ids.take('mid'),
      clock: this.clock,
      recipientRates,
    };
    this.events.emit({ event: 'system', text: `Gatehouse starting: ${this.spool.size()} messages recovered from the spool` });
    this.scheduler?.start();
    alerts.start();
    try {
      for (const l of this.config.listeners) {
        const server = this.createListener(this.config, l.name, profiles);
        await server.listen();
      }
    } catch (err) {
      await this.stop(0);
      throw err;
    }
    return this.boundListeners();
  }

  /** Listeners accepting now, with their open sessions (for `status`). */
  listenerStatus(): (BoundListener & { openSessions: number })[] {
    return [...this.listeners.values()].map((server) => {
      const l = server.current.listener;
      return { name: l.name, type: l.type, address: l.address, port: l.port, openSessions: server.openSessions };
    });
  }

  /** Inbound connections open now on all listeners, draining ones included. */
  get openConnections(): number {
    return this.tracker.count;
  }

  boundListeners(): BoundListener[] {
    return this.config.listeners.map((l) => ({ name: l.name, type: l.type, address: l.address, port: l.port }));
  }

  /**
   * Applies a newly committed configuration: existing sessions finish under the
   * settings they started with; new connections get the new ones. Listeners that
   * moved are re-bound; removed ones stop accepting and drain.
   */
  async apply(next: Config): Promise<void> {
    const profiles = await this.resolveProfiles(next);
    // Compile every listener first: a certificate that cannot be loaded refuses the whole change.
    for (const l of next.listeners) compileListenerRuntime(next, l, profiles);
    const wanted = new Map(next.listeners.map((l) => [l.name, l]));
    for (const [name, server] of this.listeners) {
      const l = wanted.get(name);
      const old = server.current.listener;
      if (!l || l.address !== old.address || l.port !== old.port) {
        this.listeners.delete(name);
        server.stopAccepting();
        server.drainSessions();
      }
    }
    for (const l of next.listeners) {
      const existing = this.listeners.get(l.name);
      if (existing) existing.setRuntime(compileListenerRuntime(next, l, profiles));
      else {
        const server = this.createListener(next, l.name, profiles);
        try {
          await server.listen();
        } catch (err) {
          this.listeners.delete(l.name); // not bound: not reported by status, retried by the next apply
          throw err;
        }
      }
    }
    if (this.options.resolver === undefined && JSON.stringify(next.dns) !== JSON.stringify(this.config.dns)) this.resolver = createResolver(next.dns);
    this.config = next;
    this.configureSyslog(next);
    this.scheduler?.setConfig(next, this.clientCertificate(next, profiles));
    this.alertMonitor?.setConfig(next);
    this.events.emit({ event: 'system', text: 'Configuration applied' });
  }

  /** Graceful stop: stop accepting, let sessions finish up to `graceMs`, then cut them; flush spool and log. */
  async stop(graceMs = this.config.smtp.shutdownGraceSeconds * 1000): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const servers = [...this.listeners.values()];
    this.listeners.clear();
    for (const s of servers) s.stopAccepting();
    for (const s of servers) s.drainSessions();
    const allClosed = Promise.all(servers.map((s) => s.sessionsClosed()));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), graceMs)));
    const result = await Promise.race([allClosed.then(() => 'closed' as const), deadline]);
    if (timer) clearTimeout(timer);
    if (result === 'deadline') {
      for (const s of servers) s.destroySessions();
      await allClosed;
    }
    await this.alertMonitor?.stop();
    if (this.scheduler) await this.scheduler.stop(Math.min(graceMs, 5000));
    try {
      await this.spool?.close();
    } catch (err) {
      this.mailLog?.emit({ event: 'system', text: `spool close failed: ${errorMessage(err)}` });
    }
    await this.tlsReport?.stop();
    this.mailLog?.emit({ event: 'system', text: 'Gatehouse stopped' });
    await this.mailLog?.close();
    const syslog = this.syslog;
    this.syslog = null;
    this.syslogKey = 'off';
    await syslog?.close();
  }

  /** SIGHUP: reopen log files (logrotate). */
  async reopenLogs(): Promise<void> {
    await this.mailLog.reopen();
  }

  /**
   * Starts, replaces or stops syslog forwarding to match `config` (at start and
   * on every apply). Unchanged settings keep the sender, its connection and its
   * counters. A replaced sender gets up to a second to send what it holds.
   */
  private configureSyslog(config: Config): void {
    const s = config.logging.mailLog.syslog;
    const key = s.target === null ? 'off' : JSON.stringify([s.target, s.facility, s.tag, s.queueLines, config.hostname]);
    if (key === this.syslogKey) return;
    const old = this.syslog;
    this.syslog = null;
    this.syslogKey = key;
    if (s.target !== null) {
      const retry = this.options.syslogRetryMs;
      this.syslog = new SyslogSender({
        target: parseSyslogTarget(s.target),
        facility: s.facility,
        tag: s.tag,
        hostname: config.hostname,
        queueLines: s.queueLines,
        ...(retry ? { retryInitialMs: retry.initial, retryMaxMs: retry.max } : {}),
      });
    }
    const sender = this.syslog;
    this.mailLog.setLineListener(sender ? (line) => sender.send(line) : null);
    void old?.close();
  }

  private createListener(config: Config, name: string, profiles: ReadonlyMap<string, ResolvedProfile>): ListenerServer {
    const l = config.listeners.find((x) => x.name === name);
    if (!l) throw new Error(`no listener ${name}`);
    const server = new ListenerServer(compileListenerRuntime(config, l, profiles), {
      services: this.services,
      tracker: this.tracker,
      nextIcid: () => this.ids.take('icid'),
      lookupHost: async (ip) => {
        // A slow resolver must not hold the banner back for the resolver's own
        // retries (about 3x its timeout): past dns.timeoutMs the host is unknown.
        const zones = this.config.reputation.dnsbl;
        const unknown = { ip, reverseDns: { host: null, verified: false }, sbrs: null };
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<typeof unknown>((resolve) => (timer = setTimeout(() => resolve(unknown), this.config.dns.timeoutMs)));
        const lookup = Promise.all([lookupReverseDns(ip, this.resolver), lookupSbrs(ip, zones, this.resolver)]).then(([reverseDns, sbrs]) => ({ ip, reverseDns, sbrs }));
        try {
          return await Promise.race([lookup, deadline]);
        } finally {
          clearTimeout(timer);
        }
      },
    });
    this.listeners.set(name, server);
    return server;
  }

  /** The outbound client certificate of `destinationControls.certificate`, with its key. */
  private clientCertificate(config: Config, profiles: ReadonlyMap<string, ResolvedProfile>): ClientCertificate | null {
    const name = config.destinationControls.certificate;
    const p = name === null ? undefined : profiles.get(name);
    if (!p) return null;
    return { cert: [p.certificatePem, ...p.intermediatesPem].map((x) => (x.endsWith('\n') ? x : `${x}\n`)).join(''), key: p.privateKeyPem };
  }

  private async resolveProfiles(config: Config): Promise<Map<string, ResolvedProfile>> {
    const out = new Map<string, ResolvedProfile>();
    for (const p of config.certificates) {
      out.set(p.name, {
        name: p.name,
        certificatePem: p.certificate,
        intermediatesPem: p.intermediates,
        privateKeyPem: await this.keyStore.get(p.key),
      });
    }
    return out;
  }
}
