/**
 * verifyClientCertificate (SPEC §4.2): with preferred, no certificate is fine and
 * an invalid one is rejected; with required, a valid one is mandatory. Every
 * rejection logs `ICID n TLS client certificate rejected: <reason>`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from '../../src/config/schema.js';
import { createTestPki, type TestCert, type TestPki } from '../harness/pki-fixture.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';
import { startTestGateway, type TestGateway } from '../harness/gateway-fixture.js';

let pki: TestPki;
let valid: TestCert;
let untrusted: TestCert;

function verifyingPolicy(level: 'preferred' | 'required') {
  return (c: Config): void => {
    c.trustStore = { systemEnabled: false, customEnabled: true, custom: [{ name: 'Test Root', certificate: pki.root.certificatePem }] };
    const l = c.listeners.find((x) => x.name === 'IncomingMail')!;
    l.rat = ['rcpt.test'];
    const p = l.policies.find((x) => x.name === 'ACCEPTED')!;
    p.tls = level;
    p.verifyClientCertificate = true;
  };
}

type Presented = 'none' | 'valid' | 'invalid';

async function attempt(gw: TestGateway, presented: Presented): Promise<{ accepted: boolean; client: SmtpTestClient }> {
  const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
  await c.read();
  await c.command('EHLO client.test');
  const cert = presented === 'valid' ? valid : presented === 'invalid' ? untrusted : undefined;
  await c.startTls(cert ? { cert: pki.fullChainPem(cert), key: cert.privateKeyPem } : {});
  try {
    const ehlo = await c.command('EHLO client.test');
    if (ehlo.code !== 250) return { accepted: false, client: c };
    const r = await c.send('a@sender.test', ['b@rcpt.test'], 'Subject: cert\r\n\r\nx');
    return { accepted: r.code === 250, client: c };
  } catch {
    return { accepted: false, client: c };
  }
}

before(async () => {
  pki = await createTestPki();
  valid = await pki.client('client.sender.test');
  untrusted = await pki.client('client.sender.test', { issuer: 'otherRoot' });
});

describe('verifyClientCertificate with tls preferred', () => {
  let gw: TestGateway;
  before(async () => (gw = await startTestGateway(verifyingPolicy('preferred'))));
  after(async () => gw.stop());

  test('no certificate: accepted', async () => {
    const { accepted, client } = await attempt(gw, 'none');
    assert.equal(accepted, true);
    client.close();
  });
  test('valid certificate: accepted', async () => {
    const { accepted, client } = await attempt(gw, 'valid');
    assert.equal(accepted, true);
    client.close();
  });
  test('invalid certificate: rejected and logged', async () => {
    const { accepted, client } = await attempt(gw, 'invalid');
    assert.equal(accepted, false);
    client.close();
    await gw.waitForLog(/^Warning: ICID \d+ TLS client certificate rejected: \S.*$/);
  });
  test('plaintext session without STARTTLS: accepted (preferred)', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    await c.read();
    await c.command('EHLO client.test');
    assert.equal((await c.send('a@sender.test', ['b@rcpt.test'], 'Subject: p\r\n\r\nx')).code, 250);
    c.close();
  });
});

describe('verifyClientCertificate with tls required', () => {
  let gw: TestGateway;
  before(async () => (gw = await startTestGateway(verifyingPolicy('required'))));
  after(async () => gw.stop());

  test('no certificate: rejected with the reason logged', async () => {
    const { accepted, client } = await attempt(gw, 'none');
    assert.equal(accepted, false);
    client.close();
    await gw.waitForLog(/^Warning: ICID \d+ TLS client certificate rejected: no certificate presented$/);
  });
  test('valid certificate: accepted', async () => {
    const { accepted, client } = await attempt(gw, 'valid');
    assert.equal(accepted, true);
    client.close();
  });
  test('invalid certificate: rejected', async () => {
    const { accepted, client } = await attempt(gw, 'invalid');
    assert.equal(accepted, false);
    client.close();
  });
});
