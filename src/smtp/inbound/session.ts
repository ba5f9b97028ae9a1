/**
 * One inbound SMTP connection: reads bytes, feeds the command-line or DATA
 * reader according to the session state, dispatches commands, and writes the
 * replies of a pipelined group in one write. Owns the timers (per command, DATA,
 * whole session), the bad-command budget, STARTTLS (discarding every byte
 * received before the handshake) and graceful shutdown.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { SmtpReply } from '../../core/smtp-reply.js';
import { renderReply } from '../../core/smtp-reply.js';
import { errorMessage } from '../../core/errors.js';
import { clientCertificateStatus } from '../../tls/client-certificate.js';
import { CommandLineReader } from '../protocol/command-line-reader.js';
import { parseCommand } from '../protocol/command-parser.js';
import { dispatch } from './dispatch.js';
import { completeMessage } from './handlers/message-data.js';
import type { Outcome } from './outcome.js';
import { closingReplies, REPLIES } from './replies.js';
import type { SessionContext } from './session-context.js';
import type { SessionState } from './session-state.js';

/** Stop reading from a client that has this much unprocessed input queued. */
const MAX_PENDING_BYTES = 1024 * 1024;

export class SmtpSession {
  private state: SessionState = { phase: 'greeting' };
  private socket: net.Socket;
  private readonly rawSocket: net.Socket;
  private readonly lines = new CommandLineReader({ maxLineBytes: 512 });
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private outbox: SmtpReply[] = [];
  private running = false;
  private greeted = false;
  private quitReceived = false;
  private draining = false;
  private closeLogged = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private sessionTimer: NodeJS.Timeout | undefined;
  private closeResolve!: () => void;
  /** Resolves when the connection has closed and the close is logged. */
  readonly closed: Promise<void>;

  constructor(
    socket: net.Socket,
    readonly ctx: SessionContext,
  ) {
    this.socket = socket;
    this.rawSocket = socket;
    this.closed = new Promise((resolve) => (this.closeResolve = resolve));
    socket.setNoDelay(true);
    this.attach(socket);
    socket.once('close', () => this.onClose());
  }

  /** Sends the banner (or the 554 of a `reject` policy) and starts the clocks. */
  begin(): void {
    const smtp = this.ctx.runtime.smtp;
    this.sessionTimer = setTimeout(() => this.timeout('session'), smtp.sessionTimeoutSeconds * 1000);
    this.sessionTimer.unref();
    const host = this.ctx.runtime.hostname;
    if (this.ctx.conn.policy.behavior === 'reject') {
      this.state = { phase: 'rejecting' };
      this.writeNow([closingReplies.rejectBanner(host)]);
      this.armIdle(smtp.rejectTimeoutSeconds);
      return;
    }
    if (this.pendingBytes > 0) {
      // The client talked before the greeting (RFC 5321 §4.3.1 says it must wait).
      this.closeWith(REPLIES.earlyTalker);
      return;
    }
    this.greeted = true;
    this.writeNow([closingReplies.banner(host)]);
    this.armIdle(smtp.commandTimeoutSeconds);
  }

  /** Graceful stop: idle sessions get 421 now; busy ones after their current message. */
  drain(): void {
    this.draining = true;
    if (!this.running && this.isIdle()) this.closeWith(closingReplies.shuttingDown(this.ctx.runtime.hostname));
  }

  /** Hard stop after the shutdown deadline. */
  destroy(): void {
    this.socket.destroy();
    this.rawSocket.destroy();
  }

  get phase(): SessionState['phase'] {
    return this.state.phase;
  }

  private isIdle(): boolean {
    const p = this.state.phase;
    return p === 'greeting' || p === 'ready' || p === 'rejecting';
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {
      /* 'close' follows; the session logs it there */
    });
  }

  private onData(chunk: Buffer): void {
    if (this.state.phase === 'closed' || this.state.phase === 'tls-handshake') return;
    if (!this.greeted && this.state.phase === 'greeting') {
      // Before the banner: remember that the client talked early.
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes > MAX_PENDING_BYTES) this.socket.pause();
    const smtp = this.ctx.runtime.smtp;
    this.armIdle(this.state.phase === 'data' ? smtp.dataTimeoutSeconds : this.state.phase === 'rejecting' ? smtp.rejectTimeoutSeconds : smtp.commandTimeoutSeconds);
    void this.run();
  }

  private takePending(): Buffer | undefined {
    const chunk = this.pending.shift();
    if (chunk !== undefined) {
      this.pendingBytes -= chunk.length;
      if (this.pendingBytes <= MAX_PENDING_BYTES / 2 && this.socket.isPaused() && !this.socket.writableNeedDrain) this.socket.resume();
    }
    return chunk;
  }

  /** The processing loop; at most one runs at a time. */
  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        const state = this.state;
        if (state.phase === 'closed' || state.phase === 'tls-handshake') return;
        if (state.phase === 'data') {
          const chunk = this.takePending();
          if (chunk === undefined) break;
          const r = state.reader.push(chunk);
          if (!r.done) continue;
          if (r.rest.length > 0) {
            this.pending.unshift(r.rest);
            this.pendingBytes += r.rest.length;
          }
          this.flush();
          const outcome = await completeMessage(this.ctx, state);
          this.armIdle(this.ctx.runtime.smtp.commandTimeoutSeconds);
          if (!this.apply(outcome)) return;
          continue;
        }
        for (let chunk = this.takePending(); chunk !== undefined; chunk = this.takePending()) this.lines.push(chunk);
        const item = this.lines.next();
        if (item === null) break;
        let outcome: Outcome;
        if (item.kind === 'too-long') {
          outcome = { state, reply: REPLIES.lineTooLong, then: 'continue', badCommand: true };
        } else if (item.bareLf === true) {
          outcome = { state, reply: REPLIES.bareLfCommand, then: 'continue', badCommand: true };
        } else {
          const cmd = parseCommand(item.line);
          if (cmd.verb === 'QUIT') this.quitReceived = true;
          outcome = dispatch(this.ctx, state, cmd);
        }
        if (!this.apply(outcome)) return;
      }
      this.flush();
      if (this.draining && this.isIdle()) this.closeWith(closingReplies.shuttingDown(this.ctx.runtime.hostname));
    } catch (err) {
      this.ctx.services.log.emit({ event: 'system', text: `ICID ${this.ctx.conn.icid} internal error: ${errorMessage(err)}` });
      this.closeWith(REPLIES.localError);
    } finally {
      this.running = false;
    }
  }

  /** Applies an outcome; returns false when the loop must stop (closing or TLS). */
  private apply(outcome: Outcome): boolean {
    this.state = outcome.state;
    if (outcome.badCommand === true) {
      this.ctx.badCommands++;
      if (this.ctx.badCommands >= this.ctx.runtime.smtp.maxBadCommands && outcome.then !== 'close') {
        this.ctx.services.log.emit({ event: 'icid.limit', icid: this.ctx.conn.icid, what: 'maxBadCommands', detail: String(this.ctx.badCommands) });
        this.outbox.push(outcome.reply);
        this.closeWith(closingReplies.badCommandLimit(this.ctx.runtime.hostname));
        return false;
      }
    }
    switch (outcome.then) {
      case 'continue':
        this.outbox.push(outcome.reply);
        return true;
      case 'read-data': {
        this.outbox.push(outcome.reply);
        const rest = this.lines.takeRest();
        if (rest.length > 0) {
          this.pending.unshift(rest);
          this.pendingBytes += rest.length;
        }
        this.armIdle(this.ctx.runtime.smtp.dataTimeoutSeconds);
        return true;
      }
      case 'start-tls':
        this.outbox.push(outcome.reply);
        this.startTls();
        return false;
      case 'close':
        this.closeWith(outcome.reply);
        return false;
      default: {
        const unreachable: never = outcome.then;
        return unreachable;
      }
    }
  }

  private flush(): void {
    if (this.outbox.length === 0) return;
    const replies = this.outbox;
    this.outbox = [];
    this.writeNow(replies);
  }

  private writeNow(replies: SmtpReply[]): void {
    if (this.socket.destroyed) return;
    let text = '';
    for (const r of replies) text += renderReply(r);
    if (!this.socket.write(text)) {
      this.socket.pause();
      this.socket.once('drain', () => {
        if (this.pendingBytes <= MAX_PENDING_BYTES / 2) this.socket.resume();
      });
    }
  }

  private closeWith(last: SmtpReply): void {
    this.outbox.push(last);
    this.flush();
    this.state = { phase: 'closed' };
    this.clearTimers();
    this.socket.end();
    // A client that never reads must not hold the socket open.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  private armIdle(seconds: number): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.timeout('command'), seconds * 1000);
    this.idleTimer.unref();
  }

  private clearTimers(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.sessionTimer) clearTimeout(this.sessionTimer);
  }

  private timeout(which: 'command' | 'session'): void {
    if (this.state.phase === 'closed') return;
    const host = this.ctx.runtime.hostname;
    this.ctx.services.log.emit({ event: 'icid.limit', icid: this.ctx.conn.icid, what: which === 'session' ? 'sessionTimeout' : 'commandTimeout', detail: `phase ${this.state.phase}` });
    if (this.state.phase === 'rejecting' || this.state.phase === 'tls-handshake') {
      this.state = { phase: 'closed' };
      this.clearTimers();
      this.socket.destroy();
      return;
    }
    this.closeWith(which === 'session' ? closingReplies.sessionTimeout(host) : closingReplies.commandTimeout(host));
  }

  /**
   * STARTTLS: reply 220, throw away every byte the client sent before the
   * handshake (CVE-2011-0411 class injection), then wrap the socket.
   */
  private startTls(): void {
    const injected = this.lines.takeRest().length + this.pendingBytes;
    this.pending.length = 0;
    this.pendingBytes = 0;
    this.flush();
    if (injected > 0) this.ctx.services.log.emit({ event: 'icid.starttls.injection', icid: this.ctx.conn.icid, bytes: injected });

    const raw = this.socket;
    raw.removeAllListeners('data');
    const runtime = this.ctx.runtime;
    const policy = this.ctx.conn.policy;
    const requestCert = policy.verifyClientCertificate;
    const secure = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: runtime.tls.defaultContext,
      SNICallback: runtime.tls.sniCallback,
      requestCert,
      rejectUnauthorized: false,
    });
    this.socket = secure;
    // The TLS socket takes over the handle: the raw socket may never emit 'close' again.
    secure.once('close', () => this.onClose());
    const handshakeTimer = setTimeout(() => {
      this.ctx.services.log.emit({ event: 'icid.tls.failed', icid: this.ctx.conn.icid, reason: 'handshake timed out' });
      this.state = { phase: 'closed' };
      secure.destroy();
    }, runtime.smtp.tlsHandshakeTimeoutSeconds * 1000);
    handshakeTimer.unref();
    secure.on('error', (err: Error) => {
      clearTimeout(handshakeTimer);
      if (this.state.phase === 'tls-handshake') {
        this.ctx.services.log.emit({ event: 'icid.tls.failed', icid: this.ctx.conn.icid, reason: err.message });
        this.ctx.services.onTlsOutcome?.({ ok: false, listener: runtime.listener.name, reason: err.message });
        this.state = { phase: 'closed' };
      }
      secure.destroy();
    });
    secure.once('secure', () => {
      clearTimeout(handshakeTimer);
      secure.disableRenegotiation();
      secure.setNoDelay(true);
      const cipher = secure.getCipher();
      const protocol = secure.getProtocol() ?? 'unknown';
      this.ctx.services.log.emit({ event: 'icid.tls.success', icid: this.ctx.conn.icid, protocol, cipher: cipher.standardName || cipher.name });
      this.ctx.services.onTlsOutcome?.({ ok: true, listener: runtime.listener.name });
      const client = requestCert ? clientCertificateStatus(secure) : ({ presented: false } as const);
      const rejection = !requestCert
        ? null
        : !client.presented
          ? policy.tls === 'required'
            ? 'no certificate presented'
            : null
          : client.valid
            ? null
            : client.reason;
      this.attach(secure);
      if (rejection !== null) {
        this.ctx.services.log.emit({ event: 'icid.tls.client-cert-rejected', icid: this.ctx.conn.icid, reason: rejection });
        this.closeWith(closingReplies.clientCertRejected(runtime.hostname));
        return;
      }
      this.ctx.tls = {
        protocol,
        cipher: cipher.standardName || cipher.name,
        clientCertificate: client.presented && client.valid ? client.subject : null,
      };
      // RFC 3207 §4.2: forget everything from before the handshake; EHLO again.
      this.state = { phase: 'greeting' };
      this.greeted = true;
      this.armIdle(runtime.smtp.commandTimeoutSeconds);
      if (this.draining) this.closeWith(closingReplies.shuttingDown(runtime.hostname));
    });
  }

  private onClose(): void {
    if (this.closeLogged) return;
    this.closeLogged = true;
    const wasClosedByUs = this.state.phase === 'closed';
    this.state = { phase: 'closed' };
    this.clearTimers();
    if (!this.quitReceived && !wasClosedByUs) this.ctx.services.log.emit({ event: 'icid.lost', icid: this.ctx.conn.icid });
    this.ctx.services.log.emit({ event: 'icid.close', icid: this.ctx.conn.icid });
    this.closeResolve();
  }
}
