/**
 * The TLS 1.2 probe of `tlsverify` and `checktls` (SPEC §7): the certificate
 * chain exactly as a server sends it. Node's `getPeerCertificate(true)`
 * returns the chain OpenSSL rebuilt, which hides duplicates and wrong order;
 * in TLS 1.2 the Certificate handshake message travels in plaintext, so we
 * open a second connection, do EHLO / STARTTLS / 220, send a hand-built TLS
 * 1.2 ClientHello (SNI, supported_groups, signature_algorithms,
 * ec_point_formats, the common ECDHE/RSA AES-GCM and ChaCha20 suites, no
 * supported_versions so the server cannot pick 1.3) and read the records up
 * to the Certificate message, then hang up. No key exchange ever happens.
 *
 * The reader is pure (bytes in, a reading out) and bounded: records may be
 * split or coalesced anyhow, handshake messages may span records; a record
 * longer than TLS allows, a handshake message over 256 KiB, more than 512 KiB
 * in total or more than 32 certificates end the reading as `malformed`, and
 * garbage (an SMTP reply, random bytes) is `malformed` too, never a crash.
 * A server that accepts only TLS 1.3 answers with a `protocol_version` alert:
 * the caller then falls back to Node's view and says so.
 */
import crypto from 'node:crypto';
import type net from 'node:net';
import { SmtpClient, SmtpClientError, formatReply, type ClientTimeouts } from '../smtp/outbound/smtp-client.js';

/** The suites offered, by IANA name (the server picks one; the name is shown in the steps). */
export const PROBE_CIPHER_SUITES: ReadonlyMap<number, string> = new Map([
  [0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
  [0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'],
  [0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
  [0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],
  [0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'],
  [0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256'],
  [0x009e, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256'],
  [0x009f, 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384'],
  [0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256'],
  [0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384'],
]);

/** x25519, secp256r1, secp384r1, secp521r1. */
const SUPPORTED_GROUPS = [0x001d, 0x0017, 0x0018, 0x0019];
/** ECDSA and RSA-PSS/PKCS#1 with SHA-256/384/512, Ed25519, then the SHA-1 forms old servers still need. */
const SIGNATURE_ALGORITHMS = [0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0807, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201];

/** TLSPlaintext.length may be at most 2^14; 2048 more is what TLSCiphertext allows, we tolerate that. */
export const MAX_RECORD_LENGTH = 16384 + 2048;
export const MAX_HANDSHAKE_MESSAGE = 256 * 1024;
export const MAX_TOTAL_BYTES = 512 * 1024;
export const MAX_CERTIFICATES = 32;

const ALERTS: Record<number, string> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  22: 'record_overflow',
  40: 'handshake_failure',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  109: 'missing_extension',
  110: 'unsupported_extension',
  112: 'unrecognized_name',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

/** The alert's name (`protocol_version`), or `alert N` for one TLS does not define. */
export function alertName(description: number): string {
  return ALERTS[description] ?? `alert ${description}`;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u24(n: number): Buffer {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

function extension(type: number, data: Buffer): Buffer {
  return Buffer.concat([u16(type), u16(data.length), data]);
}

function list16(values: readonly number[]): Buffer {
  return Buffer.concat([u16(values.length * 2), ...values.map(u16)]);
}

/**
 * A TLS 1.2 ClientHello in one handshake record. `servername` goes into SNI
 * (never an IP address: pass null). `random` is for tests; default random.
 */
export function buildClientHello(servername: string | null, random: Buffer = crypto.randomBytes(32)): Buffer {
  if (random.length !== 32) throw new Error('ClientHello random must be 32 bytes');
  const extensions: Buffer[] = [];
  if (servername !== null && servername !== '') {
    const name = Buffer.from(servername, 'ascii');
    const entry = Buffer.concat([Buffer.from([0]), u16(name.length), name]);
    extensions.push(extension(0x0000, Buffer.concat([u16(entry.length), entry])));
  }
  extensions.push(extension(0x000a, list16(SUPPORTED_GROUPS)));
  extensions.push(extension(0x000b, Buffer.from([1, 0])));
  extensions.push(extension(0x000d, list16(SIGNATURE_ALGORITHMS)));
  extensions.push(extension(0x0017, Buffer.alloc(0))); // extended_master_secret
  extensions.push(extension(0xff01, Buffer.from([0]))); // renegotiation_info (RFC 5746), empty
  const extBytes = Buffer.concat(extensions);
  const body = Buffer.concat([
    u16(0x0303),
    random,
    Buffer.from([0]), // no session id
    list16([...PROBE_CIPHER_SUITES.keys()]),
    Buffer.from([1, 0]), // compression: null only
    u16(extBytes.length),
    extBytes,
  ]);
  const handshake = Buffer.concat([Buffer.from([1]), u24(body.length), body]);
  return Buffer.concat([Buffer.from([22, 3, 1]), u16(handshake.length), handshake]);
}

/** What the bytes read so far say. */
export type ProbeReading =
  | { kind: 'pending' }
  | { kind: 'certificates'; certificates: Buffer[]; protocol: string; cipherSuite: string }
  | { kind: 'alert'; description: number; name: string }
  /** The server went on without a Certificate message (an anonymous suite). */
  | { kind: 'no-certificate' }
  | { kind: 'malformed'; reason: string };

const VERSIONS: Record<number, string> = { 0x0300: 'SSLv3', 0x0301: 'TLSv1', 0x0302: 'TLSv1.1', 0x0303: 'TLSv1.2', 0x0304: 'TLSv1.3' };

function printable(bytes: Buffer): string {
  const text = bytes.subarray(0, 60).toString('latin1');
  return /^[\x20-\x7e\r\n\t]*$/.test(text) ? JSON.stringify(text.replace(/\r?\n.*$/s, '')) : `0x${bytes.subarray(0, 8).toString('hex')}`;
}

/**
 * Reads server records until the Certificate handshake message (or an alert,
 * or something that is not TLS). Feed it every chunk; once the reading is no
 * longer `pending` it stays as it is.
 */
export class CertificateMessageReader {
  private pending: Buffer = Buffer.alloc(0);
  private handshake: Buffer = Buffer.alloc(0);
  private alertBytes: Buffer = Buffer.alloc(0);
  private total = 0;
  private serverHello: { protocol: string; cipherSuite: string } | null = null;
  private reading: ProbeReading = { kind: 'pending' };

  get result(): ProbeReading {
    return this.reading;
  }

  feed(chunk: Buffer): ProbeReading {
    if (this.reading.kind !== 'pending') return this.reading;
    this.total += chunk.length;
    if (this.total > MAX_TOTAL_BYTES) return this.finish({ kind: 'malformed', reason: `more than ${MAX_TOTAL_BYTES} bytes before the Certificate message` });
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.reading.kind === 'pending' && this.pending.length >= 5) {
      const type = this.pending[0]!;
      const major = this.pending[1]!;
      const length = this.pending.readUInt16BE(3);
      if (type < 20 || type > 23 || major !== 3) {
        return this.finish({ kind: 'malformed', reason: `not a TLS record (the server sent ${printable(this.pending)})` });
      }
      if (length > MAX_RECORD_LENGTH) return this.finish({ kind: 'malformed', reason: `TLS record of ${length} bytes (more than TLS allows)` });
      if (this.pending.length < 5 + length) break;
      const fragment = this.pending.subarray(5, 5 + length);
      this.pending = this.pending.subarray(5 + length);
      this.record(type, fragment);
    }
    return this.reading;
  }

  private finish(r: ProbeReading): ProbeReading {
    this.reading = r;
    this.pending = Buffer.alloc(0);
    this.handshake = Buffer.alloc(0);
    return r;
  }

  private record(type: number, fragment: Buffer): void {
    if (type === 21) {
      this.alertBytes = Buffer.concat([this.alertBytes, fragment]);
      if (this.alertBytes.length >= 2) {
        const description = this.alertBytes[1]!;
        this.finish({ kind: 'alert', description, name: alertName(description) });
      }
      return;
    }
    if (type === 20) {
      this.finish({ kind: 'malformed', reason: 'ChangeCipherSpec before the Certificate message' });
      return;
    }
    if (type === 23) {
      this.finish({ kind: 'malformed', reason: 'application data before the handshake finished' });
      return;
    }
    this.handshake = this.handshake.length === 0 ? fragment : Buffer.concat([this.handshake, fragment]);
    while (this.reading.kind === 'pending' && this.handshake.length >= 4) {
      const msgType = this.handshake[0]!;
      const len = this.handshake.readUIntBE(1, 3);
      if (len > MAX_HANDSHAKE_MESSAGE) {
        this.finish({ kind: 'malformed', reason: `handshake message of ${len} bytes (limit ${MAX_HANDSHAKE_MESSAGE})` });
        return;
      }
      if (this.handshake.length < 4 + len) return;
      const body = this.handshake.subarray(4, 4 + len);
      this.handshake = this.handshake.subarray(4 + len);
      this.message(msgType, body);
    }
  }

  private message(type: number, body: Buffer): void {
    if (type === 0) return; // HelloRequest: ignored during a handshake
    if (type === 2) {
      if (this.serverHello !== null) {
        this.finish({ kind: 'malformed', reason: 'a second ServerHello' });
        return;
      }
      const parsed = parseServerHello(body);
      if (typeof parsed === 'string') this.finish({ kind: 'malformed', reason: parsed });
      else this.serverHello = parsed;
      return;
    }
    if (this.serverHello === null) {
      this.finish({ kind: 'malformed', reason: `handshake message ${type} before the ServerHello` });
      return;
    }
    if (type === 11) {
      const certs = parseCertificateMessage(body);
      if (typeof certs === 'string') this.finish({ kind: 'malformed', reason: certs });
      else this.finish({ kind: 'certificates', certificates: certs, ...this.serverHello });
      return;
    }
    if (type === 12 || type === 13 || type === 14) {
      this.finish({ kind: 'no-certificate' });
      return;
    }
    this.finish({ kind: 'malformed', reason: `unexpected handshake message ${type}` });
  }
}

function parseServerHello(body: Buffer): { protocol: string; cipherSuite: string } | string {
  // version(2) random(32) session_id<0..32> cipher_suite(2) compression(1) [extensions]
  if (body.length < 38) return 'ServerHello too short';
  const version = body.readUInt16BE(0);
  const sidLen = body[34]!;
  if (sidLen > 32 || body.length < 35 + sidLen + 3) return 'ServerHello malformed';
  const suite = body.readUInt16BE(35 + sidLen);
  const protocol = VERSIONS[version];
  if (protocol === undefined) return `ServerHello with unknown version 0x${version.toString(16)}`;
  return { protocol, cipherSuite: PROBE_CIPHER_SUITES.get(suite) ?? `0x${suite.toString(16).padStart(4, '0')}` };
}

/** The DER certificates of a TLS 1.2 Certificate message body, or why it is malformed. */
export function parseCertificateMessage(body: Buffer): Buffer[] | string {
  if (body.length < 3) return 'Certificate message too short';
  const listLen = body.readUIntBE(0, 3);
  if (listLen !== body.length - 3) return 'Certificate message length mismatch';
  const certs: Buffer[] = [];
  let offset = 3;
  while (offset < body.length) {
    if (offset + 3 > body.length) return 'Certificate entry truncated';
    const len = body.readUIntBE(offset, 3);
    offset += 3;
    if (len === 0 || offset + len > body.length) return 'Certificate entry length out of range';
    if (certs.length >= MAX_CERTIFICATES) return `more than ${MAX_CERTIFICATES} certificates`;
    certs.push(Buffer.from(body.subarray(offset, offset + len)));
    offset += len;
  }
  if (certs.length === 0) return 'empty Certificate message';
  return certs;
}

export interface ProbeOptions {
  ip: string;
  port: number;
  /** EHLO name. */
  ehloName: string;
  /** SNI; null for none (never an IP address). */
  servername: string | null;
  timeouts: ClientTimeouts;
  /** Source address to connect from (the delivery one); none or null: the OS chooses. */
  localAddress?: string | null;
}

export type ProbeResult =
  | { kind: 'chain'; certificates: Buffer[]; protocol: string; cipherSuite: string }
  /** The server refused TLS 1.2 with protocol_version: it speaks TLS 1.3 only. */
  | { kind: 'tls13-only' }
  | { kind: 'failed'; reason: string };

/** Reads the server's records after the ClientHello until the reader decides (bounded by `timeoutMs`). */
function readCertificateMessage(socket: net.Socket, hello: Buffer, timeoutMs: number): Promise<ProbeReading | { kind: 'closed' } | { kind: 'timeout' } | { kind: 'error'; message: string }> {
  const reader = new CertificateMessageReader();
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Parameters<typeof resolve>[0]): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(r);
    };
    const onData = (chunk: Buffer): void => {
      const r = reader.feed(chunk);
      if (r.kind !== 'pending') done(r);
    };
    const onClose = (): void => done({ kind: 'closed' });
    const timer = setTimeout(() => done({ kind: 'timeout' }), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', (err) => done({ kind: 'error', message: err.message }));
    socket.write(hello);
  });
}

/**
 * The probe over the network: connect, greeting, EHLO, STARTTLS, 220, our
 * ClientHello, the Certificate message; then the connection is dropped.
 */
export async function probeCertificateChain(o: ProbeOptions): Promise<ProbeResult> {
  let client: SmtpClient;
  try {
    client = await SmtpClient.connect({ ip: o.ip, port: o.port, timeouts: o.timeouts, localAddress: o.localAddress ?? null });
  } catch (err) {
    return { kind: 'failed', reason: `connect: ${(err as Error).message}` };
  }
  let socket: net.Socket | null = null;
  try {
    const greeting = await client.greeting();
    if (greeting.code !== 220) return { kind: 'failed', reason: `greeting ${formatReply(greeting)}` };
    const hello = await client.hello(o.ehloName);
    if (!hello.caps.starttls) return { kind: 'failed', reason: 'STARTTLS not offered' };
    const r = await client.command('STARTTLS');
    if (r.code !== 220) return { kind: 'failed', reason: `STARTTLS refused: ${formatReply(r)}` };
    socket = client.releaseSocket();
    const reading = await readCertificateMessage(socket, buildClientHello(o.servername), o.timeouts.tlsMs);
    switch (reading.kind) {
      case 'certificates':
        return { kind: 'chain', certificates: reading.certificates, protocol: reading.protocol, cipherSuite: reading.cipherSuite };
      case 'alert':
        return reading.description === 70 ? { kind: 'tls13-only' } : { kind: 'failed', reason: `server sent alert ${reading.name}` };
      case 'no-certificate':
        return { kind: 'failed', reason: 'the server sent no certificate' };
      case 'malformed':
        return { kind: 'failed', reason: reading.reason };
      case 'closed':
        return { kind: 'failed', reason: 'connection closed before the Certificate message' };
      case 'timeout':
        return { kind: 'failed', reason: `no Certificate message within ${o.timeouts.tlsMs / 1000} s` };
      case 'error':
        return { kind: 'failed', reason: reading.message };
      default:
        return { kind: 'failed', reason: 'no Certificate message' };
    }
  } catch (err) {
    return { kind: 'failed', reason: err instanceof SmtpClientError ? err.message : String(err) };
  } finally {
    if (socket) socket.destroy();
    else client.destroy();
  }
}
