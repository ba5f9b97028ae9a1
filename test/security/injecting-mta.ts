/**
 * A hostile next hop for STARTTLS response injection (security catalogue §6,
 * CVE-2021-38371 class): it answers STARTTLS with its `220` and, in the same
 * write, a whole fake dialogue (EHLO, MAIL, RCPT, DATA and "queued" replies).
 * After the real handshake it answers with its own genuine replies, which the
 * test chooses (e.g. a 451 to MAIL), so a client that believed the injected
 * lines would report a delivery the genuine server never accepted.
 * Loopback only; every socket has an `error` handler.
 */
import net from 'node:net';
import tls from 'node:tls';

/** The fake dialogue sent together with the 220: every reply a vulnerable client needs to "deliver". */
export const INJECTED_DIALOGUE = [
  '250-injected.test',
  '250 8BITMIME',
  '250 2.1.0 injected sender ok',
  '250 2.1.5 injected recipient ok',
  '354 injected go ahead',
  '250 2.0.0 injected: queued as FAKE',
  '221 2.0.0 injected bye',
]
  .map((l) => `${l}\r\n`)
  .join('');

export interface InjectingMtaOptions {
  cert: { cert: string; key: string };
  /** Genuine reply to MAIL inside TLS (default `250 2.1.0 genuine sender ok`). */
  mailReply?: string;
  /** Genuine reply after the data (default `250 2.0.0 genuine: queued`). */
  afterData?: string;
}

export interface InjectingMta {
  port: number;
  /** Command lines received, `tls:` prefixed after the handshake. */
  commands: string[];
  /** Message data received inside TLS (raw lines, dot-stuffing kept). */
  messages: string[];
  close(): Promise<void>;
}

export async function startInjectingMta(o: InjectingMtaOptions): Promise<InjectingMta> {
  const commands: string[] = [];
  const messages: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((raw) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    raw.on('error', () => {});
    let sock: net.Socket = raw;
    let secure = false;
    let buf = '';
    let data: string | null = null;
    const send = (s: string): void => {
      if (!sock.destroyed) sock.write(s);
    };
    const onLine = (line: string): void => {
      if (data !== null) {
        if (line === '.') {
          messages.push(data);
          data = null;
          send(`${o.afterData ?? '250 2.0.0 genuine: queued'}\r\n`);
        } else data += `${line}\r\n`;
        return;
      }
      commands.push(`${secure ? 'tls:' : ''}${line}`);
      const verb = line.split(/[ :]/)[0]!.toUpperCase();
      if (verb === 'EHLO') return send(secure ? '250-genuine.test\r\n250 8BITMIME\r\n' : '250-genuine.test\r\n250-8BITMIME\r\n250 STARTTLS\r\n');
      if (verb === 'STARTTLS' && !secure) {
        raw.removeAllListeners('data');
        // One write: the 220 and the fake dialogue travel in the same segment.
        raw.write(`220 2.0.0 Ready to start TLS\r\n${INJECTED_DIALOGUE}`);
        const t = new tls.TLSSocket(raw, { isServer: true, cert: o.cert.cert, key: o.cert.key });
        t.on('error', () => {});
        t.on('secure', () => {
          secure = true;
          sock = t;
          buf = '';
          t.on('data', (d: Buffer) => feed(d));
        });
        return;
      }
      if (!secure) return send('530 5.7.0 Must issue a STARTTLS command first\r\n');
      if (verb === 'MAIL') return send(`${o.mailReply ?? '250 2.1.0 genuine sender ok'}\r\n`);
      if (verb === 'RCPT') return send('250 2.1.5 genuine recipient ok\r\n');
      if (verb === 'DATA') {
        data = '';
        return send('354 genuine: end data with <CR><LF>.<CR><LF>\r\n');
      }
      if (verb === 'RSET') return send('250 2.0.0 genuine ok\r\n');
      if (verb === 'QUIT') {
        send('221 2.0.0 genuine bye\r\n');
        sock.end();
        return;
      }
      send('502 5.5.2 Command not recognized\r\n');
    };
    const feed = (d: Buffer): void => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        onLine(line);
      }
    };
    raw.on('data', (d: Buffer) => feed(d));
    raw.write('220 genuine.test ESMTP\r\n');
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    commands,
    messages,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
