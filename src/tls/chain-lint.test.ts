import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestPki, type TestCert } from '../../test/harness/pki-fixture.js';
import { hasErrors, isFqdn, lintChain, lintTrustAnchors, type LintCode, type LintFinding } from './chain-lint.js';
import { keyRefOf } from './key-store.js';

const DAY = 86_400_000;
const now = new Date();
const pkiPromise = createTestPki({ now });

function codes(findings: LintFinding[]): string[] {
  return findings.map((f) => `${f.severity} ${f.code}`).sort();
}

async function lint(leaf: TestCert, chain: string[], options: { anchors?: 'root' | 'none'; keyRef?: string } = {}): Promise<LintFinding[]> {
  const pki = await pkiPromise;
  return lintChain({
    certificatePem: leaf.certificatePem,
    intermediatesPem: chain,
    keyRef: options.keyRef ?? keyRefOf(leaf.privateKeyPem),
    trustAnchors: options.anchors === 'none' ? [] : [pki.root.certificate],
    now,
  });
}

function has(findings: LintFinding[], code: LintCode, severity: 'error' | 'warning'): void {
  assert.ok(
    findings.some((f) => f.code === code && f.severity === severity),
    `expected ${severity} ${code}, got: ${findings.map((f) => `${f.severity} ${f.code}`).join(', ') || 'none'}`,
  );
}

describe('chain lint', () => {
  test('a correct chain has no findings; every message is one line', async () => {
    const pki = await pkiPromise;
    const leaf = await pki.server(['mail.example.test']);
    assert.deepEqual(await lint(leaf, [pki.intermediate.certificatePem]), []);
  });

  test('key-mismatch (error)', async () => {
    const pki = await pkiPromise;
    const leaf = await pki.server(['mail.example.test']);
    const other = await pki.server(['other.example.test']);
    const f = await lint(leaf, [pki.intermediate.certificatePem], { keyRef: keyRefOf(other.privateKeyPem) });
    has(f, 'key-mismatch', 'error');
    assert.match(f.find((x) => x.code === 'key-mismatch')!.message, /^key does not sign certificate/);
  });

  test('wrong-order (error) names the right order', async () => {
    const pki = await pkiPromise;
    const sub = await pki.ca('Gatehouse Test Sub CA', { issuer: 'intermediate' });
    const leaf = await pki.server(['mail.example.test'], { issuer: sub });
    assert.deepEqual(await lint(leaf, [sub.certificatePem, pki.intermediate.certificatePem]), []);
    const f = await lint(leaf, [pki.intermediate.certificatePem, sub.certificatePem]);
    assert.deepEqual(codes(f), ['error wrong-order']);
    assert.match(f[0]!.message, /"Gatehouse Test Sub CA", then "Gatehouse Test Intermediate CA"/);
  });

  test('duplicate-intermediate (warning)', async () => {
    const pki = await pkiPromise;
    const leaf = await pki.server(['mail.example.test']);
    assert.deepEqual(codes(await lint(leaf, [pki.intermediate.certificatePem, pki.intermediate.certificatePem])), ['warning duplicate-intermediate']);
  });

  test('missing-intermediate (error): nothing supplied or trusted issued the leaf', async () => {
    const pki = await pkiPromise;
    const leaf = await pki.server(['mail.example.test']);
    const f = await lint(leaf, []);
    assert.deepEqual(codes(f), ['error missing-intermediate']);
    assert.ok(hasErrors(f));
  });

  test('untrusted-root (warning): complete chain ending at a CA not in the trust lists', async () => {
    const pki = await pkiPromise;
    const leaf = await pki.server(['mail.example.test']);
    assert.deepEqual(codes(await lint(leaf, [pki.intermediate.certificatePem], { anchors: 'none' })), ['warning untrusted-root']);
    assert.deepEqual(codes(await lint(leaf, [pki.intermediate.certificatePem, pki.root.certificatePem], { anchors: 'none' })), [
      'warning needless-root',
      'warning untrusted-root',
    ]);
  });

  test('needless-root (warning)', async () => {
    const pki = await pkiPromise;
    const leaf = await pki.server(['mail.example.test']);
    assert.deepEqual(codes(await lint(leaf, [pki.intermediate.certificatePem, pki.root.certificatePem])), ['warning needless-root']);
  });

  test('unrelated-certificate (warning)', async () => {
    const pki = await pkiPromise;
    const stranger = await pki.ca('Stranger CA', { issuer: 'otherRoot' });
    const leaf = await pki.server(['mail.example.test']);
    assert.deepEqual(codes(await lint(leaf, [pki.intermediate.certificatePem, stranger.certificatePem])), ['warning unrelated-certificate']);
  });

  test('expired and not-yet-valid leaf (error), expired intermediate on the path (error)', async () => {
    const pki = await pkiPromise;
    const expired = await pki.server(['mail.example.test'], { notBefore: new Date(now.getTime() - 400 * DAY), notAfter: new Date(now.getTime() - DAY) });
    assert.deepEqual(codes(await lint(expired, [pki.intermediate.certificatePem])), ['error expired']);
    const future = await pki.server(['mail.example.test'], { notBefore: new Date(now.getTime() + DAY), notAfter: new Date(now.getTime() + 400 * DAY) });
    assert.deepEqual(codes(await lint(future, [pki.intermediate.certificatePem])), ['error not-yet-valid']);
    const oldCa = await pki.ca('Old Intermediate', { issuer: 'root', notBefore: new Date(now.getTime() - 800 * DAY), notAfter: new Date(now.getTime() - DAY) });
    const leaf = await pki.server(['mail.example.test'], { issuer: oldCa });
    const f = await lint(leaf, [oldCa.certificatePem]);
    assert.deepEqual(codes(f), ['error expired']);
    assert.match(f[0]!.message, /intermediate "Old Intermediate" expired/);
  });

  test('sha1-signature (error) on the leaf and on an intermediate', async () => {
    const pki = await pkiPromise;
    const leaf = await pki.server(['mail.example.test'], { sha1: true });
    assert.deepEqual(codes(await lint(leaf, [pki.intermediate.certificatePem])), ['error sha1-signature']);
    const sha1Ca = await pki.ca('SHA1 Intermediate', { issuer: 'root', sha1: true });
    const leaf2 = await pki.server(['mail.example.test'], { issuer: sha1Ca });
    assert.deepEqual(codes(await lint(leaf2, [sha1Ca.certificatePem])), ['error sha1-signature']);
  });

  test('weak-key (error): a 1024-bit RSA certificate made by openssl', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-weak-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:1024', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem'), '-subj', '/CN=weak.example.test', '-addext', 'subjectAltName=DNS:weak.example.test', '-days', '30'], { stdio: 'ignore' });
      const f = lintChain({ certificatePem: fs.readFileSync(path.join(dir, 'c.pem'), 'utf8'), intermediatesPem: [], trustAnchors: [], now });
      assert.deepEqual(codes(f), ['error weak-key']);
      assert.match(f[0]!.message, /1024-bit RSA key/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('no-server-auth, no-san, cn-not-fqdn, san-not-fqdn (warnings)', async () => {
    const pki = await pkiPromise;
    const client = await pki.server(['mail.example.test'], { eku: ['clientAuth'] });
    assert.deepEqual(codes(await lint(client, [pki.intermediate.certificatePem])), ['warning no-server-auth']);
    const noSan = await pki.server(['mail.example.test'], { san: [] });
    assert.deepEqual(codes(await lint(noSan, [pki.intermediate.certificatePem])), ['warning no-san']);
    const local = await pki.server(['localhost', 'mail.example.test', '127.0.0.1']);
    assert.deepEqual(codes(await lint(local, [pki.intermediate.certificatePem])), ['warning cn-not-fqdn', 'warning san-not-fqdn']);
  });

  test('a self-signed leaf is not flagged for having no path', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-ss-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem'), '-subj', '/CN=self.example.test', '-addext', 'subjectAltName=DNS:self.example.test', '-days', '30'], { stdio: 'ignore' });
      const cert = fs.readFileSync(path.join(dir, 'c.pem'), 'utf8');
      assert.deepEqual(lintChain({ certificatePem: cert, intermediatesPem: [], keyRef: keyRefOf(fs.readFileSync(path.join(dir, 'k.pem'), 'utf8')), trustAnchors: [], now }), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('lint anchors: Node\'s bundled roots are parsed, whether or not the system list is enabled', () => {
    const anchors = lintTrustAnchors({ systemEnabled: false, customEnabled: false, custom: [] });
    assert.ok(anchors.length > 100);
  });

  test('isFqdn', () => {
    for (const ok of ['mail.example.com', '*.example.com', 'a.b.c.example.org.', 'xn--bcher-kva.example']) assert.ok(isFqdn(ok), ok);
    for (const bad of ['localhost', 'Gatehouse Demo Certificate', '127.0.0.1', '*.com', 'a..b', '-a.example.com', 'mail_1.example.com', '']) assert.ok(!isFqdn(bad), bad);
  });
});
