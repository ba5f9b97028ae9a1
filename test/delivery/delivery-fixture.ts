/**
 * Delivery test rig: a fake DNS on loopback, a receiving gateway (delivery off)
 * with one listener per remote behaviour, a sending gateway (delivery on) whose
 * SMTP routes point at them, a scriptable remote MTA, and helpers to send a
 * message through the sender and read the lines of its delivery.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import type { Config, Listener } from '../../src/config/schema.js';
import { homeLayout } from '../../src/core/home-layout.js';
import { createResolver, type DnsResolver } from '../../src/dns/resolver.js';
import { KeyStore } from '../../src/tls/key-store.js';
import { startFakeDns, type FakeDns, type FakeZone } from '../harness/fake-dns.js';
import { freePort, startTestGateway, tempHome, type TestGateway, type TestGatewayOptions } from '../harness/gateway-fixture.js';
import type { TestCert } from '../harness/pki-fixture.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';

export async function fakeDnsResolver(zone: FakeZone): Promise<{ dns: FakeDns; resolver: DnsResolver }> {
  const dns = await startFakeDns(zone);
  return { dns, resolver: createResolver({ servers: [dns.server], timeoutMs: 300 }) };
}

export interface ReceiverListener {
  name: string;
  /** RAT entry (`.plain.test`). */
  rat: string;
  tls: 'off' | 'preferred' | 'required';
  cert?: TestCert;
}

/** A receiving gateway: one public listener per entry, each with its own certificate. Delivery is off. */
export async function startReceiver(listeners: ReceiverListener[], pkiChain: (c: TestCert) => string[]): Promise<TestGateway> {
  const home = tempHome('gatehouse-recv-');
  const keys = new KeyStore(homeLayout(home).keysDir);
  const refs = new Map<string, string>();
  for (const l of listeners) if (l.cert) refs.set(l.name, await keys.put(l.cert.privateKeyPem));
  const ports = new Map<string, number>();
  for (const l of listeners) ports.set(l.name, await freePort());
  return startTestGateway(
    (c: Config) => {
      const template = c.listeners.find((x) => x.name === 'IncomingMail')!;
      c.listeners = listeners.map((l): Listener => {
        const copy = structuredClone(template);
        copy.name = l.name;
        copy.port = ports.get(l.name)!;
        copy.rat = [l.rat];
        for (const p of copy.policies) p.tls = l.tls;
        if (l.cert) {
          c.certificates.push({ name: `${l.name}Cert`, source: 'imported', certificate: l.cert.certificatePem, intermediates: pkiChain(l.cert), key: refs.get(l.name)! });
          copy.certificates = [`${l.name}Cert`];
        }
        return copy;
      });
      c.queue.fsync = false;
    },
    { home, deliver: false },
  );
}

/** A sending gateway with delivery on, resolving through `resolver`. */
export async function startSender(edit: (c: Config) => void, resolver: DnsResolver, options: TestGatewayOptions = {}): Promise<TestGateway> {
  return startTestGateway(
    (c) => {
      c.queue.fsync = false;
      c.trustStore = { systemEnabled: false, customEnabled: true, custom: [] };
      edit(c);
    },
    { resolver, deliver: true, deliveryTimeouts: { connectMs: 2000, greetingMs: 2000, commandMs: 2000, dataInitMs: 2000, dataDoneMs: 2000, tlsMs: 2000 }, ...options },
  );
}

/** Sends one message through the sender's relay listener; returns its MID. */
export async function submit(sender: TestGateway, from: string, to: string[], body = 'Subject: test\r\n\r\nhello\r\n'): Promise<number> {
  const c = await SmtpTestClient.connect(sender.port('OutgoingMail'));
  await c.read();
  await c.command('EHLO client.test');
  const r = await c.send(from, to, body);
  await c.command('QUIT');
  c.close();
  assert.equal(r.code, 250, r.text);
  const mid = Number(/queued as (\d+)/.exec(r.text)?.[1]);
  assert.ok(Number.isInteger(mid));
  return mid;
}

/** Every sender log line about this MID's deliveries and their connections (DCID lines), in order. */
export async function deliveryLines(sender: TestGateway, mid: number): Promise<string[]> {
  const lines = (await sender.mailLog()).map((l) => l.replace(/^(Info|Warning|Critical): /, ''));
  // Deliveries in these tests run one at a time: every connection opened after the message
  // was ready, up to the last one that names the MID, belongs to it (failed attempts too).
  const ready = lines.findIndex((l) => l.startsWith(`MID ${mid} ready`));
  let last = -1;
  for (const l of lines) {
    const m = new RegExp(`DCID (\\d+) MID ${mid}\\b`).exec(l);
    if (m) last = Math.max(last, Number(m[1]));
  }
  let first = Infinity;
  for (const l of lines.slice(ready)) {
    const m = /^New SMTP DCID (\d+)/.exec(l);
    if (m) {
      first = Number(m[1]);
      break;
    }
  }
  const dcidOf = (l: string): number | null => {
    const m = /DCID (\d+)/.exec(l);
    return m ? Number(m[1]) : null;
  };
  return lines.filter((l) => {
    if (new RegExp(`MID ${mid}\\b`).test(l)) return true;
    const d = dcidOf(l);
    return d !== null && d >= first && d <= last;
  });
}

/** The messages a receiving gateway holds for an address (its spool: what arrived). */
export function received(receiver: TestGateway, address: string): { tls: { protocol: string; cipher: string } | null; mid: number }[] {
  return receiver.gateway.spoolStore
    .list()
    .filter((m) => m.recipients.some((r) => r.address === address))
    .map((m) => ({ tls: m.tls, mid: m.mid }));
}

// ---------------------------------------------------------------------------
// A scriptable remote MTA (loopback)

export type StarttlsBehaviour = 'tls' | 'refuse-454' | 'handshake-failure' | 'inject';

/** The stages of a session at which a reply can be scripted, withheld or made to lie. */
export type MtaStage = 'greeting' | 'ehlo' | 'helo' | 'mail' | 'rcpt' | 'data' | 'end-of-data';

export interface ScriptedMtaOptions {
  /** EHLO keyword lines (default PIPELINING, 8BITMIME, STARTTLS). */
  ehlo?: string[];
  /** EHLO keyword lines after STARTTLS (default: `ehlo` without STARTTLS). */
  ehloAfterTls?: string[];
  starttls?: StarttlsBehaviour;
  cert?: { cert: string; key: string };
  greeting?: string;
  /** Reply to every RCPT (default 250)... */
  rcpt?: string;
  /** ...except recipients in this domain, which get 250. */
  acceptDomain?: string;
  /** Reply after the data (default 250). */
  afterData?: string;
  /** Raw reply bytes to answer EHLO with (hostile replies). */
  rawEhlo?: string;
  /**
   * Raw reply bytes (CRLF included, may be several lines or lie) for a stage;
   * overrides the options above for that stage. `ehlo` applies before STARTTLS
   * only; a reply to `mail` that is not 2xx makes later RCPTs get 503.
   */
  replies?: Partial<Record<MtaStage, string>>;
  /** Per-recipient RCPT reply (address in lower case → reply line without CRLF); wins over `rcpt`. */
  rcptReplies?: Record<string, string>;
  /** Never answer at this stage, nor anything after it on that connection (a hung server: the client's stage timeout must fire). */
  silentAt?: MtaStage;
  /** Write every reply one byte per packet (multi-line replies split at every possible point). */
  dribble?: boolean;
  /** Reset the connection (TCP RST) as soon as the first line of message data arrives. */
  resetInData?: boolean;
  /**
   * At this stage, answer with an endless reply: `chunk` (default 64 KiB of `x`
   * without a line end: one endless line) written over and over, as fast as the
   * client reads, until the client closes or 256 MiB went out.
   */
  flood?: { at: MtaStage; chunk?: string };
  /** Loopback address to listen on (default 127.0.0.1; `::1` for IPv6 next hops). */
  host?: string;
}

export interface ScriptedMta {
  port: number;
  /**
   * Message bodies received (dot-unstuffed is NOT done: raw data lines, for smuggling checks).
   * `accepted` is false when the reply after the data was not 2xx.
   */
  messages: { raw: string; tls: boolean; rcpts: string[]; accepted: boolean }[];
  /** Every command line received, with `tls:` prefix after the handshake. */
  commands: string[];
  /** Every read from every connection as text (after TLS, decrypted): what arrived together. */
  reads: string[];
  /** The client address of every connection, in order (what the source address setting chose). */
  peers: string[];
  connections: number;
  /** Bytes written by `flood` so far. */
  floodedBytes: number;
  /** Most sessions open at the same time so far (a session ends at its QUIT or when the socket closes). */
  peakConnections: number;
  /** Changes the behaviour for connections (and stages) from now on, e.g. a remote that starts behaving. */
  update(o: Partial<ScriptedMtaOptions>): void;
  close(): Promise<void>;
}

export async function startScriptedMta(options: ScriptedMtaOptions): Promise<ScriptedMta> {
  const o: ScriptedMtaOptions = { ...options };
  const messages: ScriptedMta['messages'] = [];
  const commands: string[] = [];
  const reads: string[] = [];
  const peers: string[] = [];
  const sockets = new Set<net.Socket>();
  const state = { connections: 0, open: 0, peak: 0, flooded: 0 };
  const server = net.createServer((raw) => {
    state.connections++;
    peers.push(raw.remoteAddress ?? 'unknown');
    state.open++;
    state.peak = Math.max(state.peak, state.open);
    sockets.add(raw);
    raw.setNoDelay(true);
    // A session counts as open until its QUIT arrives (the client's view) or the socket closes.
    let counted = true;
    const ended = (): void => {
      if (counted) state.open--;
      counted = false;
    };
    raw.on('close', () => {
      ended();
      sockets.delete(raw);
    });
    raw.on('error', () => {});
    const ehlo = o.ehlo ?? ['PIPELINING', '8BITMIME', 'STARTTLS'];
    const ehloAfter = o.ehloAfterTls ?? ehlo.filter((k) => k !== 'STARTTLS');
    let sock: net.Socket = raw;
    let secure = false;
    let buf = '';
    let inData = false;
    let data = '';
    let rcpts: string[] = [];
    let mailOk = false;
    // Dribbled writes go out one byte per packet, strictly in order.
    let chain: Promise<void> = Promise.resolve();
    let hung = false;
    const write = (s: string): void => {
      if (hung) return;
      if (!o.dribble) {
        sock.write(s);
        return;
      }
      for (const ch of s) {
        chain = chain.then(
          () =>
            new Promise<void>((resolve) => {
              if (!sock.destroyed) sock.write(ch);
              setTimeout(resolve, 1);
            }),
        );
      }
    };
    /** Answers a stage: withheld, scripted raw bytes, or the default line. */
    const flood = (chunk: string): void => {
      const data = Buffer.from(chunk, 'latin1');
      const pump = (): void => {
        while (!sock.destroyed && state.flooded < 256 * 1024 * 1024) {
          state.flooded += data.length;
          if (!sock.write(data)) {
            sock.once('drain', pump);
            return;
          }
        }
      };
      sock.write('250-');
      pump();
    };
    const answer = (stage: MtaStage, fallback: string): void => {
      if (o.silentAt === stage) {
        hung = true;
        return;
      }
      if (o.flood?.at === stage) return flood(o.flood.chunk ?? 'x'.repeat(65536));
      const scripted = o.replies?.[stage];
      write(scripted ?? `${fallback}\r\n`);
    };
    const ehloReply = (lines: string[]): string => ['250-scripted.test', ...lines].map((l, i, a) => (i === a.length - 1 ? l.replace(/^250-/, '250 ').replace(/^(?!250)/, '250 ') : l.startsWith('250-') ? l : `250-${l}`)).join('\r\n') + '\r\n';
    const onLine = (line: string): void => {
      if (inData) {
        if (o.resetInData) {
          raw.resetAndDestroy();
          return;
        }
        if (line === '.') {
          inData = false;
          const fin = o.replies?.['end-of-data'] ?? `${o.afterData ?? '250 2.0.0 Ok: queued'}\r\n`;
          messages.push({ raw: data, tls: secure, rcpts, accepted: fin.startsWith('2') && o.silentAt !== 'end-of-data' });
          data = '';
          answer('end-of-data', o.afterData ?? '250 2.0.0 Ok: queued');
        } else data += `${line}\r\n`;
        return;
      }
      commands.push(`${secure ? 'tls:' : ''}${line}`);
      const verb = line.split(/[ :]/)[0]!.toUpperCase();
      if (verb === 'EHLO') {
        if (o.silentAt === 'ehlo') {
          hung = true;
          return;
        }
        if (o.flood?.at === 'ehlo') return flood(o.flood.chunk ?? 'x'.repeat(65536));
        if (!secure && o.replies?.ehlo !== undefined) return write(o.replies.ehlo);
        if (o.rawEhlo !== undefined && !secure) return write(o.rawEhlo);
        return write(ehloReply(secure ? ehloAfter : ehlo));
      }
      if (verb === 'HELO') return answer('helo', '250 scripted.test');
      if (verb === 'STARTTLS') {
        const b = o.starttls ?? 'tls';
        if (b === 'refuse-454') return write('454 4.7.0 TLS not available due to local problem\r\n');
        if (b === 'handshake-failure') {
          write('220 2.0.0 Ready to start TLS\r\n');
          // Not TLS at all: the server answers the client's hello with text, so the handshake fails.
          // (Waiting for the hello keeps the text from arriving with the 220, where a client rightly drops it.)
          raw.removeAllListeners('data');
          raw.once('data', () => raw.end('this is not a TLS server hello\r\n'));
          return;
        }
        raw.removeAllListeners('data');
        const reply = b === 'inject' ? '220 2.0.0 Ready\r\n250 injected\r\n' : '220 2.0.0 Ready to start TLS\r\n';
        raw.write(reply);
        const t = new tls.TLSSocket(raw, { isServer: true, cert: o.cert?.cert, key: o.cert?.key });
        t.on('error', () => {});
        t.on('secure', () => {
          secure = true;
          sock = t;
          buf = '';
          t.on('data', (d: Buffer) => feed(d));
        });
        return;
      }
      if (verb === 'MAIL') {
        rcpts = [];
        const r = o.replies?.mail ?? '250 2.1.0 Ok\r\n';
        mailOk = r.startsWith('2') && o.silentAt !== 'mail';
        return answer('mail', '250 2.1.0 Ok');
      }
      if (verb === 'RCPT') {
        if (!mailOk) return write('503 5.5.1 Error: need MAIL command\r\n');
        const address = /<([^>]*)>/.exec(line)?.[1]?.toLowerCase() ?? '';
        const ok = o.acceptDomain !== undefined && line.toLowerCase().includes(`@${o.acceptDomain}>`);
        const r = o.rcptReplies?.[address] ?? (ok ? '250 2.1.5 Ok' : (o.rcpt ?? '250 2.1.5 Ok'));
        const scripted = o.rcptReplies?.[address] === undefined && !ok ? o.replies?.rcpt : undefined;
        if ((scripted ?? r).startsWith('2') && o.silentAt !== 'rcpt') rcpts.push(line);
        if (o.silentAt === 'rcpt') {
          hung = true;
          return;
        }
        return write(scripted ?? `${r}\r\n`);
      }
      if (verb === 'DATA') {
        if (rcpts.length === 0) return write('554 5.5.1 No valid recipients\r\n');
        const r = o.replies?.data ?? '354 End data with <CR><LF>.<CR><LF>\r\n';
        if (r.startsWith('354') && o.silentAt !== 'data') inData = true;
        return answer('data', '354 End data with <CR><LF>.<CR><LF>');
      }
      if (verb === 'RSET') {
        mailOk = false;
        rcpts = [];
        return write('250 2.0.0 Ok\r\n');
      }
      if (verb === 'QUIT') {
        ended();
        write('221 2.0.0 Bye\r\n');
        void chain.then(() => sock.end());
        return;
      }
      write('502 5.5.2 Command not recognized\r\n');
    };
    const feed = (d: Buffer): void => {
      reads.push(d.toString('latin1'));
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        onLine(line);
      }
    };
    raw.on('data', (d: Buffer) => feed(d));
    answer('greeting', o.greeting ?? '220 scripted.test ESMTP');
  });
  await new Promise<void>((resolve) => server.listen(0, o.host ?? '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    messages,
    commands,
    reads,
    peers,
    get connections() {
      return state.connections;
    },
    get floodedBytes() {
      return state.flooded;
    },
    get peakConnections() {
      return state.peak;
    },
    update: (u) => {
      Object.assign(o, u);
      for (const k of Object.keys(u) as (keyof ScriptedMtaOptions)[]) if (u[k] === undefined) delete o[k];
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
