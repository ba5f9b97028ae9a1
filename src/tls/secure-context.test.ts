import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { createTestPki, type TestCert } from '../../test/harness/pki-fixture.js';
import { createSecureContexts, trustedCaList, type ResolvedProfile } from './secure-context.js';
import { createSelfSigned } from './self-signed.js';

const CIPHERS = 'ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!eNULL:!EXPORT:!RC4:!3DES:!MD5';

function profile(name: string, cert: TestCert): ResolvedProfile {
  return { name, certificatePem: cert.certificatePem, intermediatesPem: cert.chainPem, privateKeyPem: cert.privateKeyPem };
}

interface Seen {
  leaf: crypto.X509Certificate;
  chain: crypto.X509Certificate[];
  authorized: boolean;
  error: string | null;
  protocol: string | null;
}

/** A tls.Server with the given options, or (starttls) a plain TCP server wrapping each socket in a server TLSSocket. */
async function withServer<T>(options: tls.TlsOptions | { starttls: tls.TLSSocketOptions }, fn: (port: number) => Promise<T>): Promise<T> {
  const server =
    'starttls' in options
      ? net.createServer((sock) => {
          const t = new tls.TLSSocket(sock, { ...options.starttls, isServer: true });
          t.on('error', () => undefined);
          t.on('secure', () => t.end());
        })
      : tls.createServer(options, (s) => {
          s.on('error', () => undefined);
          s.end();
        });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await fn((server.address() as { port: number }).port);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function handshake(port: number, options: tls.ConnectionOptions): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options }, () => {
      // Node 20: call getPeerCertificate(true) before getPeerX509Certificate(), or it returns {}.
      let detailed: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      const peer = socket.getPeerX509Certificate();
      if (!peer) return reject(new Error('no peer certificate'));
      const chain: crypto.X509Certificate[] = [];
      const seen = new Set<string>();
      while (detailed && detailed.raw && !seen.has(detailed.fingerprint256)) {
        seen.add(detailed.fingerprint256);
        chain.push(new crypto.X509Certificate(detailed.raw));
        detailed = detailed.issuerCertificate;
      }
      resolve({
        leaf: peer,
        chain,
        authorized: socket.authorized,
        error: socket.authorizationError ? String(socket.authorizationError) : null,
        protocol: socket.getProtocol(),
      });
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

for (const mode of ['tls.Server', 'STARTTLS'] as const) {
  test(`${mode}: SNI picks the profile whose SAN matches; unknown names get the default; the chain is sent`, async () => {
    const pki = await createTestPki();
    const main = await pki.server(['mail.example.com']);
    const other = await pki.server(['mx.example.org', 'smtp.example.org']);
    const wild = await pki.server(['*.example.net']);
    const exact = await pki.server(['exact.example.net']);
    const contexts = createSecureContexts(
      [profile('Main', main), profile('Other', other), profile('Wild', wild), profile('Exact', exact)],
      { minVersion: 'TLSv1.2', ciphers: CIPHERS },
    );
    const serverOptions = mode === 'tls.Server' ? contexts.serverOptions : { starttls: { secureContext: contexts.default, SNICallback: contexts.sniCallback } };
    await withServer(serverOptions, async (port) => {
      const ca = [pki.root.certificatePem];
      const cases: [string | undefined, TestCert][] = [
        ['mail.example.com', main],
        ['SMTP.example.org', other],
        ['smtp.example.org.', other],
        ['any.example.net', wild],
        ['exact.example.net', exact], // an exact match beats an earlier wildcard
        ['unknown.example', main],
        [undefined, main], // no SNI at all
      ];
      for (const [servername, expected] of cases) {
        const seen = await handshake(port, servername === undefined ? { ca, rejectUnauthorized: false } : { servername, ca, rejectUnauthorized: false });
        assert.equal(seen.leaf.fingerprint256, expected.certificate.fingerprint256, `servername ${servername}`);
        // Only the root is trusted by the client: verification succeeds only if the intermediate was sent.
        assert.equal(seen.error, servername === undefined || servername === 'unknown.example' ? 'ERR_TLS_CERT_ALTNAME_INVALID' : null, `${servername}`);
        assert.equal(seen.chain[1]?.fingerprint256, pki.intermediate.certificate.fingerprint256, `chain for ${servername}`);
      }
    });
  });

  test(`${mode}: minVersion applies`, async () => {
    const pki = await createTestPki();
    const a = await pki.server(['localhost']);
    const b = await pki.server(['b.example.com']);
    const contexts = createSecureContexts([profile('A', a), profile('B', b)], { minVersion: 'TLSv1.3', ciphers: CIPHERS });
    const serverOptions = mode === 'tls.Server' ? contexts.serverOptions : { starttls: { secureContext: contexts.default, SNICallback: contexts.sniCallback } };
    await withServer(serverOptions, async (port) => {
      for (const servername of ['localhost', 'b.example.com']) {
        const ok = await handshake(port, { servername, ca: [pki.root.certificatePem] });
        assert.equal(ok.authorized, true);
        assert.equal(ok.protocol, 'TLSv1.3');
        await assert.rejects(handshake(port, { servername, ca: [pki.root.certificatePem], maxVersion: 'TLSv1.2' }), /protocol version|ALERT_PROTOCOL_VERSION/i);
      }
    });
  });
}

test('ca enables client-certificate verification', async () => {
  const pki = await createTestPki();
  const leaf = await pki.server(['localhost']);
  const client = await pki.client('client.example.com');
  const stranger = await pki.client('stranger.example.com', { issuer: 'otherRoot' });
  const contexts = createSecureContexts([profile('Main', leaf)], {
    minVersion: 'TLSv1.2',
    ciphers: CIPHERS,
    ca: [pki.root.certificatePem],
  });
  const results: { authorized: boolean; cn: string | undefined }[] = [];
  const server = tls.createServer({ ...contexts.serverOptions, requestCert: true, rejectUnauthorized: false }, (s) => {
    const peer = s.getPeerCertificate();
    results.push({ authorized: s.authorized, cn: peer.subject?.CN as string | undefined });
    s.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as { port: number }).port;
    const connectWith = (c: TestCert): Promise<void> =>
      new Promise((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: [pki.root.certificatePem], cert: pki.fullChainPem(c), key: c.privateKeyPem });
        s.on('data', () => undefined);
        s.on('end', () => resolve());
        s.on('close', () => resolve());
        s.on('error', reject);
      });
    await connectWith(client);
    await connectWith(stranger);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  assert.deepEqual(results, [
    { authorized: true, cn: 'client.example.com' },
    { authorized: false, cn: 'stranger.example.com' },
  ]);
});

test('CN is used when the certificate has no SAN', async () => {
  const pki = await createTestPki();
  const withSan = await pki.server(['a.example.com']);
  const cnOnly = await pki.server(['legacy.example.com'], { san: [] });
  assert.equal(cnOnly.certificate.subjectAltName, undefined);
  const contexts = createSecureContexts([profile('A', withSan), profile('B', cnOnly)], { minVersion: 'TLSv1.2', ciphers: CIPHERS });
  await withServer(contexts.serverOptions, async (port) => {
    const seen = await handshake(port, { servername: 'legacy.example.com', rejectUnauthorized: false });
    assert.equal(seen.leaf.fingerprint256, cnOnly.certificate.fingerprint256);
  });
});

test('errors name the profile and never include key material', async () => {
  const a = await createSelfSigned({ cn: 'a.example.com' }, { key: 'ec-p256', days: 1 });
  const b = await createSelfSigned({ cn: 'b.example.com' }, { key: 'ec-p256', days: 1 });
  const opts = { minVersion: 'TLSv1.2' as const, ciphers: CIPHERS };
  assert.throws(() => createSecureContexts([], opts), /no certificate profile/);
  assert.throws(
    () => createSecureContexts([{ name: 'Mixed', certificatePem: a.certificatePem, intermediatesPem: [], privateKeyPem: b.privateKeyPem }], opts),
    (err: Error) => err.message === 'certificate profile "Mixed": key does not sign certificate',
  );
  assert.throws(
    () => createSecureContexts([{ name: 'Bad', certificatePem: a.certificatePem, intermediatesPem: [], privateKeyPem: 'garbage' }], opts),
    (err: Error) => /Bad/.test(err.message) && !err.message.includes('garbage'),
  );
});

test('trustedCaList honours the system and custom switches', () => {
  const custom = [{ name: 'Corp', certificate: '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n' }];
  assert.equal(trustedCaList({ systemEnabled: true, customEnabled: true, custom }).length, tls.rootCertificates.length + 1);
  assert.deepEqual(trustedCaList({ systemEnabled: false, customEnabled: true, custom }), [custom[0]!.certificate]);
  assert.deepEqual(trustedCaList({ systemEnabled: true, customEnabled: false, custom }), [...tls.rootCertificates]);
  assert.deepEqual(trustedCaList({ systemEnabled: false, customEnabled: false, custom }), []);
});

/** A server that keeps each TLS connection open: STARTTLS-style (a hand-wrapped TLSSocket) or a tls.Server. */
function openServer(how: { starttls: tls.SecureContext } | { server: tls.TlsOptions }): net.Server {
  if ('server' in how) {
    const server = tls.createServer(how.server, (t) => {
      t.on('error', () => undefined);
      t.resume();
    });
    server.on('tlsClientError', () => undefined);
    return server;
  }
  return net.createServer((sock) => {
    sock.on('error', () => undefined);
    const t = new tls.TLSSocket(sock, { isServer: true, secureContext: how.starttls });
    t.on('error', () => undefined);
    t.resume();
  });
}

/** Handshakes with TLS 1.2, then asks the server to renegotiate. */
async function renegotiationOutcome(server: net.Server): Promise<'renegotiated' | 'refused'> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as net.AddressInfo).port;
    return await new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, maxVersion: 'TLSv1.2', rejectUnauthorized: false }, () => {
        const asked = socket.renegotiate({ rejectUnauthorized: false }, (err) => {
          socket.destroy();
          resolve(err ? 'refused' : 'renegotiated');
        });
        if (!asked) reject(new Error('renegotiate() was not started'));
      });
      // OpenSSL answers the renegotiation ClientHello with a no_renegotiation alert: the client gets an
      // error event (the renegotiate callback is not called then).
      socket.on('error', (err) => {
        socket.destroy();
        if (/no renegotiation/.test(err.message)) resolve('refused');
        else reject(err);
      });
    });
  } finally {
    server.close();
  }
}

test('client-initiated renegotiation is refused, on STARTTLS sockets and tls.Server (a plain context allows it)', async () => {
  const pki = await createTestPki();
  const leaf = await pki.server(['mx.example.test']);
  const contexts = createSecureContexts([profile('Main', leaf)], { minVersion: 'TLSv1.2', ciphers: CIPHERS });
  assert.equal(await renegotiationOutcome(openServer({ starttls: contexts.default })), 'refused');
  assert.equal(await renegotiationOutcome(openServer({ server: contexts.serverOptions })), 'refused');
  // Control: without the option the same client renegotiates, so the checks above can tell the difference.
  const plain = tls.createSecureContext({ cert: pki.fullChainPem(leaf), key: leaf.privateKeyPem, minVersion: 'TLSv1.2', ciphers: CIPHERS });
  assert.equal(await renegotiationOutcome(openServer({ starttls: plain })), 'renegotiated');
});
