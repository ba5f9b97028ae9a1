import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KeyStore, keyRefOf } from './key-store.js';
import { createSelfSigned, generateKeyPair } from './self-signed.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-keys-'));
}

test('put writes a 0600 PKCS#8 file named by the SPKI hash in a 0700 dir', async () => {
  const home = tempDir();
  try {
    const store = new KeyStore(path.join(home, 'keys'));
    const { privateKeyPem, publicKey } = await generateKeyPair('ec-p256');
    const ref = await store.put(privateKeyPem);
    const hex = crypto.createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
    assert.equal(ref, `sha256:${hex}`);
    const file = path.join(home, 'keys', `${hex}.pem`);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(home, 'keys')).mode & 0o777, 0o700);
    assert.match(fs.readFileSync(file, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.deepEqual(fs.readdirSync(path.join(home, 'keys')), [`${hex}.pem`], 'no temp files left');
    assert.equal(await store.get(ref), privateKeyPem);
    assert.equal(store.has(ref), true);
    assert.deepEqual(store.list(), [ref]);
    // idempotent
    assert.equal(await store.put(privateKeyPem), ref);
    assert.deepEqual(store.list(), [ref]);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('the reference is the same for the key, its public key and its certificate', async () => {
  const { certificatePem, privateKeyPem } = await createSelfSigned({ cn: 'mail.example.com' }, { key: 'ec-p256', days: 30 });
  const ref = keyRefOf(privateKeyPem);
  assert.match(ref, /^sha256:[0-9a-f]{64}$/);
  assert.equal(keyRefOf(certificatePem), ref);
  assert.equal(keyRefOf(new crypto.X509Certificate(certificatePem)), ref);
  assert.equal(keyRefOf(crypto.createPrivateKey(privateKeyPem)), ref);
  assert.equal(keyRefOf(crypto.createPublicKey(privateKeyPem)), ref);
  assert.equal(keyRefOf(crypto.createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }) as string), ref);
  assert.equal(keyRefOf(privateKeyPem), ref, 'stable');
  const other = await generateKeyPair('ec-p256');
  assert.notEqual(keyRefOf(other.privateKeyPem), ref);
});

test('a PKCS#1 RSA key is stored as PKCS#8 under the same reference', async () => {
  const home = tempDir();
  try {
    const store = new KeyStore(path.join(home, 'keys'));
    const { privateKeyPem } = await generateKeyPair('rsa2048');
    const pkcs1 = crypto.createPrivateKey(privateKeyPem).export({ type: 'pkcs1', format: 'pem' }) as string;
    const ref = await store.put(pkcs1);
    assert.equal(ref, keyRefOf(privateKeyPem));
    assert.match(await store.get(ref), /^-----BEGIN PRIVATE KEY-----/);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('delete removes the key; get of a missing key fails without key material', async () => {
  const home = tempDir();
  try {
    const store = new KeyStore(path.join(home, 'keys'));
    const a = await generateKeyPair('ec-p256');
    const b = await generateKeyPair('ec-p384');
    const refA = await store.put(a.privateKeyPem);
    const refB = await store.put(b.privateKeyPem);
    assert.deepEqual(store.list(), [refA, refB].sort());
    await store.delete(refA);
    assert.equal(store.has(refA), false);
    assert.deepEqual(store.list(), [refB]);
    await store.delete(refA); // absent: no error
    await assert.rejects(store.get(refA), (err: Error) => {
      assert.match(err.message, /not in the key store/);
      return true;
    });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('bad input: invalid references, unreadable keys, corrupt entries', async () => {
  const home = tempDir();
  try {
    const store = new KeyStore(path.join(home, 'keys'));
    assert.deepEqual(store.list(), [], 'missing dir lists nothing');
    assert.equal(store.has('sha256:../../etc/passwd'), false);
    await assert.rejects(store.get('sha256:../../etc/passwd'), /invalid key reference/);
    const garbage = '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXNlY3JldC1zZWNyZXQ=\n-----END PRIVATE KEY-----\n';
    await assert.rejects(store.put(garbage), (err: Error) => {
      assert.doesNotMatch(err.message, /c2VjcmV0/);
      assert.match(err.message, /could not be read/);
      return true;
    });
    assert.throws(() => keyRefOf(garbage), (err: Error) => !err.message.includes('c2VjcmV0'));
    // An entry that holds a different key is detected.
    const a = await generateKeyPair('ec-p256');
    const b = await generateKeyPair('ec-p256');
    const refA = await store.put(a.privateKeyPem);
    fs.writeFileSync(path.join(home, 'keys', `${refA.slice(7)}.pem`), b.privateKeyPem);
    await assert.rejects(store.get(refA), (err: Error) => {
      assert.match(err.message, /corrupt/);
      assert.ok(!err.message.includes('PRIVATE KEY'));
      return true;
    });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
