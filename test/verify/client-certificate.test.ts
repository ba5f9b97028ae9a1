/**
 * `tlsverify` presents the outbound client certificate (`destconfig setup
 * --certificate`) as delivery does: a Gatehouse listener that verifies client
 * certificates (TLS required, so a missing one is refused) rejects the run
 * without one and accepts the run with one.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConfigStore } from '../../src/config/config-store.js';
import { homeLayout } from '../../src/core/home-layout.js';
import { KeyStore } from '../../src/tls/key-store.js';
import type { CliHome } from '../cli/cli-home.js';
import { startFakeDns, type FakeDns } from '../harness/fake-dns.js';
import { freePort, type TestGateway } from '../harness/gateway-fixture.js';
import { createTestPki, type TestPki } from '../harness/pki-fixture.js';
import { startTlsGateway, verifyHome } from './verify-fixture.js';

let pki: TestPki;
let dns: FakeDns;
let gw: TestGateway;
let port: number;

before(async () => {
  pki = await createTestPki();
  dns = await startFakeDns({});
  port = await freePort();
  const leaf = await pki.server(['verify.test']);
  gw = await startTlsGateway([{ name: 'Mutual', address: '127.0.0.1', port, tls: 'required', cert: leaf, chain: [pki.intermediate.certificatePem] }], (c) => {
    c.trustStore = { systemEnabled: false, customEnabled: true, custom: [{ name: 'Gatehouse Test Root', certificate: pki.root.certificatePem }] };
    for (const p of c.listeners[0]!.policies) p.verifyClientCertificate = true;
  });
});

after(async () => {
  await gw.stop();
  await dns.close();
});

const rejections = async (): Promise<number> => (await gw.mailLog()).filter((l) => /TLS client certificate rejected/.test(l)).length;

async function run(h: CliHome): Promise<number> {
  const r = await h.gh(['tlsverify', 'verify.test', `127.0.0.1:${port}`]);
  assert.match(r.stdout, /TLS connection established: /, r.stdout + r.stderr);
  return r.code;
}

test('without an outbound client certificate the listener rejects it; with one it does not', async () => {
  const plain = await verifyHome(pki, dns.server);
  await run(plain);
  assert.equal(await rejections(), 1, (await gw.mailLog()).join('\n'));

  const withCert = await verifyHome(pki, dns.server);
  const client = await pki.client('gw.test');
  const layout = homeLayout(withCert.home);
  const key = await new KeyStore(layout.keysDir).put(client.privateKeyPem);
  const store = new ConfigStore(layout);
  const config = structuredClone(store.committed().config);
  config.certificates.push({ name: 'OutboundClient', source: 'imported', certificate: client.certificatePem, intermediates: [pki.intermediate.certificatePem], key });
  config.destinationControls.certificate = 'OutboundClient';
  store.commit(config, 'test', 'outbound client certificate');
  assert.equal(await run(withCert), 0);
  assert.equal(await rejections(), 1, 'no new rejection');
});
