import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createTestPki } from '../../test/harness/pki-fixture.js';
import { UserError } from '../core/errors.js';
import { describeCertificate, isSelfSigned, readCertificates, readPrivateKey } from './certificate-info.js';
import { createSelfSigned } from './self-signed.js';

const pkiPromise = createTestPki();

test('PEM bundles: CRLF, a BOM and text around the blocks are accepted; order is kept; DER works', async () => {
  const pki = await pkiPromise;
  const leaf = await pki.server(['mail.example.test']);
  const messy = `\uFEFFsubject=CN=mail\r\n${leaf.certificatePem.replace(/\n/g, '\r\n')}some text\r\n${pki.intermediate.certificatePem}`;
  const certs = readCertificates(messy, '--cert');
  assert.equal(certs.length, 2);
  assert.equal(new crypto.X509Certificate(certs[0]!).fingerprint256, leaf.certificate.fingerprint256);
  assert.equal(readCertificates(leaf.certificate.raw, '--cert').length, 1);
});

test('PEM refusals are one line naming the input', async () => {
  const pki = await pkiPromise;
  const leaf = await pki.server(['mail.example.test']);
  const refuse = (input: string | Buffer, pattern: RegExp): void =>
    assert.throws(() => readCertificates(input, '--cert'), (e: unknown) => e instanceof UserError && pattern.test(e.message) && !e.message.includes('\n'));
  refuse('', /--cert: Could not read PEM data/);
  refuse(leaf.privateKeyPem, /--cert: holds a private key, not a certificate/);
  refuse('-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n', /certificate 1 is not valid base64/);
  refuse('-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n', /certificate 1 could not be read/);
  assert.throws(() => readCertificates(leaf.certificatePem.repeat(3), '--cert', 2), /more than 2 certificates/);
});

test('private keys: PKCS#8, SEC1 with EC PARAMETERS; encrypted and unsupported keys refused', async () => {
  const pki = await pkiPromise;
  const leaf = await pki.server(['mail.example.test']);
  assert.equal(readPrivateKey(leaf.privateKeyPem, '--key').asymmetricKeyType, 'ec');
  const sec1 = crypto.createPrivateKey(leaf.privateKeyPem).export({ type: 'sec1', format: 'pem' }) as string;
  assert.equal(readPrivateKey(`-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${sec1}`, '--key').asymmetricKeyType, 'ec');
  const encrypted = crypto.createPrivateKey(leaf.privateKeyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }) as string;
  assert.throws(() => readPrivateKey(encrypted, '--key'), /--key: the private key is encrypted; decrypt it first/);
  const ed = crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  assert.throws(() => readPrivateKey(ed, '--key'), /unsupported key type ed25519/);
  assert.throws(() => readPrivateKey('nothing here', '--key'), /--key: Invalid private key/);
});

test('describe: names, SANs, key, signature, fingerprint; self-signed detection without keyCertSign', async () => {
  const pki = await pkiPromise;
  const leaf = await pki.server(['mail.example.test', '192.0.2.1'], { org: 'Example' });
  const info = describeCertificate(leaf.certificatePem);
  assert.equal(info.subject, 'O=Example, CN=mail.example.test');
  assert.equal(info.commonName, 'mail.example.test');
  assert.equal(info.issuerCommonName, 'Gatehouse Test Intermediate CA');
  assert.deepEqual(info.sanText, ['DNS:mail.example.test', 'IP Address:192.0.2.1']);
  assert.equal(info.keyDescription, 'EC P-256 (256 bits)');
  assert.equal(info.signatureAlgorithm, 'ecdsa-with-SHA256');
  assert.equal(info.fingerprint256, leaf.certificate.fingerprint256);
  assert.equal(info.selfSigned, false);
  const self = await createSelfSigned({ cn: 'self.example.test' }, { key: 'rsa2048', days: 10 });
  assert.ok(isSelfSigned(new crypto.X509Certificate(self.certificatePem)));
  assert.equal(describeCertificate(self.certificatePem).keyDescription, 'RSA 2048 bits');
  assert.equal(describeCertificate(self.certificatePem).signatureAlgorithm, 'sha256WithRSAEncryption');
  const sha1 = await pki.server(['old.example.test'], { sha1: true });
  assert.equal(describeCertificate(sha1.certificatePem).weakSignature, true);
});

test('regression (fuzz): a certificate whose public key is damaged is refused as unreadable, never a raw OpenSSL error later', async () => {
  // OpenSSL parses such a certificate; only reading its key fails ("digital envelope routines::decode error"),
  // which used to escape from chain lint, key references and `certconfig ca import` as a plain Error.
  const { certificatePem } = await createSelfSigned({ cn: 'damaged.example.test' }, { key: 'ec-p256', days: 1 });
  const good = new crypto.X509Certificate(certificatePem);
  const spki = good.publicKey.export({ type: 'spki', format: 'der' });
  const der = Buffer.from(good.raw);
  const point = der.indexOf(spki) + spki.length - 65; // the 0x04 prefix of the uncompressed EC point
  assert.equal(der[point], 0x04);
  der[point] = 0x05;
  assert.throws(() => readCertificates(der, '--cert'), (e: unknown) => e instanceof UserError && /--cert: Could not read PEM data/.test(e.message));
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
  assert.throws(() => readCertificates(pem, '--cert'), (e: unknown) => e instanceof UserError && e.message === '--cert: certificate 1 could not be read');
});
