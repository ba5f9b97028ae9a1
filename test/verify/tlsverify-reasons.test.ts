/**
 * `gatehouse tlsverify` failure reasons end to end: the real CLI against the
 * scriptable remote MTA presenting chosen chains (or refusing STARTTLS), one
 * run per reason of SPEC §7, each asserting the exact reason line and exit 1.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ScriptedMta, ScriptedMtaOptions } from '../delivery/delivery-fixture.js';
import { startFakeDns, type FakeDns } from '../harness/fake-dns.js';
import { createTestPki, type TestPki } from '../harness/pki-fixture.js';
import type { CliHome } from '../cli/cli-home.js';
import { isoDate } from '../../src/verify/chain-analysis.js';
import { bundle, verifyHome, INTERMEDIATE, MtaPool, ROOT, runTlsverifyCli } from './verify-fixture.js';

const DAY = 86_400_000;
const OTHER_ROOT = 'O=Gatehouse Test PKI, CN=Gatehouse Other Root CA';

let pki: TestPki;
let dns: FakeDns;
let h: CliHome;
const mtas = new MtaPool();
const mta = (o: ScriptedMtaOptions): Promise<ScriptedMta> => mtas.start(o);
const tlsverify = (port: number, extra: string[] = []): ReturnType<typeof runTlsverifyCli> => runTlsverifyCli(h, port, extra);

async function expectFailure(port: number, reason: string): Promise<string[]> {
  const r = await tlsverify(port);
  assert.equal(r.code, 1, r.lines.join('\n') + r.stderr);
  assert.equal(r.lines.at(-1), `TLS verification failed: ${reason}`, r.lines.join('\n'));
  assert.equal(r.lines.filter((l) => l.startsWith('TLS verification')).length, 1);
  assert.equal(r.stderr, '');
  return r.lines;
}

before(async () => {
  pki = await createTestPki();
  dns = await startFakeDns({});
  h = await verifyHome(pki, dns.server);
});

after(async () => {
  await mtas.closeAll();
  await dns.close();
});

test('untrusted root: the chain ends at a root the trust store lacks', async () => {
  const leaf = await pki.server(['verify.test'], { issuer: 'otherRoot' });
  const m = await mta({ cert: bundle(leaf, pki.otherRoot) });
  await expectFailure(m.port, `untrusted root ${OTHER_ROOT}`);
});

test('missing intermediate: the leaf alone', async () => {
  const leaf = await pki.server(['verify.test']);
  const m = await mta({ cert: bundle(leaf) });
  const lines = await expectFailure(m.port, 'missing intermediate for CN=verify.test');
  assert.ok(lines.includes('Certificate chain as sent (TLS 1.2 probe): 1 certificate.'));
});

test('duplicate intermediate: seen only in the chain as sent (the TLS 1.2 probe)', async () => {
  const leaf = await pki.server(['verify.test']);
  const m = await mta({ cert: bundle(leaf, pki.intermediate, pki.intermediate) });
  const lines = await expectFailure(m.port, `duplicate intermediate ${INTERMEDIATE}`);
  assert.ok(lines.includes('Certificate chain as sent (TLS 1.2 probe): 3 certificates.'), lines.join('\n'));
});

test('certificate expired, with the date', async () => {
  const now = Date.now();
  const leaf = await pki.server(['verify.test'], { notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - 2 * DAY) });
  const m = await mta({ cert: bundle(leaf, pki.intermediate) });
  await expectFailure(m.port, `certificate expired CN=verify.test since ${isoDate(new Date(leaf.certificate.validTo))}`);
});

test('certificate not yet valid', async () => {
  const now = Date.now();
  const leaf = await pki.server(['verify.test'], { notBefore: new Date(now + 2 * DAY), notAfter: new Date(now + 30 * DAY) });
  const m = await mta({ cert: bundle(leaf, pki.intermediate) });
  await expectFailure(m.port, 'certificate not yet valid CN=verify.test');
});

test('name mismatch lists what was tried and what was presented', async () => {
  const leaf = await pki.server(['other.test', 'mail.other.test']);
  const m = await mta({ cert: bundle(leaf, pki.intermediate) });
  const lines = await expectFailure(m.port, 'name mismatch (tried: verify.test, 127.0.0.1; presented: other.test, mail.other.test)');
  assert.ok(lines.includes(`Certificate chain verified: issued by trusted CA ${ROOT}.`), 'the chain itself was fine');
});

test('STARTTLS not offered', async () => {
  const m = await mta({ ehlo: ['PIPELINING', '8BITMIME'] });
  const lines = await expectFailure(m.port, 'STARTTLS not offered');
  assert.deepEqual(lines.slice(0, 3), [`Connecting to 127.0.0.1 on port ${m.port}.`, 'Connected to 127.0.0.1 from interface 127.0.0.1.', 'Checking TLS connection.']);
});

test('STARTTLS refused, with the reply', async () => {
  const m = await mta({ starttls: 'refuse-454' });
  await expectFailure(m.port, 'STARTTLS refused: 454 4.7.0 TLS not available due to local problem');
});

test('handshake failed, with the TLS library\'s alert', async () => {
  const m = await mta({ starttls: 'handshake-failure' });
  // The scripted MTA answers the ClientHello with plain text: OpenSSL's own words for that.
  await expectFailure(m.port, 'handshake failed: wrong version number');
});
