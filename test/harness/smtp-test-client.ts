/**
 * A small SMTP client for tests: raw writes, reply reading (multi-line aware),
 * STARTTLS with client options, and a transcript. Loopback only.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface TestReply {
  code: number;
  lines: string[];
  text: string;
}

export class SmtpTestClient {
  private buffer = '';
  private waiters: (() => void)[] = [];
  private ended = false;
  readonly transcript: string[] = [];
  socket: net.Socket;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.listen(socket);
  }

  /** `localAddress` picks the source address (e.g. 127.0.0.2, to be a different client IP on loopback). */
  static async connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<SmtpTestClient> {
    const socket = net.connect({ port, host, ...(localAddress !== undefined ? { localAddress } : {}) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return new SmtpTestClient(socket);
  }

  private listen(socket: net.Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buffer += d;
      this.transcript.push(`S: ${d}`);
      this.wake();
    });
    socket.on('error', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** Resolves when the server has closed the connection (or after `ms`, rejecting). */
  async waitClosed(ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  write(data: string | Buffer): void {
    this.transcript.push(`C: ${data.toString()}`);
    this.socket.write(data);
  }

  /** Reads one complete (possibly multi-line) reply. */
  async read(ms = 5000): Promise<TestReply> {
    const deadline = Date.now() + ms;
    for (;;) {
      const parsed = this.tryParse();
      if (parsed) return parsed;
      if (this.ended) throw new Error(`connection closed while waiting for a reply; buffer=${JSON.stringify(this.buffer)}`);
      if (Date.now() > deadline) throw new Error(`no reply within ${ms} ms; buffer=${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private tryParse(): TestReply | null {
    const lines: string[] = [];
    let offset = 0;
    for (;;) {
      const end = this.buffer.indexOf('\r\n', offset);
      if (end < 0) return null;
      const line = this.buffer.slice(offset, end);
      lines.push(line);
      offset = end + 2;
      if (line.length < 4 || line[3] === ' ') {
        this.buffer = this.buffer.slice(offset);
        const code = Number(line.slice(0, 3));
        return { code, lines: lines.map((l) => l.slice(4)), text: lines.join('\n') };
      }
    }
  }

  /** Sends a command line (CRLF added) and reads the reply. */
  async command(line: string): Promise<TestReply> {
    this.write(`${line}\r\n`);
    return this.read();
  }

  /** Any bytes received but not yet read as a reply. */
  get unread(): string {
    return this.buffer;
  }

  /** STARTTLS then the handshake; returns the TLS socket. Throws when the server refuses. */
  async startTls(options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
    const r = await this.command('STARTTLS');
    if (r.code !== 220) throw new Error(`STARTTLS refused: ${r.text}`);
    return this.upgrade(options);
  }

  /** Wraps the socket in TLS (after a 220 was read). */
  async upgrade(options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
    this.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false, ...options });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.buffer = '';
    this.listen(secure);
    return secure;
  }

  /** MAIL, RCPTs, DATA and the message; returns the final reply. */
  async send(from: string, to: string[], message: string): Promise<TestReply> {
    const m = await this.command(`MAIL FROM:<${from}>`);
    if (m.code !== 250) return m;
    let accepted = 0;
    for (const r of to) if ((await this.command(`RCPT TO:<${r}>`)).code === 250) accepted++;
    if (accepted === 0) return this.command('RSET');
    const d = await this.command('DATA');
    if (d.code !== 354) return d;
    const body = message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    this.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
    return this.read();
  }

  close(): void {
    this.socket.destroy();
  }
}
