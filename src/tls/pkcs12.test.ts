import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as asn1js from 'asn1js';
import crypto from 'node:crypto';
import { createTestPki } from '../../test/harness/pki-fixture.js';
import { UserError } from '../core/errors.js';
import { bmpPassword, exportPkcs12, importPkcs12, pkcs12Kdf, PKCS12_MAX_BYTES } from './pkcs12.js';

const pkiPromise = createTestPki();

test('BMPString password: UTF-16BE code units plus a zero terminator', () => {
  assert.deepEqual(bmpPassword('ab'), Buffer.from([0, 0x61, 0, 0x62, 0, 0]));
  assert.deepEqual(bmpPassword(''), Buffer.from([0, 0]));
  assert.deepEqual(bmpPassword('é€'), Buffer.from([0x00, 0xe9, 0x20, 0xac, 0, 0]));
});

test('PKCS#12 KDF: known answer (RFC 7292 B.2, SHA-1 test vector from OpenSSL/BouncyCastle)', () => {
  // Password "smeg", salt 0A58CF64530D823F, id 1, 1 iteration, 24 bytes (BouncyCastle PKCS12Test).
  const key = pkcs12Kdf('sha1', bmpPassword('smeg'), Buffer.from('0A58CF64530D823F', 'hex'), 1, 1, 24);
  assert.equal(key.toString('hex').toUpperCase(), '8AAAE6297B6CB04642AB5B077851284EB7128F1A2A7FBCA3');
  const iv = pkcs12Kdf('sha1', bmpPassword('smeg'), Buffer.from('0A58CF64530D823F', 'hex'), 2, 1, 8);
  assert.equal(iv.toString('hex').toUpperCase(), '79993DFE048D3B76');
});

test('round trip: key, leaf and chain come back; the leaf is the certificate of the key', async () => {
  const pki = await pkiPromise;
  const leaf = await pki.server(['mail.example.test']);
  const der = await exportPkcs12({ privateKeyPem: leaf.privateKeyPem, certificatePem: leaf.certificatePem, chainPem: [pki.intermediate.certificatePem], passphrase: 'secret', friendlyName: 'mx' });
  const back = await importPkcs12(der, 'secret');
  assert.ok(new crypto.X509Certificate(back.certificatePem).checkPrivateKey(crypto.createPrivateKey(back.privateKeyPem)));
  assert.equal(new crypto.X509Certificate(back.certificatePem).fingerprint256, leaf.certificate.fingerprint256);
  assert.equal(back.chainPem.length, 1);
  assert.equal(new crypto.X509Certificate(back.chainPem[0]!).subject, pki.intermediate.certificate.subject);
});

test('chain order on import follows issuance, whatever the order in the file', async () => {
  const pki = await pkiPromise;
  const leaf = await pki.server(['mail.example.test']);
  const der = await exportPkcs12({
    privateKeyPem: leaf.privateKeyPem,
    certificatePem: leaf.certificatePem,
    chainPem: [pki.root.certificatePem, pki.intermediate.certificatePem],
    passphrase: 'p',
  });
  const back = await importPkcs12(der, 'p');
  assert.deepEqual(
    back.chainPem.map((p) => new crypto.X509Certificate(p).subject),
    [pki.intermediate.certificate.subject, pki.root.certificate.subject],
  );
});

test('wrong passphrase, empty export passphrase, key/cert mismatch', async () => {
  const pki = await pkiPromise;
  const leaf = await pki.server(['a.example.test']);
  const other = await pki.server(['b.example.test']);
  const der = await exportPkcs12({ privateKeyPem: leaf.privateKeyPem, certificatePem: leaf.certificatePem, chainPem: [], passphrase: 'right' });
  await assert.rejects(importPkcs12(der, 'wrong'), (e: unknown) => e instanceof UserError && e.message === 'wrong passphrase for PKCS#12 file');
  await assert.rejects(exportPkcs12({ privateKeyPem: leaf.privateKeyPem, certificatePem: leaf.certificatePem, chainPem: [], passphrase: '' }), /empty passphrase/);
  await assert.rejects(exportPkcs12({ privateKeyPem: other.privateKeyPem, certificatePem: leaf.certificatePem, chainPem: [], passphrase: 'x' }), /key does not sign certificate/);
});

test('bounds: oversized file, empty file, absurd MAC iteration count are refused quickly', async () => {
  const pki = await pkiPromise;
  const leaf = await pki.server(['a.example.test']);
  await assert.rejects(importPkcs12(Buffer.alloc(PKCS12_MAX_BYTES + 1, 0x30), 'x'), /larger than 1 MiB/);
  await assert.rejects(importPkcs12(Buffer.alloc(0), 'x'), /empty/);
  const der = await exportPkcs12({ privateKeyPem: leaf.privateKeyPem, certificatePem: leaf.certificatePem, chainPem: [], passphrase: 'p' });
  // Rewrite the MAC iteration count to 2^31-1.
  const pfx = asn1js.fromBER(new Uint8Array(der)).result as asn1js.Sequence;
  const macData = pfx.valueBlock.value[2] as asn1js.Sequence;
  macData.valueBlock.value[2] = new asn1js.Integer({ value: 0x7fffffff });
  const evil = Buffer.from(pfx.toBER(false));
  const started = Date.now();
  await assert.rejects(importPkcs12(evil, 'p'), /MAC: iteration count 2147483647 exceeds the limit of 1000000/);
  assert.ok(Date.now() - started < 1000);
});

test('deeply nested SEQUENCEs and indefinite lengths are a clear error, not a crash', async () => {
  const depth = 100_000;
  const nested = Buffer.concat([Buffer.alloc(depth * 2, 0), Buffer.alloc(depth * 2, 0)]);
  for (let i = 0; i < depth; i++) {
    nested[i * 2] = 0x30;
    nested[i * 2 + 1] = 0x80;
  }
  await assert.rejects(importPkcs12(nested, 'x'), (e: unknown) => e instanceof UserError && /^PKCS#12 file could not be read: /.test(e.message));
  await assert.rejects(importPkcs12(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02]), 'x'), /could not be read/);
});
