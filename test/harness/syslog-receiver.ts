/**
 * A fake syslog server on loopback for tests: UDP (one message per datagram) or
 * TCP with RFC 6587 octet-counting frames, parsed strictly — a frame whose
 * length prefix is malformed or does not match is recorded in `framingErrors`.
 * Does nothing on import.
 */
import dgram from 'node:dgram';
import net from 'node:net';

export interface SyslogReceiver {
  /** `udp:127.0.0.1:PORT` / `tcp:127.0.0.1:PORT`, for `logging.mailLog.syslog.target`. */
  target: string;
  port: number;
  /** Every message received, in order, as text. */
  messages: string[];
  /** TCP: problems with the framing (empty when every frame was `LEN SP MSG` with the right LEN). */
  framingErrors: string[];
  /** TCP: connections accepted so far. */
  connections(): number;
  /** Waits until a message matches, or fails after `ms` listing what came. */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  /** TCP: closes every open connection (the server stays up). */
  dropConnections(): void;
  close(): Promise<void>;
}

function waiter(messages: string[]): SyslogReceiver['waitFor'] {
  return async (pattern, ms = 5000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = messages.find((m) => pattern.test(m));
      if (hit !== undefined) return hit;
      if (Date.now() > deadline) throw new Error(`no syslog message matches ${pattern}; received:\n${messages.join('\n')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
}

export async function startUdpSyslogReceiver(port = 0): Promise<SyslogReceiver> {
  const socket = dgram.createSocket('udp4');
  const messages: string[] = [];
  socket.on('message', (m) => messages.push(m.toString('utf8')));
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  const bound = socket.address().port;
  return {
    target: `udp:127.0.0.1:${bound}`,
    port: bound,
    messages,
    framingErrors: [],
    connections: () => 0,
    waitFor: waiter(messages),
    dropConnections: () => {},
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

export async function startTcpSyslogReceiver(port = 0): Promise<SyslogReceiver> {
  const messages: string[] = [];
  const framingErrors: string[] = [];
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const space = buf.indexOf(0x20);
        if (space < 0) {
          if (buf.length > 10 || !/^\d*$/.test(buf.toString('latin1'))) framingErrors.push(`no length prefix: ${JSON.stringify(buf.toString('latin1').slice(0, 40))}`);
          return;
        }
        const lenText = buf.subarray(0, space).toString('latin1');
        if (!/^[1-9]\d{0,9}$/.test(lenText)) {
          framingErrors.push(`bad length prefix ${JSON.stringify(lenText.slice(0, 40))}`);
          buf = Buffer.alloc(0);
          return;
        }
        const len = Number(lenText);
        if (buf.length < space + 1 + len) return;
        const msg = buf.subarray(space + 1, space + 1 + len).toString('utf8');
        // A wrong LEN shows up at the next frame: it would not start with digits and a space.
        messages.push(msg);
        buf = buf.subarray(space + 1 + len);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as net.AddressInfo).port;
  return {
    target: `tcp:127.0.0.1:${bound}`,
    port: bound,
    messages,
    framingErrors,
    connections: () => accepted,
    waitFor: waiter(messages),
    dropConnections: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
