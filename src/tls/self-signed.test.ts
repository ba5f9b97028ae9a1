import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { UserError } from '../core/errors.js';
import {
  DEMO_CERTIFICATE_CN,
  KEY_ALGORITHMS,
  createDemoCertificate,
  createSelfSigned,
  generateKeyPair,
  keyAlgorithmOf,
} from './self-signed.js';

/** Runs `openssl x509 -noout -text` on a PEM and returns its output. */
function opensslText(pem: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-ss-'));
  try {
    const file = path.join(dir, 'cert.pem');
    fs.writeFileSync(file, pem);
    return execFileSync('openssl', ['x509', '-noout', '-text', '-in', file], { encoding: 'utf8' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('generateKeyPair produces PKCS#8 keys of every algorithm', async () => {
  for (const alg of KEY_ALGORITHMS) {
    const { privateKeyPem, publicKey } = await generateKeyPair(alg);
    assert.match(privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(keyAlgorithmOf(crypto.createPrivateKey(privateKeyPem)), alg);
    assert.equal(keyAlgorithmOf(publicKey), alg);
  }
});

for (const alg of KEY_ALGORITHMS) {
  test(`createSelfSigned with ${alg}`, async () => {
    const now = new Date('2025-03-01T12:00:00.500Z');
    const { certificatePem, privateKeyPem } = await createSelfSigned(
      { cn: 'mail.example.com', org: 'Example, Inc.', ou: 'Mail', city: 'München', state: 'Bayern', country: 'de' },
      { key: alg, days: 30, now },
    );
    const cert = new crypto.X509Certificate(certificatePem);
    assert.equal(cert.checkPrivateKey(crypto.createPrivateKey(privateKeyPem)), true);
    assert.equal(cert.verify(cert.publicKey), true, 'self-signed');
    assert.equal(cert.subject, cert.issuer);
    assert.match(cert.subject, /^C=DE$/m);
    assert.match(cert.subject, /^CN=mail\.example\.com$/m);
    assert.match(cert.subject, /^L=München$/m);
    assert.equal(cert.subjectAltName, 'DNS:mail.example.com', 'SAN defaults to CN');
    assert.equal(new Date(cert.validFrom).toISOString(), '2025-03-01T12:00:00.000Z');
    assert.equal(new Date(cert.validTo).toISOString(), '2025-03-31T12:00:00.000Z');
    assert.equal(cert.ca, false);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']); // Node: keyUsage = EKU OIDs
    assert.equal(cert.serialNumber.length, 32, '16-byte serial');
    assert.ok(parseInt(cert.serialNumber.slice(0, 2), 16) < 0x80, 'positive serial');
    assert.equal(keyAlgorithmOf(cert.publicKey), alg);

    const text = opensslText(certificatePem);
    assert.match(text, /X509v3 Subject Alternative Name:\s*\n\s*DNS:mail\.example\.com/);
    assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
    assert.match(text, alg.startsWith('rsa') ? /sha256WithRSAEncryption/ : /ecdsa-with-SHA256/);
    assert.match(text, alg.startsWith('rsa') ? /Digital Signature, Key Encipherment/ : /Key Usage: critical\s*\n\s*Digital Signature\s*\n/);
  });
}

test('SAN entries: DNS names, wildcards and IP addresses', async () => {
  const { certificatePem } = await createSelfSigned(
    { cn: 'Gateway', san: ['mx1.example.com', '*.example.net', '192.0.2.7', '2001:db8::1'] },
    { key: 'ec-p256', days: 1 },
  );
  const cert = new crypto.X509Certificate(certificatePem);
  assert.equal(cert.subjectAltName, 'DNS:mx1.example.com, DNS:*.example.net, IP Address:192.0.2.7, IP Address:2001:DB8:0:0:0:0:0:1');
  assert.equal(cert.checkHost('mx1.example.com'), 'mx1.example.com');
  assert.equal(cert.checkIP('192.0.2.7'), '192.0.2.7');
  assert.match(opensslText(certificatePem), /IP Address:192\.0\.2\.7/);
});

test('input validation', async () => {
  const opts = { key: 'ec-p256' as const, days: 10 };
  for (const country of ['XX', 'DEU', 'U', 'UK', '1A']) {
    await assert.rejects(createSelfSigned({ cn: 'a.example', country }, opts), (err: Error) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, /country must be a 2-letter ISO 3166 code/);
      return true;
    });
  }
  await assert.rejects(createSelfSigned({ cn: 'My Server' }, opts), /SAN entry "My Server" is not a DNS name or IP address/);
  await assert.rejects(createSelfSigned({ cn: '' , san: ['a.example'] }, opts), /common name/);
  await assert.rejects(createSelfSigned({ cn: 'a.example' }, { key: 'ec-p256', days: 0 }), /days/);
  await assert.rejects(createSelfSigned({ cn: 'a.example' }, { key: 'dsa1024' as never, days: 1 }), /unknown key algorithm/);
  const ok = await createSelfSigned({ cn: 'a.example', country: 'gb' }, opts);
  assert.match(new crypto.X509Certificate(ok.certificatePem).subject, /^C=GB$/m);
});

test('demo certificate: CN, RSA 2048, SANs, 10 years, usable by a TLS server', async () => {
  const before = Date.now();
  const { certificatePem, privateKeyPem } = await createDemoCertificate('gw.example.org');
  const cert = new crypto.X509Certificate(certificatePem);
  assert.equal(cert.subject, `CN=${DEMO_CERTIFICATE_CN}`);
  assert.equal(cert.subjectAltName, 'DNS:gw.example.org, DNS:localhost, IP Address:127.0.0.1');
  assert.equal(keyAlgorithmOf(cert.publicKey), 'rsa2048');
  const years = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / (365.25 * 86_400_000);
  assert.ok(years > 9.99 && years < 10.01, `validity ${years} years`);
  assert.ok(Date.parse(cert.validFrom) <= Date.now() && Date.parse(cert.validFrom) >= before - 1000);
  assert.match(opensslText(certificatePem), /DNS:gw\.example\.org, DNS:localhost, IP Address:127\.0\.0\.1/);

  // A client that pins the self-signed certificate verifies it.
  const server = tls.createServer({ cert: certificatePem, key: privateKeyPem }, (s) => s.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as { port: number };
    const authorized = await new Promise<boolean>((resolve, reject) => {
      const c = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: [certificatePem] }, () => {
        resolve(c.authorized);
        c.destroy();
      });
      c.on('error', reject);
    });
    assert.equal(authorized, true);
  } finally {
    server.close();
  }
});

test('demo certificate skips a host name that is not a DNS name', async () => {
  const { certificatePem } = await createDemoCertificate('not a host');
  assert.equal(new crypto.X509Certificate(certificatePem).subjectAltName, 'DNS:localhost, IP Address:127.0.0.1');
});
