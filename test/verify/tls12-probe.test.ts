/**
 * The TLS 1.2 probe over real sockets (loopback): the chain exactly as the
 * scriptable remote MTA sends it (RSA and ECDSA servers, duplicates and wrong
 * order kept), and every way it can fail cleanly: no STARTTLS, STARTTLS
 * refused, plain text instead of TLS, silence after 220 (timeout), a server
 * that hangs up, a TLS 1.3-only server.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { DEFAULT_CLIENT_TIMEOUTS } from '../../src/smtp/outbound/smtp-client.js';
import { probeCertificateChain, type ProbeResult } from '../../src/verify/tls12-certificate-probe.js';
import { startScriptedMta, type ScriptedMta, type ScriptedMtaOptions } from '../delivery/delivery-fixture.js';
import { createTestPki, type TestPki } from '../harness/pki-fixture.js';
import { bundle } from './verify-fixture.js';

const timeouts = { ...DEFAULT_CLIENT_TIMEOUTS, connectMs: 2000, greetingMs: 2000, commandMs: 2000, tlsMs: 400 };
let pki: TestPki;
const closers: (() => Promise<void>)[] = [];

before(async () => {
  pki = await createTestPki();
});

after(async () => {
  for (const c of closers) await c();
});

async function mta(o: ScriptedMtaOptions): Promise<ScriptedMta> {
  const m = await startScriptedMta(o);
  closers.push(() => m.close());
  return m;
}

const probe = (port: number, servername: string | null = 'probe.test'): Promise<ProbeResult> => probeCertificateChain({ ip: '127.0.0.1', port, ehloName: 'gw.test', servername, timeouts });
const subjects = (r: ProbeResult): string[] => (r.kind === 'chain' ? r.certificates.map((c) => new crypto.X509Certificate(c).subject.replace(/\n/g, ', ')) : [r.kind === 'failed' ? r.reason : r.kind]);

test('the chain exactly as sent: ECDSA and RSA servers, duplicates and wrong order kept', async () => {
  const ec = await pki.server(['probe.test']);
  const m1 = await mta({ cert: bundle(ec, pki.intermediate, pki.intermediate) });
  const r1 = await probe(m1.port);
  assert.deepEqual(subjects(r1), ['CN=probe.test', 'O=Gatehouse Test PKI, CN=Gatehouse Test Intermediate CA', 'O=Gatehouse Test PKI, CN=Gatehouse Test Intermediate CA']);
  assert.ok(r1.kind === 'chain' && r1.protocol === 'TLSv1.2' && /ECDHE_ECDSA/.test(r1.cipherSuite), JSON.stringify(r1));

  const rsa = await pki.server(['probe.test'], { key: 'rsa2048' });
  const sub = await pki.ca('Probe Sub CA', { issuer: 'intermediate' });
  const deep = await pki.server(['deep.test'], { issuer: sub, key: 'rsa2048' });
  const m2 = await mta({ cert: bundle(rsa, pki.intermediate) });
  const r2 = await probe(m2.port, null);
  assert.ok(r2.kind === 'chain' && /ECDHE_RSA/.test(r2.cipherSuite), JSON.stringify(r2));
  const m3 = await mta({ cert: bundle(deep, pki.intermediate, sub) });
  assert.deepEqual(subjects(await probe(m3.port)), ['CN=deep.test', 'O=Gatehouse Test PKI, CN=Gatehouse Test Intermediate CA', 'O=Gatehouse Test PKI, CN=Probe Sub CA'], 'wrong order as sent');
  // The probe never got past the Certificate message: no mail command, no message.
  assert.ok(![m1, m2, m3].some((m) => m.commands.some((c) => /^(tls:|MAIL|RCPT|DATA)/.test(c))));
});

test('clean failures: no STARTTLS, STARTTLS refused, plain text instead of TLS', async () => {
  const none = await mta({ ehlo: ['PIPELINING'] });
  assert.deepEqual(await probe(none.port), { kind: 'failed', reason: 'STARTTLS not offered' });
  const refused = await mta({ starttls: 'refuse-454' });
  assert.deepEqual(await probe(refused.port), { kind: 'failed', reason: 'STARTTLS refused: 454 4.7.0 TLS not available due to local problem' });
  const garbage = await mta({ starttls: 'handshake-failure' });
  assert.deepEqual(await probe(garbage.port), { kind: 'failed', reason: 'not a TLS record (the server sent "this is not a TLS server hello")' });
});

/** A minimal SMTP server that offers STARTTLS, answers 220, then does `after` with the raw socket. */
async function starttlsThen(after220: (socket: net.Socket) => void): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.write('220 quirky.test ESMTP\r\n');
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i).toUpperCase();
        buf = buf.slice(i + 2);
        if (line.startsWith('EHLO')) s.write('250-quirky.test\r\n250 STARTTLS\r\n');
        else if (line === 'STARTTLS') {
          s.off('data', onData);
          s.write('220 go ahead\r\n');
          after220(s);
          return;
        } else s.write('502 no\r\n');
      }
    };
    s.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as net.AddressInfo).port;
}

test('silence after 220 times out; a server that hangs up or sends junk records is reported, never a crash', async () => {
  assert.deepEqual(await probe(await starttlsThen(() => {})), { kind: 'failed', reason: 'no Certificate message within 0.4 s' });
  assert.deepEqual(await probe(await starttlsThen((s) => s.once('data', () => s.end()))), { kind: 'failed', reason: 'connection closed before the Certificate message' });
  const hugeRecord = Buffer.from([22, 3, 3, 0xff, 0xff]);
  assert.deepEqual(await probe(await starttlsThen((s) => s.once('data', () => s.write(hugeRecord)))), { kind: 'failed', reason: 'TLS record of 65535 bytes (more than TLS allows)' });
  assert.deepEqual(await probe(await starttlsThen((s) => s.once('data', () => s.write(Buffer.from([21, 3, 3, 0, 2, 2, 40]))))), { kind: 'failed', reason: 'server sent alert handshake_failure' });
});

test('a TLS 1.3-only server answers protocol_version: tls13-only', async () => {
  const leaf = await pki.server(['probe.test']);
  const port = await starttlsThen((s) => {
    const t = new tls.TLSSocket(s, { isServer: true, cert: leaf.certificatePem, key: leaf.privateKeyPem, minVersion: 'TLSv1.3' });
    t.on('error', () => {});
  });
  assert.deepEqual(await probe(port), { kind: 'tls13-only' });
});
