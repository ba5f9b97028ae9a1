import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../test/harness/seeded-random.js';
import {
  CertificateMessageReader,
  MAX_CERTIFICATES,
  MAX_HANDSHAKE_MESSAGE,
  MAX_RECORD_LENGTH,
  MAX_TOTAL_BYTES,
  PROBE_CIPHER_SUITES,
  buildClientHello,
  parseCertificateMessage,
} from './tls12-certificate-probe.js';

const u16 = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const u24 = (n: number): Buffer => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
const record = (type: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([type, 3, 3]), u16(body.length), body]);
const handshake = (type: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([type]), u24(body.length), body]);
const serverHello = (suite = 0xc02b, version = 0x0303): Buffer =>
  handshake(2, Buffer.concat([u16(version), Buffer.alloc(32, 7), Buffer.from([0]), u16(suite), Buffer.from([0])]));
const certificateMessage = (certs: Buffer[]): Buffer => {
  const entries = Buffer.concat(certs.map((c) => Buffer.concat([u24(c.length), c])));
  return handshake(11, Buffer.concat([u24(entries.length), entries]));
};
const fakeCerts = [Buffer.from('leaf-der-bytes'), Buffer.from('intermediate-der'), Buffer.from('intermediate-der')];

/** Parses our own ClientHello back: the fields a server reads. */
function parseHello(bytes: Buffer): { version: number; suites: number[]; extensions: Map<number, Buffer> } {
  assert.equal(bytes[0], 22);
  assert.equal(bytes.readUInt16BE(3), bytes.length - 5);
  const hs = bytes.subarray(5);
  assert.equal(hs[0], 1);
  assert.equal(hs.readUIntBE(1, 3), hs.length - 4);
  const body = hs.subarray(4);
  const version = body.readUInt16BE(0);
  let o = 2 + 32;
  o += 1 + body[o]!;
  const suitesLen = body.readUInt16BE(o);
  const suites: number[] = [];
  for (let i = 0; i < suitesLen; i += 2) suites.push(body.readUInt16BE(o + 2 + i));
  o += 2 + suitesLen;
  o += 1 + body[o]!;
  const extLen = body.readUInt16BE(o);
  o += 2;
  assert.equal(o + extLen, body.length);
  const extensions = new Map<number, Buffer>();
  while (o < body.length) {
    const type = body.readUInt16BE(o);
    const len = body.readUInt16BE(o + 2);
    extensions.set(type, body.subarray(o + 4, o + 4 + len));
    o += 4 + len;
  }
  return { version, suites, extensions };
}

test('the ClientHello is TLS 1.2 with SNI, groups, point formats, signature algorithms and the offered suites', () => {
  const hello = parseHello(buildClientHello('mx.example.test', Buffer.alloc(32, 1)));
  assert.equal(hello.version, 0x0303);
  assert.deepEqual(hello.suites, [...PROBE_CIPHER_SUITES.keys()]);
  const sni = hello.extensions.get(0)!;
  assert.equal(sni.subarray(5).toString('ascii'), 'mx.example.test');
  assert.ok(hello.extensions.has(10) && hello.extensions.has(11) && hello.extensions.has(13));
  assert.ok(!hello.extensions.has(43), 'no supported_versions: the server cannot choose TLS 1.3');
  assert.ok(!parseHello(buildClientHello(null)).extensions.has(0), 'no SNI without a name');
  assert.throws(() => buildClientHello('x.test', Buffer.alloc(31)));
});

test('reads the Certificate message as sent, duplicates and order kept, fed in one piece', () => {
  const bytes = Buffer.concat([record(22, Buffer.concat([serverHello(), certificateMessage(fakeCerts)]))]);
  const r = new CertificateMessageReader().feed(bytes);
  assert.equal(r.kind, 'certificates');
  assert.ok(r.kind === 'certificates');
  assert.deepEqual(r.certificates.map((c) => c.toString()), ['leaf-der-bytes', 'intermediate-der', 'intermediate-der']);
  assert.equal(r.protocol, 'TLSv1.2');
  assert.equal(r.cipherSuite, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
});

test('records split byte by byte and handshake messages spanning records read the same', () => {
  const hs = Buffer.concat([serverHello(0xc030), certificateMessage(fakeCerts), handshake(14, Buffer.alloc(0))]);
  // Three records cutting through both messages, then fed one byte at a time.
  const bytes = Buffer.concat([record(22, hs.subarray(0, 10)), record(22, hs.subarray(10, 60)), record(22, hs.subarray(60))]);
  const reader = new CertificateMessageReader();
  let r = reader.result;
  for (const b of bytes) r = reader.feed(Buffer.from([b]));
  assert.ok(r.kind === 'certificates');
  assert.equal(r.certificates.length, 3);
  assert.equal(r.cipherSuite, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384');
  assert.equal(reader.feed(Buffer.from('more')).kind, 'certificates', 'the reading stays once decided');
});

test('alerts: protocol_version (a TLS 1.3-only server) and others, also split across records', () => {
  assert.deepEqual(new CertificateMessageReader().feed(record(21, Buffer.from([2, 70]))), { kind: 'alert', description: 70, name: 'protocol_version' });
  const reader = new CertificateMessageReader();
  reader.feed(record(21, Buffer.from([2])));
  assert.deepEqual(reader.feed(record(21, Buffer.from([40]))), { kind: 'alert', description: 40, name: 'handshake_failure' });
  assert.deepEqual(new CertificateMessageReader().feed(record(21, Buffer.from([2, 199]))), { kind: 'alert', description: 199, name: 'alert 199' });
});

test('garbage and protocol violations are malformed, never a crash', () => {
  const kind = (bytes: Buffer): string => {
    const r = new CertificateMessageReader().feed(bytes);
    return r.kind === 'malformed' ? `malformed: ${r.reason}` : r.kind;
  };
  assert.match(kind(Buffer.from('454 4.7.0 TLS not available\r\n')), /not a TLS record \(the server sent "454 4\.7\.0 TLS not available"\)/);
  assert.match(kind(Buffer.from([0x16, 0x02, 0x00, 0x00, 0x01, 0x00])), /not a TLS record/);
  assert.match(kind(Buffer.concat([Buffer.from([22, 3, 3]), u16(MAX_RECORD_LENGTH + 1)])), /more than TLS allows/);
  assert.match(kind(record(22, Buffer.concat([Buffer.from([11]), u24(MAX_HANDSHAKE_MESSAGE + 1)]))), /limit/);
  assert.match(kind(record(22, certificateMessage(fakeCerts))), /before the ServerHello/);
  assert.match(kind(record(22, Buffer.concat([serverHello(), serverHello()]))), /second ServerHello/);
  assert.match(kind(record(22, handshake(2, Buffer.alloc(10)))), /ServerHello too short/);
  assert.match(kind(record(22, serverHello(0xc02b, 0x0999))), /unknown version/);
  assert.match(kind(Buffer.concat([record(22, serverHello()), record(20, Buffer.from([1]))])), /ChangeCipherSpec/);
  assert.match(kind(Buffer.concat([record(22, serverHello()), record(23, Buffer.from('x'))])), /application data/);
  assert.match(kind(record(22, Buffer.concat([serverHello(), handshake(4, Buffer.alloc(2))]))), /unexpected handshake message 4/);
  assert.equal(kind(record(22, Buffer.concat([serverHello(), handshake(14, Buffer.alloc(0))]))), 'no-certificate');
  // Too many bytes without a decision (HelloRequests are ignored, so only the total limit ends this).
  const reader = new CertificateMessageReader();
  reader.feed(record(22, serverHello()));
  const idle = record(22, Buffer.concat(Array.from({ length: 4096 }, () => handshake(0, Buffer.alloc(0)))));
  let r = reader.result;
  let fed = 0;
  for (; r.kind === 'pending' && fed <= MAX_TOTAL_BYTES * 2; fed += idle.length) r = reader.feed(idle);
  assert.ok(r.kind === 'malformed' && /more than 524288 bytes/.test(r.reason), JSON.stringify(r));
  assert.ok(fed <= MAX_TOTAL_BYTES + idle.length);
});

test('Certificate message bodies: lengths are checked, the count is bounded', () => {
  assert.deepEqual(parseCertificateMessage(Buffer.concat([u24(5), u24(2), Buffer.from('ab')])), [Buffer.from('ab')]);
  assert.match(String(parseCertificateMessage(Buffer.concat([u24(9), u24(2), Buffer.from('ab')]))), /length mismatch/);
  assert.match(String(parseCertificateMessage(Buffer.concat([u24(5), u24(9), Buffer.from('ab')]))), /out of range/);
  assert.match(String(parseCertificateMessage(Buffer.concat([u24(3), u24(0)]))), /out of range/);
  assert.match(String(parseCertificateMessage(u24(0))), /empty/);
  assert.match(String(parseCertificateMessage(Buffer.alloc(2))), /too short/);
  const many = Buffer.concat(Array.from({ length: MAX_CERTIFICATES + 1 }, () => Buffer.concat([u24(1), Buffer.from('x')])));
  assert.match(String(parseCertificateMessage(Buffer.concat([u24(many.length), many]))), /more than 32/);
});

test('random bytes, random cuts of a valid stream: always a clean reading', () => {
  const rnd = seededRandom(0x7e57);
  const valid = record(22, Buffer.concat([serverHello(), certificateMessage(fakeCerts)]));
  for (let i = 0; i < 500; i++) {
    const reader = new CertificateMessageReader();
    const bytes = Buffer.from(valid);
    // Flip a few bytes, then feed in random pieces.
    const flips = Math.floor(rnd() * 4);
    for (let f = 0; f < flips; f++) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
    let at = 0;
    while (at < bytes.length) {
      const n = 1 + Math.floor(rnd() * 40);
      const r = reader.feed(bytes.subarray(at, at + n));
      assert.ok(['pending', 'certificates', 'alert', 'no-certificate', 'malformed'].includes(r.kind));
      at += n;
    }
    const junk = Buffer.from(Array.from({ length: 64 }, () => Math.floor(rnd() * 256)));
    assert.doesNotThrow(() => new CertificateMessageReader().feed(junk));
  }
});
