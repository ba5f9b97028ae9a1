import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestPki } from './pki-fixture.js';

test('root -> intermediate -> leaf verifies', async () => {
  const started = performance.now();
  const pki = await createTestPki();
  const pkiMs = performance.now() - started;
  const t = performance.now();
  const leaf = await pki.server(['mail.example.com', '127.0.0.1']);
  const leafMs = performance.now() - t;
  const { root, intermediate } = pki;

  assert.equal(root.certificate.ca, true);
  assert.equal(intermediate.certificate.ca, true);
  assert.equal(leaf.certificate.ca, false);
  assert.equal(root.isRoot, true);
  assert.equal(intermediate.isRoot, false);

  assert.ok(root.certificate.checkIssued(root.certificate));
  assert.ok(root.certificate.verify(root.certificate.publicKey));
  assert.ok(intermediate.certificate.checkIssued(root.certificate));
  assert.ok(intermediate.certificate.verify(root.certificate.publicKey));
  assert.ok(leaf.certificate.checkIssued(intermediate.certificate));
  assert.ok(leaf.certificate.verify(intermediate.certificate.publicKey));
  assert.equal(leaf.certificate.verify(root.certificate.publicKey), false);
  assert.equal(leaf.certificate.checkIssued(root.certificate), false);

  assert.deepEqual(leaf.chainPem, [intermediate.certificatePem]);
  assert.deepEqual(root.chainPem, []);
  assert.deepEqual(intermediate.chainPem, []);
  assert.equal(leaf.certificate.subjectAltName, 'DNS:mail.example.com, IP Address:127.0.0.1');
  assert.deepEqual(leaf.certificate.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.ok(leaf.certificate.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(leaf.privateKeyPem))));

  // OpenSSL agrees, including the purpose.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-pki-'));
  try {
    fs.writeFileSync(path.join(dir, 'root.pem'), root.certificatePem);
    fs.writeFileSync(path.join(dir, 'int.pem'), intermediate.certificatePem);
    fs.writeFileSync(path.join(dir, 'leaf.pem'), leaf.certificatePem);
    const out = execFileSync('openssl', ['verify', '-CAfile', path.join(dir, 'root.pem'), '-untrusted', path.join(dir, 'int.pem'), '-purpose', 'sslserver', path.join(dir, 'leaf.pem')], { encoding: 'utf8' });
    assert.match(out, /leaf\.pem: OK/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`# test PKI: createTestPki ${pkiMs.toFixed(0)} ms, first EC leaf ${leafMs.toFixed(0)} ms`);
});

test('client, otherRoot, extra CAs, RSA, SHA-1 and validity options', async () => {
  const now = new Date('2030-06-01T00:00:00Z');
  const pki = await createTestPki({ now });

  const client = await pki.client('client.example.com');
  assert.deepEqual(client.certificate.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  assert.ok(client.certificate.verify(pki.intermediate.certificate.publicKey));

  const untrusted = await pki.server(['evil.example.com'], { issuer: 'otherRoot' });
  assert.ok(untrusted.certificate.checkIssued(pki.otherRoot.certificate));
  assert.equal(untrusted.certificate.verify(pki.root.certificate.publicKey), false);
  assert.equal(untrusted.certificate.verify(pki.intermediate.certificate.publicKey), false);
  assert.deepEqual(untrusted.chainPem, []);

  const fromRoot = await pki.server(['direct.example.com'], { issuer: 'root' });
  assert.ok(fromRoot.certificate.verify(pki.root.certificate.publicKey));

  const sub = await pki.ca('Second Intermediate', { issuer: 'intermediate' });
  const deep = await pki.server(['deep.example.com'], { issuer: sub });
  assert.ok(deep.certificate.verify(sub.certificate.publicKey));
  assert.ok(sub.certificate.verify(pki.intermediate.certificate.publicKey));
  assert.deepEqual(deep.chainPem, [sub.certificatePem, pki.intermediate.certificatePem]);
  assert.equal(pki.fullChainPem(deep), deep.certificatePem + sub.certificatePem + pki.intermediate.certificatePem);

  const expired = await pki.server(['old.example.com'], { notBefore: new Date('2029-01-01Z'), notAfter: new Date('2030-01-01Z') });
  assert.equal(new Date(expired.certificate.validTo).toISOString(), '2030-01-01T00:00:00.000Z');
  const leaf = await pki.server(['now.example.com']);
  assert.ok(Date.parse(leaf.certificate.validFrom) < now.getTime() && Date.parse(leaf.certificate.validTo) > now.getTime());

  const rsa = await pki.server(['rsa.example.com'], { key: 'rsa2048' });
  assert.equal(rsa.certificate.publicKey.asymmetricKeyType, 'rsa');
  assert.ok(rsa.certificate.verify(pki.intermediate.certificate.publicKey));

  // SHA-1 works on Node 20 WebCrypto: ecdsa-with-SHA1 from the EC CAs, sha1WithRSAEncryption from an RSA CA.
  const sha1 = await pki.server(['sha1.example.com'], { sha1: true });
  assert.ok(sha1.certificate.verify(pki.intermediate.certificate.publicKey));
  const rsaCa = await pki.ca('RSA Intermediate', { key: 'rsa2048' });
  const sha1Rsa = await pki.server(['sha1rsa.example.com'], { issuer: rsaCa, sha1: true });
  assert.ok(sha1Rsa.certificate.verify(rsaCa.certificate.publicKey));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-pki-'));
  try {
    const text = (pem: string): string => {
      fs.writeFileSync(path.join(dir, 'c.pem'), pem);
      return execFileSync('openssl', ['x509', '-noout', '-text', '-in', path.join(dir, 'c.pem')], { encoding: 'utf8' });
    };
    assert.match(text(sha1.certificatePem), /Signature Algorithm: ecdsa-with-SHA1/);
    assert.match(text(sha1Rsa.certificatePem), /Signature Algorithm: sha1WithRSAEncryption/);
    assert.match(text(pki.intermediate.certificatePem), /CA:TRUE/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('generation is fast with EC keys', async () => {
  const t0 = performance.now();
  const pki = await createTestPki();
  const t1 = performance.now();
  const leaves = await Promise.all(Array.from({ length: 10 }, (_, i) => pki.server([`h${i}.example.com`])));
  const t2 = performance.now();
  assert.equal(leaves.length, 10);
  console.log(`# test PKI: createTestPki ${(t1 - t0).toFixed(0)} ms, 10 EC leaves ${(t2 - t1).toFixed(0)} ms`);
  assert.ok(t1 - t0 < 2000, 'PKI in under 2 s');
});
