/**
 * Sends mail-log lines to a remote syslog server over UDP or TCP, without ever
 * holding up or failing mail flow:
 *
 * - `send()` is synchronous and never throws: it formats the message and puts
 *   it on a bounded in-memory queue. When the queue is full the **oldest**
 *   line is dropped (counted), so a server that comes back gets the most
 *   recent lines.
 * - UDP: one datagram per line (cut to {@link MAX_UDP_MESSAGE_BYTES}), at most
 *   {@link MAX_UDP_IN_FLIGHT} sends outstanding. A datagram to a server that is
 *   down is lost without an error (that is UDP); use TCP to see outages.
 * - TCP: RFC 6587 octet-counting frames; written only while the socket does not
 *   ask to wait (`drain`), so memory stays bounded when the server is slow.
 *   A failed or lost connection is retried with doubling back-off
 *   (`retryInitialMs` … `retryMaxMs`); lines wait in the queue meanwhile.
 *   Lines already handed to a connection that then fails are counted as
 *   dropped when Node reports the write failed.
 * - Every socket has an `error` handler; errors are counted with the last
 *   message in {@link SyslogSender.stats}. Sockets and timers are unref'd:
 *   forwarding never keeps the process alive.
 */
import dgram from 'node:dgram';
import net from 'node:net';

import { formatSyslogTarget, type SyslogFacility, type SyslogTarget } from '../config/syslog-settings.js';
import { formatSyslogMessage, MAX_TCP_MESSAGE_BYTES, MAX_UDP_MESSAGE_BYTES, octetCountingFrame, utf8Truncated, type MailLogLine } from './syslog-message.js';

/** UDP sends handed to the kernel and not yet called back. */
const MAX_UDP_IN_FLIGHT = 64;
/** A TCP connect that has not completed in this time is abandoned and retried. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface SyslogSenderOptions {
  target: SyslogTarget;
  facility: SyslogFacility;
  tag: string;
  /** HOST field of every message (the gateway's host name). */
  hostname: string;
  /** Lines kept while the server cannot take them; the oldest beyond this are dropped. */
  queueLines: number;
  /** First TCP reconnect delay (default 500 ms); doubles after each failure. */
  retryInitialMs?: number;
  /** Longest TCP reconnect delay (default 30 s). */
  retryMaxMs?: number;
}

/** Counters for `status --json` and /metrics. They start from zero with each sender (process start or a change of the syslog settings). */
export interface SyslogStats {
  /** The target, canonical (`udp:127.0.0.1:514`). */
  target: string;
  /** TCP: connected now. UDP: always true (there is no connection to lose). */
  connected: boolean;
  /** Lines handed to the operating system (UDP datagram sent, TCP bytes written). */
  sent: number;
  /** Lines lost: the queue was full (oldest dropped), a write failed, or left unsent at stop. */
  dropped: number;
  /** Socket errors (connect refused, reset, send failures). */
  errors: number;
  /** Lines longer than the transport's maximum, sent cut. */
  truncated: number;
  /** Lines waiting now. */
  queued: number;
  /** Message of the most recent error, if any. */
  lastError: string | null;
}

type TcpState = 'connecting' | 'connected' | 'waiting' | 'closed';

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class SyslogSender {
  private readonly target: SyslogTarget;
  private readonly targetText: string;
  /** Queued messages, ready to write (TCP: framed). `head` is the next to send, so dropping and taking the oldest is O(1). */
  private queue: Buffer[] = [];
  private head = 0;

  private udp: dgram.Socket | null = null;
  private udpInFlight = 0;

  private tcp: net.Socket | null = null;
  private tcpState: TcpState = 'waiting';
  private retryMs: number;
  private retryTimer: NodeJS.Timeout | null = null;

  private closed = false;
  /** Resolves `close()` once the queue is empty and nothing is in flight. */
  private idleWaiters: (() => void)[] = [];
  private readonly counters = { sent: 0, dropped: 0, errors: 0, truncated: 0 };
  private lastError: string | null = null;

  constructor(private readonly options: SyslogSenderOptions) {
    this.target = options.target;
    this.targetText = formatSyslogTarget(options.target);
    this.retryMs = options.retryInitialMs ?? 500;
    if (this.target.transport === 'udp') this.openUdp();
    else this.connectTcp();
  }

  /** Queues one line. Synchronous and non-throwing. */
  send(line: MailLogLine): void {
    if (this.closed) {
      this.counters.dropped++;
      return;
    }
    try {
      const text = formatSyslogMessage(this.options, line);
      const udp = this.target.transport === 'udp';
      const { bytes, truncated } = utf8Truncated(text, udp ? MAX_UDP_MESSAGE_BYTES : MAX_TCP_MESSAGE_BYTES);
      if (truncated) this.counters.truncated++;
      this.queue.push(udp ? bytes : octetCountingFrame(bytes));
      if (this.queue.length - this.head > this.options.queueLines) {
        this.queue[this.head] = EMPTY;
        this.head++;
        this.counters.dropped++;
      }
      this.compact();
      this.pump();
    } catch (err) {
      this.noteError(err);
      this.counters.dropped++;
    }
  }

  /** A snapshot of the counters. */
  stats(): SyslogStats {
    return {
      target: this.targetText,
      connected: this.target.transport === 'udp' ? this.udp !== null : this.tcpState === 'connected',
      ...this.counters,
      queued: this.queue.length - this.head,
      lastError: this.lastError,
    };
  }

  /**
   * Stops: sends what is queued for at most `graceMs` (TCP only while connected),
   * then closes the socket. Lines still queued are counted as dropped. Never rejects.
   */
  async close(graceMs = 1000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    if (this.queued > 0 || this.udpInFlight > 0 || (this.tcp?.writableLength ?? 0) > 0) {
      if (this.tcpState === 'connected' || this.udp) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([new Promise<void>((resolve) => this.idleWaiters.push(resolve)), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
        clearTimeout(timer);
      }
    }
    this.counters.dropped += this.queued;
    this.queue = [];
    this.head = 0;
    if (this.udp) {
      const udp = this.udp;
      this.udp = null;
      await new Promise<void>((resolve) => {
        try {
          udp.close(() => resolve());
        } catch {
          resolve();
        }
      });
    }
    const tcp = this.tcp;
    this.tcpState = 'closed';
    if (tcp) {
      this.tcp = null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          tcp.destroy();
          resolve();
        }, graceMs);
        timer.unref();
        tcp.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        tcp.end();
      });
    }
  }

  // ---- internals ---------------------------------------------------------

  private get queued(): number {
    return this.queue.length - this.head;
  }

  /** Drops consumed entries once they are the larger part of the array. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private take(): Buffer | undefined {
    if (this.head >= this.queue.length) return undefined;
    const b = this.queue[this.head]!;
    this.queue[this.head] = EMPTY;
    this.head++;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    return b;
  }

  private noteError(err: unknown): void {
    this.counters.errors++;
    this.lastError = errorMessage(err);
  }

  private notifyIfIdle(): void {
    if (this.queued > 0 || this.udpInFlight > 0 || (this.tcp !== null && this.tcp.writableLength > 0)) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private pump(): void {
    if (this.target.transport === 'udp') this.pumpUdp();
    else this.pumpTcp();
  }

  // ---- UDP ---------------------------------------------------------------

  private openUdp(): void {
    const socket = dgram.createSocket(this.target.host.includes(':') ? 'udp6' : 'udp4');
    socket.on('error', (err) => this.noteError(err));
    socket.unref();
    this.udp = socket;
  }

  private pumpUdp(): void {
    const socket = this.udp;
    if (!socket) return;
    while (this.udpInFlight < MAX_UDP_IN_FLIGHT) {
      const datagram = this.take();
      if (!datagram) break;
      this.udpInFlight++;
      try {
        socket.send(datagram, this.target.port, this.target.host, (err) => {
          this.udpInFlight--;
          if (err) {
            this.noteError(err);
            this.counters.dropped++;
          } else this.counters.sent++;
          this.pumpUdp();
          this.notifyIfIdle();
        });
      } catch (err) {
        this.udpInFlight--;
        this.noteError(err);
        this.counters.dropped++;
      }
    }
  }

  // ---- TCP ---------------------------------------------------------------

  private connectTcp(): void {
    this.retryTimer = null;
    if (this.closed) return;
    this.tcpState = 'connecting';
    const socket = net.connect({ host: this.target.host, port: this.target.port });
    this.tcp = socket;
    socket.unref();
    socket.setTimeout(CONNECT_TIMEOUT_MS);
    socket.on('timeout', () => socket.destroy(new Error(`connect to ${this.targetText} timed out`)));
    socket.on('error', (err) => this.noteError(err));
    socket.on('connect', () => {
      socket.setTimeout(0);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 60_000);
      this.tcpState = 'connected';
      this.retryMs = this.options.retryInitialMs ?? 500;
      this.pumpTcp();
    });
    // A syslog server sends nothing; read and discard anything it does send so the socket never stalls.
    socket.resume();
    socket.on('drain', () => {
      this.pumpTcp();
      this.notifyIfIdle();
    });
    socket.on('close', () => {
      if (this.tcp !== socket) return;
      this.tcp = null;
      if (this.closed) return;
      this.tcpState = 'waiting';
      const delay = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, this.options.retryMaxMs ?? 30_000);
      this.retryTimer = setTimeout(() => this.connectTcp(), delay);
      this.retryTimer.unref();
      this.notifyIfIdle();
    });
  }

  private pumpTcp(): void {
    const socket = this.tcp;
    if (!socket || this.tcpState !== 'connected') return;
    while (!socket.writableNeedDrain && !socket.destroyed) {
      const frame = this.take();
      if (!frame) break;
      socket.write(frame, (err) => {
        if (err) this.counters.dropped++;
        else this.counters.sent++;
        this.notifyIfIdle();
      });
    }
  }
}

const EMPTY = Buffer.alloc(0);
