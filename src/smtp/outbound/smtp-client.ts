/**
 * Our SMTP client (SPEC §5; catalogue #6, #12, #15): one connection to one
 * next hop on node:net / node:tls.
 *
 * * Replies: multi-line aware, bounded (line 2,048 bytes, 128 lines, 64 KiB per
 *   reply); a line that is not `ddd[ -]...`, mixed codes within one reply or a
 *   NUL byte is a clean `unexpected` error, never a crash.
 * * EHLO with HELO fallback; capabilities from every keyword line (STARTTLS is
 *   found wherever it appears, also before other lines).
 * * STARTTLS: every byte received after the 220 and before the handshake is
 *   discarded (response injection, CVE-2021-38371 class) and counted; the
 *   caller must EHLO again on the TLS socket.
 * * PIPELINING: MAIL, the RCPTs and DATA in one write when offered.
 * * Per-stage timeouts (RFC 5321 §4.5.3.2 shape, shorter by default).
 * * `setNoDelay(true)`; `error` handled on every socket.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { SmtpReply } from '../../core/smtp-reply.js';
import { dotStuff } from './dot-stuff.js';

/** Why a connection failed, in the appliance's Connection Error vocabulary. */
export type ClientFailureKind = 'network' | 'timeout' | 'unexpected' | 'canceled';

export class SmtpClientError extends Error {
  constructor(
    readonly kind: ClientFailureKind,
    message: string,
    /** The reply that was unexpected, when there was one. */
    readonly reply: SmtpReply | null = null,
  ) {
    super(message);
    this.name = 'SmtpClientError';
  }
}

/**
 * OpenSSL's error text in Node's short form (`error:0A0000C1:SSL routines::no
 * shared cipher`), without the thread id and source-file position that some
 * errors carry; other messages unchanged (one line).
 */
export function tlsErrorText(message: string): string {
  const m = /(error:[0-9A-Fa-f]{8}):([^:\n]*):[^:\n]*:([^:\n]*)/.exec(message);
  if (m) return `${m[1]}:${m[2]}::${m[3]}`;
  return message.split('\n')[0]!.trim();
}

/** The TLS handshake failed; `message` is the TLS library's own text. */
export class TlsHandshakeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsHandshakeError';
  }
}

export interface ClientTimeouts {
  connectMs: number;
  greetingMs: number;
  commandMs: number;
  dataInitMs: number;
  dataDoneMs: number;
  tlsMs: number;
}

export const DEFAULT_CLIENT_TIMEOUTS: ClientTimeouts = {
  connectMs: 30_000,
  greetingMs: 120_000,
  commandMs: 120_000,
  dataInitMs: 120_000,
  dataDoneMs: 300_000,
  tlsMs: 30_000,
};

export interface Capabilities {
  esmtp: boolean;
  starttls: boolean;
  pipelining: boolean;
  eightBitMime: boolean;
  smtpUtf8: boolean;
  /** SIZE limit; 0 = advertised without a limit; null = not advertised. */
  size: number | null;
  keywords: string[];
}

export interface TlsInfo {
  protocol: string;
  cipher: string;
}

const END_OF_DATA = Buffer.from('.\r\n', 'latin1');

/** `MAIL FROM:<a>` with SIZE (when offered) and BODY=8BITMIME (when the message is 8-bit and it is offered). */
function mailCommand(tx: MailTransaction, caps: Capabilities): string {
  const params: string[] = [];
  if (caps.size !== null) params.push(`SIZE=${tx.body.length}`);
  if (tx.bodyType === '8BITMIME' && caps.eightBitMime) params.push('BODY=8BITMIME');
  return `MAIL FROM:<${tx.from}>${params.length ? ` ${params.join(' ')}` : ''}`;
}

/** The pipelined envelope: [RSET,] MAIL, RCPT..., DATA. */
function envelopeText(reset: boolean, mailLine: string, rcptLines: readonly string[]): string {
  return [...(reset ? ['RSET'] : []), mailLine, ...rcptLines, 'DATA'].map((l) => `${l}\r\n`).join('');
}
const MAX_LINE = 2048;
const MAX_LINES = 128;
const MAX_REPLY_BYTES = 64 * 1024;

/** Parses the keyword lines of an EHLO reply (every line; the first is the greeting, but STARTTLS is honoured anywhere). */
export function parseCapabilities(r: SmtpReply): Capabilities {
  const caps: Capabilities = { esmtp: true, starttls: false, pipelining: false, eightBitMime: false, smtpUtf8: false, size: null, keywords: [] };
  r.lines.forEach((line, i) => {
    const words = line.trim().split(/\s+/);
    const kw = (words[0] ?? '').toUpperCase();
    if (i > 0 && kw !== '') caps.keywords.push(kw);
    if (kw === 'STARTTLS') caps.starttls = true;
    else if (i === 0) return;
    else if (kw === 'PIPELINING') caps.pipelining = true;
    else if (kw === '8BITMIME') caps.eightBitMime = true;
    else if (kw === 'SMTPUTF8') caps.smtpUtf8 = true;
    else if (kw === 'SIZE') {
      const n = Number(words[1] ?? '0');
      caps.size = Number.isSafeInteger(n) && n >= 0 ? n : 0;
    }
  });
  return caps;
}

/** Splits `5.1.1 text` into the enhanced code and the text. */
function splitEnhanced(code: number, text: string): { enhanced?: string; text: string } {
  const m = /^([245]\.\d{1,3}\.\d{1,3})(?:\s+|$)(.*)$/.exec(text);
  if (m && m[1]!.startsWith(String(code)[0]!)) return { enhanced: m[1]!, text: m[2] ?? '' };
  return { text };
}

/** `ip:port`, with an IPv6 address in brackets (`[::1]:25`) so the port cannot be read as part of it. */
export function endpointText(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The reply as one line for logs and DSNs. */
export function formatReply(r: SmtpReply): string {
  return [String(r.code), r.enhanced, r.lines.join(' ')].filter((x) => x !== undefined && x !== '').join(' ');
}

export interface ConnectOptions {
  ip: string;
  port: number;
  /** Source address to bind (the outbound source address); the OS chooses when absent or null. */
  localAddress?: string | null;
  timeouts: ClientTimeouts;
}

export interface MailTransaction {
  from: string;
  recipients: readonly string[];
  body: Buffer;
  /** Adds BODY=8BITMIME (only when the next hop offers it). */
  bodyType: '7BIT' | '8BITMIME';
}

export interface TransactionResult {
  /** Reply to each RCPT in order (MAIL's reply when MAIL failed). */
  recipients: SmtpReply[];
  /** Reply after the data (null when no recipient was accepted or MAIL/DATA failed). */
  final: SmtpReply | null;
  /** Reply to MAIL/DATA when the transaction failed before the data. */
  failure: SmtpReply | null;
  /**
   * The `next` transaction's MAIL/RCPT/DATA went out with this one's end of data: the caller must
   * run `transaction(next)` next, or close the connection (`destroy`), which makes the next hop
   * drop it (a transaction cut before its end of data is never delivered).
   */
  nextSent: boolean;
}

/**
 * A positive reply other than the one the command allows (250 to MAIL, 354 to
 * DATA) means the next hop is out of step (or lying): taken as a failure, it
 * would be read as "delivered" for a message that was never sent.
 */
function checkNotFalsePositive(r: SmtpReply, expected: number, command: string): void {
  if (r.code !== expected && r.code < 400) throw new SmtpClientError('unexpected', `unexpected reply to ${command}: ${formatReply(r)}`, r);
}

export class SmtpClient {
  private socket: net.Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly replies: SmtpReply[] = [];
  private waiter: { resolve: () => void } | null = null;
  private failure: SmtpClientError | null = null;
  /**
   * A transaction the next hop may still hold open (MAIL accepted, no reply after the data yet):
   * the next one starts with RSET. A transaction that ended with the reply to the data, or whose
   * MAIL was refused, leaves the server ready for MAIL (RFC 5321 §4.1.1.4): no RSET, one reply
   * fewer per message on a reused connection.
   */
  private transactionOpen = false;
  /** A transaction whose MAIL/RCPT/DATA already went out behind the previous message's end of data (see `transaction`). */
  private sent: MailTransaction | null = null;
  private onData = (chunk: Buffer): void => this.receive(chunk);
  private onError = (err: Error): void => this.fail(new SmtpClientError('network', err.message));
  private onClose = (): void => this.fail(new SmtpClientError('network', 'connection closed by the next hop'));
  tls: TlsInfo | null = null;
  tlsSocket: tls.TLSSocket | null = null;
  readonly localAddress: string;

  private constructor(
    socket: net.Socket,
    readonly timeouts: ClientTimeouts,
  ) {
    this.socket = socket;
    this.localAddress = socket.localAddress ?? '0.0.0.0';
    this.attach(socket);
  }

  /** Opens the TCP connection (errors: `network`, or `timeout` after connectMs). */
  static async connect(o: ConnectOptions): Promise<SmtpClient> {
    const localAddress = o.localAddress ?? undefined;
    const socket = net.connect({ host: o.ip, port: o.port, localAddress, noDelay: true });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new SmtpClientError('timeout', `connect to ${endpointText(o.ip, o.port)} timed out`));
      }, o.timeouts.connectMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve();
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        // The OS refuses to bind a source address it does not have: say which setting is wrong.
        let text = err.message;
        if (localAddress !== undefined && err.code === 'EADDRNOTAVAIL') text = `source address ${localAddress} cannot be used: it is not an address of this machine (EADDRNOTAVAIL)`;
        else if (localAddress !== undefined && err.code === 'EINVAL') text = `source address ${localAddress} cannot be used to reach ${o.ip} (EINVAL)`;
        reject(new SmtpClientError('network', text));
      });
    });
    return new SmtpClient(socket, o.timeouts);
  }

  private attach(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private detach(socket: net.Socket): void {
    socket.off('data', this.onData);
    socket.off('close', this.onClose);
    // The error listener stays (an unhandled 'error' would crash the process); it only records.
  }

  private fail(err: SmtpClientError): void {
    this.failure ??= err;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.resolve();
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    try {
      this.parseReplies();
    } catch (err) {
      this.fail(err as SmtpClientError);
      this.socket.destroy();
    }
    this.wake();
  }

  /** Moves every complete reply from the buffer to the queue; throws on hostile input. */
  private parseReplies(): void {
    for (;;) {
      const lines: string[] = [];
      let offset = 0;
      let code = -1;
      let complete = false;
      for (;;) {
        const nl = this.buffer.indexOf(0x0a, offset);
        if (nl < 0) {
          if (this.buffer.length - offset > MAX_LINE) throw new SmtpClientError('unexpected', `reply line longer than ${MAX_LINE} bytes`);
          if (this.buffer.length > MAX_REPLY_BYTES) throw new SmtpClientError('unexpected', `reply longer than ${MAX_REPLY_BYTES} bytes`);
          break;
        }
        if (nl - offset > MAX_LINE) throw new SmtpClientError('unexpected', `reply line longer than ${MAX_LINE} bytes`);
        const raw = this.buffer.subarray(offset, nl).toString('latin1').replace(/\r$/, '');
        offset = nl + 1;
        if (raw.includes('\0')) throw new SmtpClientError('unexpected', 'NUL byte in reply');
        const m = /^([2-5]\d\d)([ -]|$)(.*)$/.exec(raw);
        if (!m) throw new SmtpClientError('unexpected', `malformed reply line: ${JSON.stringify(raw.slice(0, 80))}`);
        const c = Number(m[1]);
        if (code !== -1 && c !== code) throw new SmtpClientError('unexpected', `mixed reply codes ${code} and ${c} in one reply`);
        code = c;
        lines.push(m[3] ?? '');
        if (lines.length > MAX_LINES) throw new SmtpClientError('unexpected', `reply of more than ${MAX_LINES} lines`);
        if (m[2] !== '-') {
          complete = true;
          break;
        }
      }
      if (!complete) return;
      this.buffer = this.buffer.subarray(offset);
      const first = splitEnhanced(code, lines[0] ?? '');
      const rest = lines.slice(1).map((l) => (first.enhanced !== undefined ? splitEnhanced(code, l).text : l));
      const reply: SmtpReply = first.enhanced !== undefined ? { code, enhanced: first.enhanced, lines: [first.text, ...rest] } : { code, lines: [first.text, ...rest] };
      this.replies.push(reply);
    }
  }

  /** The next reply, or an SmtpClientError (`timeout`, `network`, `unexpected`). */
  async readReply(timeoutMs: number, stage: string): Promise<SmtpReply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.replies.shift();
      if (r) return r;
      if (this.failure) throw this.failure;
      const left = deadline - Date.now();
      if (left <= 0) {
        this.socket.destroy();
        throw new SmtpClientError('timeout', `no reply to ${stage} within ${Math.round(timeoutMs / 1000)} s`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = {
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        };
      });
    }
  }

  write(data: string | Buffer): void {
    if (this.failure) return;
    this.socket.write(data);
  }

  async command(line: string, timeoutMs = this.timeouts.commandMs): Promise<SmtpReply> {
    this.write(`${line}\r\n`);
    return this.readReply(timeoutMs, line.split(' ')[0] ?? line);
  }

  async greeting(): Promise<SmtpReply> {
    return this.readReply(this.timeouts.greetingMs, 'the greeting');
  }

  /** EHLO, HELO when EHLO gets a 5xx. Returns the reply and capabilities (none after HELO). */
  async hello(name: string): Promise<{ reply: SmtpReply; caps: Capabilities }> {
    const r = await this.command(`EHLO ${name}`);
    if (r.code === 250) return { reply: r, caps: parseCapabilities(r) };
    if (r.code < 500) return { reply: r, caps: parseCapabilities({ code: 250, lines: [''] }) };
    const h = await this.command(`HELO ${name}`);
    return { reply: h, caps: { esmtp: false, starttls: false, pipelining: false, eightBitMime: false, smtpUtf8: false, size: null, keywords: [] } };
  }

  /**
   * Sends STARTTLS. Not 220: returns that reply (connection still plaintext
   * and usable). 220: discards every byte received since (returned as
   * `discarded`), wraps the socket and handshakes; throws TlsHandshakeError on
   * failure (the connection is then unusable).
   */
  async startTls(options: tls.ConnectionOptions): Promise<{ refused: SmtpReply } | { discarded: number; info: TlsInfo; socket: tls.TLSSocket }> {
    this.write('STARTTLS\r\n');
    const r = await this.readReply(this.timeouts.commandMs, 'STARTTLS');
    if (r.code !== 220) return { refused: r };
    // Response injection: nothing received before the handshake may be believed after it.
    let discarded = this.buffer.length;
    for (const q of this.replies.splice(0)) discarded += q.lines.reduce((n, l) => n + l.length + 6, 0);
    this.buffer = Buffer.alloc(0);
    const raw = this.socket;
    this.detach(raw);
    const secure = tls.connect({ ...options, socket: raw });
    secure.on('error', () => {});
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new TlsHandshakeError('TLS handshake timed out')), this.timeouts.tlsMs);
        secure.once('secureConnect', () => {
          clearTimeout(t);
          resolve();
        });
        secure.once('error', (err) => {
          clearTimeout(t);
          reject(new TlsHandshakeError(tlsErrorText(err.message)));
        });
        secure.once('close', () => {
          clearTimeout(t);
          reject(new TlsHandshakeError('connection closed during the TLS handshake'));
        });
      });
    } catch (err) {
      secure.destroy();
      raw.destroy();
      this.failure ??= new SmtpClientError('network', (err as Error).message);
      throw err;
    }
    secure.removeAllListeners('close');
    this.socket = secure;
    this.tlsSocket = secure;
    this.attach(secure);
    const cipher = secure.getCipher();
    this.tls = { protocol: secure.getProtocol() ?? 'unknown', cipher: cipher?.standardName ?? cipher?.name ?? 'unknown' };
    return { discarded, info: this.tls, socket: secure };
  }

  /**
   * Hands the plaintext socket to a caller that speaks TLS itself (the TLS 1.2
   * probe of `tlsverify`), after a STARTTLS 220 it read with `command`. Bytes
   * received after that reply are discarded like in `startTls` (response
   * injection). The client is unusable afterwards; the caller owns the socket
   * (its own `error` listener stays attached, so an error never goes unhandled).
   */
  releaseSocket(): net.Socket {
    this.buffer = Buffer.alloc(0);
    this.replies.splice(0);
    const raw = this.socket;
    this.detach(raw);
    this.failure ??= new SmtpClientError('canceled', 'socket handed over');
    return raw;
  }

  /**
   * One mail transaction. With PIPELINING, MAIL + RCPTs + DATA go in one write.
   * The body is dot-stuffed with CRLF only (no bare CR/LF, no unstuffed dot line).
   *
   * `next` (PIPELINING only): the following message on this connection. Its MAIL/RCPT/DATA go in
   * the same write as this message's body and end of data (RFC 2920 §3.1 lets commands follow the
   * end of data; its example pipelines QUIT there). The next hop then needs one round trip per
   * message instead of two. `nextSent` in the result says whether that happened (not when this
   * transaction never got to its data).
   */
  async transaction(tx: MailTransaction, caps: Capabilities, next?: MailTransaction): Promise<TransactionResult> {
    const mailLine = mailCommand(tx, caps);
    const rcptLines = tx.recipients.map((r) => `RCPT TO:<${r}>`);
    const t = this.timeouts;
    const alreadySent = this.sent === tx;
    if (this.sent !== null && !alreadySent) throw new SmtpClientError('unexpected', 'a pipelined transaction was skipped');
    this.sent = null;
    // A reply nobody asked for (a lying next hop answering twice) would shift every later reply by one.
    // (After a pipelined envelope the replies to it may already be here; the 354 check below still
    // refuses a shifted sequence.)
    if (!alreadySent && (this.replies.length > 0 || this.buffer.length > 0)) throw new SmtpClientError('unexpected', 'unsolicited reply from the next hop before MAIL');
    let mail: SmtpReply;
    const rcpts: SmtpReply[] = [];
    let data: SmtpReply;
    const reset = !alreadySent && this.transactionOpen;
    this.transactionOpen = true;
    if (caps.pipelining) {
      if (!alreadySent) this.write(envelopeText(reset, mailLine, rcptLines));
      if (reset) {
        const r = await this.readReply(t.commandMs, 'RSET');
        if (r.code !== 250) throw new SmtpClientError('unexpected', `RSET refused: ${formatReply(r)}`, r);
      }
      mail = await this.readReply(t.commandMs, 'MAIL');
      for (let i = 0; i < rcptLines.length; i++) rcpts.push(await this.readReply(t.commandMs, 'RCPT'));
      data = await this.readReply(t.dataInitMs, 'DATA');
      checkNotFalsePositive(mail, 250, 'MAIL');
      checkNotFalsePositive(data, 354, 'DATA');
      if (mail.code !== 250) this.transactionOpen = false;
      if (mail.code !== 250 || !rcpts.some((r) => r.code === 250 || r.code === 251)) {
        if (data.code === 354) {
          // A server that says 354 with nothing accepted gets an empty message it must refuse.
          this.write('.\r\n');
          await this.readReply(t.dataDoneMs, 'end of data');
          this.transactionOpen = false;
        }
        return mail.code !== 250 ? { recipients: rcptLines.map(() => mail), final: null, failure: mail, nextSent: false } : { recipients: rcpts, final: null, failure: null, nextSent: false };
      }
    } else {
      if (reset) {
        const r = await this.command('RSET');
        if (r.code !== 250) throw new SmtpClientError('unexpected', `RSET refused: ${formatReply(r)}`, r);
      }
      mail = await this.command(mailLine);
      checkNotFalsePositive(mail, 250, 'MAIL');
      if (mail.code !== 250) {
        this.transactionOpen = false;
        return { recipients: rcptLines.map(() => mail), final: null, failure: mail, nextSent: false };
      }
      for (const l of rcptLines) rcpts.push(await this.command(l));
      if (!rcpts.some((r) => r.code === 250 || r.code === 251)) return { recipients: rcpts, final: null, failure: null, nextSent: false };
      data = await this.command('DATA', t.dataInitMs);
      checkNotFalsePositive(data, 354, 'DATA');
    }
    if (data.code !== 354) return { recipients: rcpts, final: null, failure: data, nextSent: false };
    // Body and end of data in one write (one TLS record and one syscall fewer per message), and
    // the next message's envelope with them when there is one.
    const parts = [dotStuff(tx.body), END_OF_DATA];
    const nextSent = next !== undefined && caps.pipelining;
    if (nextSent) {
      parts.push(Buffer.from(envelopeText(false, mailCommand(next, caps), next.recipients.map((r) => `RCPT TO:<${r}>`)), 'utf8'));
      this.sent = next;
    }
    this.write(Buffer.concat(parts));
    const final = await this.readReply(t.dataDoneMs, 'end of data');
    this.transactionOpen = nextSent;
    return { recipients: rcpts, final, failure: null, nextSent };
  }

  /** RSET between messages on a reused connection; false when the connection is no longer usable. */
  async reset(): Promise<boolean> {
    try {
      return (await this.command('RSET')).code === 250;
    } catch {
      return false;
    }
  }

  get isBroken(): boolean {
    return this.failure !== null;
  }

  /**
   * QUIT (best effort, short wait) and close. With a pipelined envelope still unanswered the next
   * hop may be waiting for message data (after a 354, QUIT would be read as data): the connection
   * is just closed, which makes it drop that transaction.
   */
  async quit(): Promise<void> {
    if (!this.failure && this.sent === null) {
      try {
        await this.command('QUIT', 2000);
      } catch {
        // closing anyway
      }
    }
    this.destroy();
  }

  destroy(): void {
    this.failure ??= new SmtpClientError('canceled', 'connection closed');
    this.socket.destroy();
  }
}
