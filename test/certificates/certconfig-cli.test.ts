/**
 * `gatehouse certconfig` end to end (SPEC §6, §12), through the real CLI and
 * checked with the real openssl binary: new, csr, upload (with the test CA's
 * signature), paste, import/export, list, print, lint, delete, rekey and the
 * trust store. No command output may carry private key material.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { homeLayout } from '../../src/core/home-layout.js';
import { ConfigStore } from '../../src/config/config-store.js';
import { initHome } from '../../src/services/home-service.js';
import { tempHome } from '../harness/gateway-fixture.js';
import { runCli } from '../harness/gateway-process.js';
import { createOpensslCa, openssl, type OpensslCa } from './openssl-ca.js';

describe('certconfig CLI', () => {
  let home: string;
  let ca: OpensslCa;
  const outputs: string[] = [];
  const keyFiles: string[] = [];

  const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    const r = await runCli(['--home', home, 'certconfig', ...args]);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const store = (): ConfigStore => new ConfigStore(homeLayout(home));
  const keysDir = (): string => homeLayout(home).keysDir;

  before(async () => {
    home = tempHome('gatehouse-certconfig-');
    await initHome(home, { hostname: 'gw.test' });
    ca = createOpensslCa();
    fs.writeFileSync(ca.file('pass'), 'export pass\n');
  });
  after(() => {
    // Nothing a command printed may contain a private key, or a fragment of one.
    const all = outputs.join('\n');
    assert.doesNotMatch(all, /PRIVATE KEY/);
    for (const f of [...fs.readdirSync(keysDir()).map((n) => path.join(keysDir(), n)), ...keyFiles]) {
      const body = fs.readFileSync(f, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
      for (let i = 0; i + 32 <= body.length; i += 32) assert.ok(!all.includes(body.slice(i, i + 32)), `key material of ${f} in command output`);
    }
    fs.rmSync(home, { recursive: true, force: true });
    ca.cleanup();
  });

  test('new: self-signed profile, key written 0600 at once, refusals', async () => {
    const before = new Set(fs.readdirSync(keysDir()));
    const r = await cli('new', '--name', 'mx', '--cn', 'mx.example.test', '--org', 'Gatehouse Test', '--country', 'de', '--key', 'ec-p256', '--san', 'mx.example.test,mail.example.test');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Created self-signed certificate profile mx (staged; "gatehouse commit" applies it).\n');
    const added = fs.readdirSync(keysDir()).filter((n) => !before.has(n));
    assert.equal(added.length, 1);
    assert.equal(fs.statSync(path.join(keysDir(), added[0]!)).mode & 0o777, 0o600);
    assert.equal(fs.statSync(keysDir()).mode & 0o777, 0o700);
    for (const n of fs.readdirSync(keysDir())) assert.equal(fs.statSync(path.join(keysDir(), n)).mode & 0o777, 0o600);
    const profile = store().working().certificates.find((c) => c.name === 'mx');
    assert.equal(profile?.source, 'self-signed');
    assert.equal(store().committed().config.certificates.some((c) => c.name === 'mx'), false, 'staged, not committed');

    const dup = await cli('new', '--name', 'mx', '--cn', 'x.example.test');
    assert.deepEqual([dup.code, dup.stderr], [1, 'gatehouse: Certificate profile mx already exists.\n']);
    const badCountry = await cli('new', '--name', 'cc', '--cn', 'x.example.test', '--country', 'XX');
    assert.equal(badCountry.code, 2);
    assert.match(badCountry.stderr, /country must be a 2-letter ISO 3166 code/);
    const badKey = await cli('new', '--name', 'weak', '--cn', 'x.example.test', '--key', 'rsa1024');
    assert.equal(badKey.code, 2);
  });

  test('list: the columns, the demo warning, --json', async () => {
    const r = await cli('list');
    assert.equal(r.code, 0);
    const [header, rule, ...rows] = r.stdout.split('\n');
    assert.deepEqual(header!.split(/ {2,}/), ['Name', 'Common Name', 'Issued By', 'Domains', 'Status', 'Time Remaining', 'Expiration Date', 'Used by']);
    assert.match(rule!, /^-+ +-+/);
    const mx = rows.find((l) => l.startsWith('mx '));
    assert.match(mx ?? '', /mx\.example\.test +mx\.example\.test \(self-signed\) +mx\.example\.test, mail\.example\.test +Valid +364 days +\w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT +-$/);
    assert.match(r.stdout, /^Warning: listener IncomingMail uses the demo certificate; install your own with certconfig\.$/m);
    const j = await runCli(['--home', home, '--json', 'certconfig', 'list']);
    const list = JSON.parse(j.stdout) as { name: string; status: string; usedBy: string[]; demo: boolean }[];
    assert.deepEqual(
      list.map((p) => [p.name, p.status, p.demo]),
      [
        ['Demo', 'valid', true],
        ['mx', 'valid', false],
      ],
    );
    assert.deepEqual(list[0]!.usedBy, ['listener IncomingMail', 'listener OutgoingMail', 'GUI']);
  });

  test('print: the fields, and the fingerprint line equals openssl x509 -fingerprint -sha256', async () => {
    const r = await cli('print', 'mx');
    assert.equal(r.code, 0);
    for (const field of ['Subject: C=DE, O=Gatehouse Test, CN=mx.example.test', 'Issuer: C=DE', 'Serial Number: ', 'Not Before: ', 'Not After: ', 'Subject Alternative Names: DNS:mx.example.test, DNS:mail.example.test', 'Key: EC P-256 (256 bits)', 'Signature Algorithm: ecdsa-with-SHA256', 'Chain: (none)', 'Used by: (nothing)']) {
      assert.ok(r.stdout.includes(field), `missing "${field}" in:\n${r.stdout}`);
    }
    const pem = await cli('print', 'mx', '--pem');
    assert.match(pem.stdout, /^-----BEGIN CERTIFICATE-----/);
    const fromOpenssl = openssl(['x509', '-fingerprint', '-sha256', '-noout'], { input: pem.stdout }).trim(); // sha256 Fingerprint=AB:CD:...
    const ours = /^SHA-256 Fingerprint: (.*)$/m.exec(r.stdout)?.[1];
    assert.equal(ours, fromOpenssl.split('=')[1]);
    const json = JSON.parse((await runCli(['--home', home, 'certconfig', 'print', 'mx', '--json'])).stdout) as { fingerprint256: string; pem: string };
    assert.equal(json.fingerprint256, ours);
  });

  let csrFile: string;
  test('csr: verifies with openssl req -verify and carries subject and SAN', async () => {
    csrFile = ca.file('mx.csr');
    const r = await cli('csr', 'mx', '-o', csrFile);
    assert.equal(r.code, 0, r.stderr);
    const verify = openssl(['req', '-verify', '-in', csrFile, '-noout', '-subject', '-text']);
    assert.match(verify, /subject=C = DE, O = Gatehouse Test, CN = mx\.example\.test/);
    assert.match(verify, /DNS:mx\.example\.test, DNS:mail\.example\.test/);
    const stdout = await cli('csr', 'mx');
    assert.match(stdout.stdout, /^-----BEGIN CERTIFICATE REQUEST-----\n[\s\S]+-----END CERTIFICATE REQUEST-----\n$/);
  });

  test('upload: a certificate for another key is refused with exactly "key does not sign certificate"', async () => {
    const other = ca.leaf(['mx.example.test']);
    keyFiles.push(other.key);
    const r = await cli('upload', 'mx', '--cert', other.cert, '--intermediate', ca.intermediate.cert);
    assert.deepEqual([r.code, r.stderr], [1, 'gatehouse: key does not sign certificate\n']);
  });

  test('upload: lint errors refuse (reversed order, missing intermediate, expired leaf); duplicates are a warning', async () => {
    const bySub = ca.signCsr(csrFile, { issuer: 'sub' });
    const reversed = await cli('upload', 'mx', '--cert', bySub, '--intermediate', ca.intermediate.cert, '--intermediate', ca.sub.cert);
    assert.equal(reversed.code, 1);
    assert.match(reversed.stderr, /^gatehouse: certificate refused: error wrong-order: intermediates are out of order: give them as "OpenSSL Test Sub CA", then "OpenSSL Test Intermediate CA"/);
    const byInt = ca.signCsr(csrFile, { issuer: 'intermediate' });
    const missing = await cli('upload', 'mx', '--cert', byInt);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /error missing-intermediate: /);
    const expired = ca.signCsr(csrFile, { issuer: 'intermediate', start: '20200101000000Z', end: '20210101000000Z' });
    const old = await cli('upload', 'mx', '--cert', expired, '--intermediate', ca.intermediate.cert);
    assert.equal(old.code, 1);
    assert.match(old.stderr, /error expired: certificate "mx\.example\.test" expired on /);
    assert.equal(store().working().certificates.find((c) => c.name === 'mx')?.source, 'self-signed', 'refusals change nothing');
    for (const r of [reversed, missing, old]) assert.equal(r.stderr.split('\n').length, 2, 'one line');

    const dup = await cli('upload', 'mx', '--cert', byInt, '--intermediate', ca.intermediate.cert, '--intermediate', ca.intermediate.cert);
    assert.equal(dup.code, 0, dup.stderr);
    assert.match(dup.stdout, /^warning duplicate-intermediate: "OpenSSL Test Intermediate CA" is supplied more than once/m);
  });

  test('upload with the intermediate succeeds; the root is not yet trusted (warning), lint is clean once it is', async () => {
    const signed = ca.signCsr(csrFile, { issuer: 'intermediate' });
    const r = await cli('upload', 'mx', '--cert', signed, '--intermediate', ca.intermediate.cert);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Uploaded the certificate for profile mx \(staged; "gatehouse commit" applies it\)\.$/m);
    assert.match(r.stdout, /^warning untrusted-root: /m);
    const p = store().working().certificates.find((c) => c.name === 'mx')!;
    assert.equal(p.source, 'imported');
    assert.equal(p.intermediates.length, 1);

    const caImport = await cli('ca', 'import', ca.root.cert);
    assert.equal(caImport.code, 0, caImport.stderr);
    assert.match(caImport.stdout, /^Added 1 CA certificate to the custom list: OpenSSL Test Root CA \(staged/);
    const lint = await cli('lint', 'mx');
    assert.deepEqual([lint.code, lint.stdout], [0, 'Profile mx: no findings.\n']);
    const lintDemo = await cli('lint', 'Demo');
    assert.equal(lintDemo.code, 0);
    assert.match(lintDemo.stdout, /^warning cn-not-fqdn: /m);
  });

  test('paste: key, certificate and chain; mismatched or encrypted keys are refused', async () => {
    const leaf = ca.leaf(['paste.example.test']);
    const other = ca.leaf(['other.example.test']);
    keyFiles.push(leaf.key, other.key);
    const ok = await cli('paste', '--name', 'pasted', '--cert', leaf.cert, '--key', leaf.key, '--intermediate', ca.intermediate.cert);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^Created certificate profile pasted \(staged/);
    const mismatch = await cli('paste', '--name', 'bad', '--cert', leaf.cert, '--key', other.key);
    assert.deepEqual([mismatch.code, mismatch.stderr], [1, 'gatehouse: key does not sign certificate\n']);
    const encrypted = ca.file('encrypted.key');
    openssl(['pkey', '-in', leaf.key, '-aes256', '-passout', 'pass:x', '-out', encrypted]);
    const enc = await cli('paste', '--name', 'bad', '--cert', leaf.cert, '--key', encrypted);
    assert.equal(enc.code, 1);
    assert.match(enc.stderr, /the private key is encrypted; decrypt it first/);
    const missing = await cli('paste', '--name', 'bad', '--cert', ca.file('nope.crt'), '--key', leaf.key);
    assert.deepEqual([missing.code, missing.stderr], [1, `gatehouse: the file "${ca.file('nope.crt')}" does not exist.\n`]);
  });

  test('import (OpenSSL 3 default PKCS#12) and export (read by openssl, file 0600)', async () => {
    const leaf = ca.leaf(['p12.example.test'], { rsaBits: 2048 });
    keyFiles.push(leaf.key);
    const p12 = ca.file('in.p12');
    openssl(['pkcs12', '-export', '-in', leaf.cert, '-inkey', leaf.key, '-certfile', ca.intermediate.cert, '-passout', `file:${ca.file('pass')}`, '-out', p12]);
    const wrong = ca.file('wrong-pass');
    fs.writeFileSync(wrong, 'not it\n');
    const bad = await cli('import', '--name', 'imported', '--file', p12, '--passphrase-file', wrong);
    assert.deepEqual([bad.code, bad.stderr], [1, 'gatehouse: wrong passphrase for PKCS#12 file\n']);
    const ok = await cli('import', '--name', 'imported', '--file', p12, '--passphrase-file', ca.file('pass'));
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^Created certificate profile imported/);

    const out = ca.file('out.p12');
    const exp = await cli('export', 'imported', '--file', out, '--passphrase-file', ca.file('pass'));
    assert.equal(exp.code, 0, exp.stderr);
    assert.equal(fs.statSync(out).mode & 0o777, 0o600);
    const certs = openssl(['pkcs12', '-in', out, '-passin', `file:${ca.file('pass')}`, '-nokeys']);
    assert.equal(certs.match(/BEGIN CERTIFICATE/g)?.length, 2);
    const key = openssl(['pkcs12', '-in', out, '-passin', `file:${ca.file('pass')}`, '-nocerts', '-nodes']);
    assert.ok(crypto.createPublicKey(crypto.createPrivateKey(key.slice(key.indexOf('-----BEGIN')))).equals(new crypto.X509Certificate(fs.readFileSync(leaf.cert)).publicKey));
    const empty = ca.file('empty-pass');
    fs.writeFileSync(empty, '\n');
    const refused = await cli('export', 'imported', '--file', ca.file('never.p12'), '--passphrase-file', empty);
    assert.equal(refused.code, 1);
    assert.equal(fs.existsSync(ca.file('never.p12')), false);
  });

  test('malformed input (50 MB file, random DER, truncated PKCS#12, junk PEM) is one clear line and changes nothing', async () => {
    const staged = fs.readFileSync(homeLayout(home).stagedFile, 'utf8');
    const keys = fs.readdirSync(keysDir()).sort();
    const big = ca.file('big.p12');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 50 * 1024 * 1024);
    const random = ca.file('random.der');
    fs.writeFileSync(random, crypto.randomBytes(3000));
    const truncated = ca.file('truncated.p12');
    fs.writeFileSync(truncated, fs.readFileSync(ca.file('in.p12')).subarray(0, 700));
    const junk = ca.file('junk.pem');
    fs.writeFileSync(junk, '-----BEGIN CERTIFICATE-----\nnot base64 at all!!\n-----END CERTIFICATE-----\n');
    const runs = [
      await cli('import', '--name', 'x', '--file', big, '--passphrase-file', ca.file('pass')),
      await cli('import', '--name', 'x', '--file', random, '--passphrase-file', ca.file('pass')),
      await cli('import', '--name', 'x', '--file', truncated, '--passphrase-file', ca.file('pass')),
      await cli('upload', 'mx', '--cert', junk),
      await cli('upload', 'mx', '--cert', random),
      await cli('paste', '--name', 'x', '--cert', junk, '--key', random),
    ];
    for (const r of runs) {
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^gatehouse: [^\n]+\n$/);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
    assert.match(runs[0]!.stderr, /larger than 1 MiB/);
    assert.match(runs[2]!.stderr, /PKCS#12 file could not be read/);
    assert.equal(fs.readFileSync(homeLayout(home).stagedFile, 'utf8'), staged);
    assert.deepEqual(fs.readdirSync(keysDir()).sort(), keys);
  });

  test('delete is refused while in use, naming the users; allowed otherwise', async () => {
    const r = await cli('delete', 'Demo');
    assert.deepEqual([r.code, r.stderr], [1, 'gatehouse: certificate profile Demo is in use by listener IncomingMail, listener OutgoingMail, GUI; choose another certificate there first\n']);
    const ok = await cli('delete', 'pasted');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(store().working().certificates.some((c) => c.name === 'pasted'), false);
  });

  test('rekey stages a new key and self-signed certificate; the committed profile keeps the old one', async () => {
    const s = store();
    s.commit(s.working(), 'test', 'commit before rekey');
    const old = s.committed().config.certificates.find((c) => c.name === 'mx')!;
    const r = await cli('rekey', 'mx');
    assert.equal(r.code, 0, r.stderr);
    const staged = store().working().certificates.find((c) => c.name === 'mx')!;
    assert.notEqual(staged.key, old.key);
    assert.equal(staged.source, 'self-signed');
    assert.deepEqual(staged.intermediates, []);
    assert.equal(store().committed().config.certificates.find((c) => c.name === 'mx')!.key, old.key);
    const cert = new crypto.X509Certificate(staged.certificate);
    assert.match(cert.subject, /CN=mx\.example\.test/);
    assert.match(cert.subjectAltName ?? '', /DNS:mail\.example\.test/);
    assert.equal(fs.statSync(path.join(keysDir(), `${staged.key.slice(7)}.pem`)).mode & 0o777, 0o600);
  });

  test('trust store: import checks, list, export, enable/disable, delete', async () => {
    const again = await cli('ca', 'import', ca.root.cert);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /"OpenSSL Test Root CA" is already in the custom CA list/);
    const leafOnly = await cli('ca', 'import', ca.leaf(['leaf.example.test']).cert);
    assert.equal(leafOnly.code, 1);
    assert.match(leafOnly.stderr, /is not a CA certificate \(basicConstraints CA:TRUE is missing\)/);
    const strangers = createOpensslCa('gatehouse-other-ca-');
    try {
      const orphan = await cli('ca', 'import', strangers.intermediate.cert);
      assert.equal(orphan.code, 1);
      assert.match(orphan.stderr, /the issuer "OpenSSL Test Root CA" of "OpenSSL Test Intermediate CA" is missing: include its root CA in the bundle/);
    } finally {
      strangers.cleanup();
    }
    const intermediate = await cli('ca', 'import', ca.intermediate.cert);
    assert.equal(intermediate.code, 0, intermediate.stderr);
    const missingFile = await cli('ca', 'import', ca.file('absent.pem'));
    assert.deepEqual([missingFile.code, missingFile.stderr], [1, `gatehouse: the file "${ca.file('absent.pem')}" does not exist.\n`]);

    const list = await cli('ca', 'list');
    assert.match(list.stdout, /^System list: enabled \(\d+ certificates\)$/m);
    assert.match(list.stdout, /^Custom list: enabled \(2 certificates\)$/m);
    assert.match(list.stdout, /^OpenSSL Test Root CA +O=Gatehouse OpenSSL Test, CN=OpenSSL Test Root CA +Valid/m);
    const exported = ca.file('custom.pem');
    assert.equal((await cli('ca', 'export', '-o', exported)).code, 0);
    assert.equal(fs.readFileSync(exported, 'utf8').match(/BEGIN CERTIFICATE/g)?.length, 2);
    assert.equal((await cli('ca', 'disable', 'system')).code, 0);
    assert.equal(store().working().trustStore.systemEnabled, false);
    assert.equal((await cli('ca', 'enable', 'system')).code, 0);
    assert.equal(store().working().trustStore.systemEnabled, true);
    assert.equal((await cli('ca', 'disable', 'nonsense')).code, 2);
    const del = await cli('ca', 'delete', 'OpenSSL Test Intermediate CA');
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual(store().working().trustStore.custom.map((c) => c.name), ['OpenSSL Test Root CA']);
  });
});
