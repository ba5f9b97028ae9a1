/**
 * PKCS#12 interoperability with the real openssl binary (SPEC §6.1): files
 * written by OpenSSL 3 defaults and by legacy settings (RC2/3DES, SHA-1 MAC)
 * import; ours are read by `openssl pkcs12` without -legacy; RSA and EC, with
 * and without chain; non-ASCII passphrases both ways.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../src/core/errors.js';
import { exportPkcs12, importPkcs12 } from '../../src/tls/pkcs12.js';
import { createOpensslCa, openssl, opensslHasLegacy, type OpensslCa } from './openssl-ca.js';

const NON_ASCII = 'Grüße-パス-€✓';
const probeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-legacy-probe-'));
const HAS_LEGACY = opensslHasLegacy(probeDir);
fs.rmSync(probeDir, { recursive: true, force: true });
/** `-legacy` where this openssl has the legacy provider (RC2-40 certificates, 3DES key, SHA-1 MAC), else 3DES everywhere with a SHA-1 MAC. */
const legacyArgs = HAS_LEGACY ? ['-legacy'] : ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'];

describe('PKCS#12 with openssl', () => {
  let ca: OpensslCa;
  let rsa: { key: string; cert: string };
  let ec: { key: string; cert: string };
  let chainFile: string;

  before(() => {
    ca = createOpensslCa();
    rsa = ca.leaf(['rsa.example.test'], { rsaBits: 2048 });
    ec = ca.leaf(['ec.example.test']);
    chainFile = ca.file('chain.pem');
    fs.writeFileSync(chainFile, fs.readFileSync(ca.intermediate.cert, 'utf8') + fs.readFileSync(ca.root.cert, 'utf8'));
    fs.writeFileSync(ca.file('pass-ascii'), 'correct horse\n');
    fs.writeFileSync(ca.file('pass-utf8'), NON_ASCII);
  });
  after(() => ca.cleanup());

  function opensslExport(leaf: { key: string; cert: string }, name: string, options: { legacy?: boolean; chain?: boolean; pass?: string } = {}): Buffer {
    const out = ca.file(`${name}.p12`);
    openssl([
      'pkcs12',
      '-export',
      ...(options.legacy === true ? legacyArgs : []),
      '-in',
      leaf.cert,
      '-inkey',
      leaf.key,
      ...(options.chain === true ? ['-certfile', chainFile] : []),
      '-passout',
      options.pass ?? `file:${ca.file('pass-ascii')}`,
      '-out',
      out,
    ]);
    return fs.readFileSync(out);
  }

  function assertImported(got: Awaited<ReturnType<typeof importPkcs12>>, leaf: { key: string; cert: string }, chainLength: number): void {
    const cert = new crypto.X509Certificate(got.certificatePem);
    assert.equal(cert.fingerprint256, new crypto.X509Certificate(fs.readFileSync(leaf.cert)).fingerprint256);
    assert.ok(cert.checkPrivateKey(crypto.createPrivateKey(got.privateKeyPem)));
    assert.equal(got.chainPem.length, chainLength);
    if (chainLength === 2) {
      assert.deepEqual(
        got.chainPem.map((p) => new crypto.X509Certificate(p).subject.split('\n').pop()),
        ['CN=OpenSSL Test Intermediate CA', 'CN=OpenSSL Test Root CA'],
      );
    }
  }

  for (const kind of ['rsa', 'ec'] as const) {
    for (const chain of [false, true]) {
      test(`OpenSSL 3 default file imports: ${kind}, ${chain ? 'with' : 'without'} chain`, async () => {
        const leaf = kind === 'rsa' ? rsa : ec;
        const der = opensslExport(leaf, `default-${kind}-${chain}`, { chain });
        assert.match(pkcs12Info(ca.file(`default-${kind}-${chain}.p12`), `file:${ca.file('pass-ascii')}`), /AES-256-CBC/);
        assertImported(await importPkcs12(der, 'correct horse'), leaf, chain ? 2 : 0);
      });
      test(`legacy file (${HAS_LEGACY ? 'RC2-40 certificates, 3DES key' : '3DES'}, SHA-1 MAC) imports: ${kind}, ${chain ? 'with' : 'without'} chain`, async () => {
        const leaf = kind === 'rsa' ? rsa : ec;
        const der = opensslExport(leaf, `legacy-${kind}-${chain}`, { chain, legacy: true });
        const info = pkcs12Info(ca.file(`legacy-${kind}-${chain}.p12`), `file:${ca.file('pass-ascii')}`, HAS_LEGACY);
        assert.match(info, /MAC: sha1/);
        assert.match(info, /TripleDES|RC2/);
        assertImported(await importPkcs12(der, 'correct horse'), leaf, chain ? 2 : 0);
      });
    }
  }

  test('non-ASCII passphrase: OpenSSL default and legacy files import', async () => {
    assertImported(await importPkcs12(opensslExport(ec, 'utf8-default', { pass: `file:${ca.file('pass-utf8')}` }), NON_ASCII), ec, 0);
    assertImported(await importPkcs12(opensslExport(rsa, 'utf8-legacy', { pass: `file:${ca.file('pass-utf8')}`, legacy: true }), NON_ASCII), rsa, 0);
  });

  test('an empty passphrase (openssl -passout pass:) imports with an empty passphrase', async () => {
    assertImported(await importPkcs12(opensslExport(ec, 'empty', { pass: 'pass:' }), ''), ec, 0);
  });

  test('wrong passphrase is a clear error for default and legacy files', async () => {
    for (const der of [opensslExport(ec, 'wrong-default'), opensslExport(rsa, 'wrong-legacy', { legacy: true })]) {
      await assert.rejects(importPkcs12(der, 'Correct horse'), (e: unknown) => e instanceof UserError && e.message === 'wrong passphrase for PKCS#12 file');
    }
  });

  for (const kind of ['rsa', 'ec'] as const) {
    test(`our export (${kind}, with chain, non-ASCII passphrase) is read by openssl pkcs12 without -legacy`, async () => {
      const leaf = kind === 'rsa' ? rsa : ec;
      const der = await exportPkcs12({
        privateKeyPem: fs.readFileSync(leaf.key, 'utf8'),
        certificatePem: fs.readFileSync(leaf.cert, 'utf8'),
        chainPem: [fs.readFileSync(ca.intermediate.cert, 'utf8')],
        passphrase: NON_ASCII,
        friendlyName: 'mx',
      });
      const p12 = ca.file(`ours-${kind}.p12`);
      fs.writeFileSync(p12, der);
      const pass = `file:${ca.file('pass-utf8')}`;
      const info = pkcs12Info(p12, pass);
      assert.match(info, /MAC: sha256, Iteration 100000/);
      assert.match(info, /PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256/);
      assert.match(info, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256/);
      assert.doesNotMatch(info, /RC2|3DES|TripleDES/);
      const certs = openssl(['pkcs12', '-in', p12, '-passin', pass, '-nokeys']);
      assert.equal(certs.match(/BEGIN CERTIFICATE/g)?.length, 2);
      assert.match(certs, /friendlyName: mx/);
      const key = openssl(['pkcs12', '-in', p12, '-passin', pass, '-nocerts', '-nodes']);
      const keyPub = crypto.createPublicKey(crypto.createPrivateKey(key.slice(key.indexOf('-----BEGIN'))));
      assert.ok(keyPub.equals(new crypto.X509Certificate(fs.readFileSync(leaf.cert)).publicKey));
      await assert.rejects(
        Promise.resolve().then(() => openssl(['pkcs12', '-in', p12, '-passin', 'pass:wrong', '-nokeys'])),
        /mac verify failure|Mac verify error|invalid password/i,
      );
    });
  }
});

/** `openssl pkcs12 -info -noout` output (the structure lines go to stderr). */
function pkcs12Info(p12: string, pass: string, legacy = false): string {
  const r = spawnSync('openssl', ['pkcs12', ...(legacy ? ['-legacy'] : []), '-info', '-noout', '-in', p12, '-passin', pass], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl pkcs12 -info failed: ${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}
