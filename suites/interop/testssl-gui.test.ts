/**
 * testssl.sh scans the admin GUI's HTTPS port (plain TLS, no STARTTLS) of a
 * Gatehouse started through its CLI, the GUI presenting the openssl-made leaf
 * so the chain is trusted via --add-ca. Checked from the JSON findings: no
 * SSLv2/SSLv3/TLS 1.0/TLS 1.1, no NULL/aNULL/EXPORT/LOW/RC4/3DES ciphers, no
 * TLS compression (CRIME), secure renegotiation supported and client-initiated
 * renegotiation refused, and on the login page HSTS with a max-age, no BREACH
 * (no HTTP compression) and cookies marked Secure and HttpOnly, and no HIGH/CRITICAL finding except the justified ones (testssl-scan.ts).
 * Only the checks these assertions need are run (no client simulation, no
 * server-preference table), which keeps the scan near 100 s on this machine.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { findTool } from './external-tools.js';
import { startInteropRig, type InteropRig } from './interop-rig.js';
import {
  assertModernProtocolsOnly,
  assertNoCompressionAndSafeRenegotiation,
  assertNoWeakCiphers,
  assertScanCompleted,
  assertTrustedChainAndNoUnexplainedSevere,
  runTestssl,
  type TestsslScan,
} from './testssl-scan.js';

let rig: InteropRig | undefined;
let scan: TestsslScan;

before(async () => {
  findTool('testssl');
  findTool('openssl');
  rig = await startInteropRig({ receiver: false });
  scan = await runTestssl({
    dir: rig.dir,
    name: 'testssl-gui',
    rootCaFile: rig.pki.root.certFile,
    port: rig.gatehouse.guiPort,
    // The login page: it answers 200 (/ redirects) and sets a cookie, so testssl checks the cookie
    // flags, and it carries a form token, the kind of secret BREACH goes after.
    urlPath: '/login',
    // protocols, standard cipher lists, every cipher, certificate/server defaults, HTTP headers,
    // vulnerabilities (CRIME, BREACH, renegotiation, RC4, SWEET32...), forward secrecy.
    extraArgs: ['--protocols', '--std', '--each-cipher', '--server-defaults', '--headers', '--vulnerable', '--pfs'],
  });
}, { timeout: 660_000 });

after(async () => {
  await rig?.close();
});

test('the scan completed against the GUI port and saw HTTP', () => {
  assertScanCompleted(scan, 'HTTP');
});

test('no SSLv2, SSLv3, TLS 1.0 or TLS 1.1; TLS 1.2 and 1.3 offered', () => {
  assertModernProtocolsOnly(scan);
});

test('no NULL, anonymous, EXPORT, LOW, RC4 or 3DES ciphers; forward secrecy offered', () => {
  assertNoWeakCiphers(scan);
});

test('no TLS compression (CRIME), secure renegotiation, no client-initiated renegotiation', () => {
  assertNoCompressionAndSafeRenegotiation(scan);
});

test('the login page: HSTS with a max-age of at least 180 days; no HTTP compression (BREACH); cookies Secure and HttpOnly', () => {
  assert.match(scan.one('HTTP_status_code').finding, /^200\b/);
  assert.ok(!scan.findings.some((f) => f.id === 'HSTS'), 'testssl found no Strict-Transport-Security header');
  const hsts = scan.one('HSTS_time');
  assert.equal(hsts.severity, 'OK', hsts.finding);
  const seconds = Number(/=(\d+) seconds/.exec(hsts.finding)?.[1]);
  assert.ok(seconds >= 180 * 86_400, hsts.finding);
  assert.match(scan.one('BREACH').finding, /^not vulnerable/);
  assert.match(scan.one('cookie_count').finding, /^[1-9]\d* at /);
  assert.equal(scan.one('cookie_secure').severity, 'OK', scan.one('cookie_secure').finding);
  assert.equal(scan.one('cookie_httponly').severity, 'OK', scan.one('cookie_httponly').finding);
});

test('the chain is trusted through the added test root; no HIGH or CRITICAL finding beyond the justified ones', () => {
  assertTrustedChainAndNoUnexplainedSevere(scan);
});
