/**
 * testssl.sh (Debian's 3.0.x) scans a Gatehouse STARTTLS listener and its JSON
 * findings are checked: no SSLv2/SSLv3/TLS 1.0/TLS 1.1, no NULL/aNULL/EXPORT/
 * LOW/RC4/3DES ciphers, no TLS compression (CRIME), secure renegotiation
 * supported and client-initiated renegotiation refused, the chain trusted
 * (via --add-ca with the test root), and no HIGH/CRITICAL finding except the
 * ones justified in ALLOWED_SEVERE (testssl-scan.ts). The scan never leaves the machine
 * (`--nodns none`, target 127.0.0.1). It takes 80-350 s (more on a loaded machine).
 * The admin GUI's HTTPS port is scanned in testssl-gui.test.ts.
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
  scan = await runTestssl({ dir: rig.dir, name: 'testssl', rootCaFile: rig.pki.root.certFile, port: rig.gatehouse.port, extraArgs: ['--starttls', 'smtp'] });
}, { timeout: 660_000 });

after(async () => {
  await rig?.close();
});

test('the scan completed against the listener', () => {
  assertScanCompleted(scan, 'smtp');
});

test('no SSLv2, SSLv3, TLS 1.0 or TLS 1.1; TLS 1.2 and 1.3 offered', () => {
  assertModernProtocolsOnly(scan);
});

test('no NULL, anonymous, EXPORT, LOW, RC4 or 3DES ciphers', () => {
  assertNoWeakCiphers(scan);
});

test('no TLS compression (CRIME) and no insecure renegotiation', () => {
  // Before the fix in src/tls/secure-context.ts secure_client_renego was "VULNERABLE, potential DoS threat" (MEDIUM).
  assertNoCompressionAndSafeRenegotiation(scan);
});

test('no STARTTLS injection finding', () => {
  // testssl 3.0.x has no STARTTLS-injection probe (it came in 3.2); any such finding must be OK.
  // The probe itself is done with Python in real-clients.test.ts.
  for (const f of scan.findings.filter((x) => /inject/i.test(x.id) && !/ccs/i.test(x.id))) assert.ok(['OK', 'INFO'].includes(f.severity), `${f.id}: ${f.finding}`);
});

test('the chain is trusted through the added test root; no HIGH or CRITICAL finding beyond the justified ones', () => {
  assertTrustedChainAndNoUnexplainedSevere(scan);
});
