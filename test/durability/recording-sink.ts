/**
 * A downstream SMTP sink for the durability proof: it accepts every message
 * (no STARTTLS), finds the end of data on the raw `<CRLF>.<CRLF>`, and counts
 * how many times each message identifier (the `X-Durability-Id:` header)
 * arrived, so a test can assert zero loss and report duplicates. It answers
 * `250` only after it has recorded the message. Loopback only.
 */
import net from 'node:net';

export const ID_HEADER = 'X-Durability-Id';

export interface RecordingSink {
  port: number;
  /** Arrivals per identifier (2 or more: duplicates). */
  arrivals: Map<string, number>;
  /** Messages received in total (with duplicates), and those without an identifier. */
  readonly total: number;
  readonly withoutId: number;
  close(): Promise<void>;
}

export async function startRecordingSink(): Promise<RecordingSink> {
  const arrivals = new Map<string, number>();
  const counts = { total: 0, withoutId: 0 };
  const sockets = new Set<net.Socket>();
  const idRe = new RegExp(`^${ID_HEADER}: (\\S+)\\r$`, 'm');
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    sock.setNoDelay(true);
    let buf = '';
    let inData = false;
    const pump = (): void => {
      let out = '';
      for (;;) {
        if (inData) {
          const end = buf.startsWith('.\r\n') ? 0 : buf.indexOf('\r\n.\r\n');
          if (end < 0) break;
          const data = buf.slice(0, end);
          buf = buf.slice(end === 0 ? 3 : end + 5);
          inData = false;
          counts.total++;
          const id = idRe.exec(data)?.[1];
          if (id === undefined) counts.withoutId++;
          else arrivals.set(id, (arrivals.get(id) ?? 0) + 1);
          out += '250 2.0.0 Ok: recorded\r\n';
          continue;
        }
        const i = buf.indexOf('\r\n');
        if (i < 0) break;
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const verb = line.split(/[ :]/)[0]!.toUpperCase();
        if (verb === 'EHLO') out += '250-sink.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n';
        else if (verb === 'DATA') {
          inData = true;
          out += '354 End data with <CR><LF>.<CR><LF>\r\n';
        } else if (verb === 'QUIT') {
          sock.end(`${out}221 2.0.0 Bye\r\n`);
          return;
        } else if (verb === 'HELO' || verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP') out += '250 2.0.0 Ok\r\n';
        else out += '502 5.5.2 Command not recognized\r\n';
      }
      if (out !== '' && !sock.destroyed) sock.write(out);
    };
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      pump();
    });
    sock.write('220 sink.test ESMTP\r\n');
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    arrivals,
    get total() {
      return counts.total;
    },
    get withoutId() {
      return counts.withoutId;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
