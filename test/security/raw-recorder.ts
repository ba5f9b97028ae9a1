/**
 * A strict downstream receiver for relay tests: it records the exact bytes a
 * sending gateway put on the wire between `354` and the end of data, which it
 * recognises only as the raw `<CRLF>.<CRLF>` (so a bare-LF or bare-CR
 * terminator relayed by a sloppy sender would show up as an extra message or
 * as stray bytes). No STARTTLS, no unstuffing: what is recorded is what was
 * sent. Loopback only.
 */
import net from 'node:net';

export interface RecordedMessage {
  /** MAIL FROM line and RCPT TO lines of the transaction. */
  mailFrom: string;
  rcpts: string[];
  /** The data bytes exactly as received (latin1), up to and including the CRLF before the final dot. */
  raw: string;
}

export interface RawRecorder {
  port: number;
  messages: RecordedMessage[];
  /** Every command line received outside DATA. */
  commands: string[];
  close(): Promise<void>;
}

export async function startRawRecorder(): Promise<RawRecorder> {
  const messages: RecordedMessage[] = [];
  const commands: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = '';
    let inData = false;
    let mailFrom = '';
    let rcpts: string[] = [];
    const send = (s: string): void => {
      if (!sock.destroyed) sock.write(s);
    };
    const pump = (): void => {
      for (;;) {
        if (inData) {
          // Data starts right after the CRLF of the DATA line: a terminator at its very start is ".\r\n".
          const end = buf.startsWith('.\r\n') ? 0 : buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          const raw = end === 0 ? '' : buf.slice(0, end + 2);
          buf = buf.slice(end === 0 ? 3 : end + 5);
          inData = false;
          messages.push({ mailFrom, rcpts, raw });
          send('250 2.0.0 Ok: recorded\r\n');
          continue;
        }
        const i = buf.indexOf('\r\n');
        if (i < 0) return;
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        commands.push(line);
        const verb = line.split(/[ :]/)[0]!.toUpperCase();
        if (verb === 'EHLO') send('250-recorder.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n');
        else if (verb === 'HELO') send('250 recorder.test\r\n');
        else if (verb === 'MAIL') {
          mailFrom = line;
          rcpts = [];
          send('250 2.1.0 Ok\r\n');
        } else if (verb === 'RCPT') {
          rcpts.push(line);
          send('250 2.1.5 Ok\r\n');
        } else if (verb === 'DATA') {
          inData = true;
          send('354 End data with <CR><LF>.<CR><LF>\r\n');
        } else if (verb === 'RSET' || verb === 'NOOP') send('250 2.0.0 Ok\r\n');
        else if (verb === 'QUIT') {
          send('221 2.0.0 Bye\r\n');
          sock.end();
          return;
        } else send('502 5.5.2 Command not recognized\r\n');
      }
    };
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      pump();
    });
    sock.write('220 recorder.test ESMTP\r\n');
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    messages,
    commands,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
