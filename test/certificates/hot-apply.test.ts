/**
 * Hot apply (SPEC §6.1): a profile created by the certificate service and put
 * on a listener reaches the running gateway through `Gateway.apply`; a new
 * STARTTLS handshake sees the new certificate while a TLS session opened
 * before keeps working on the old one. Then the CSR / CA / upload round trip:
 * `openssl s_client -starttls smtp` sees leaf + intermediate, no restart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createProfile, profileCsr, uploadCertificate } from '../../src/services/certificates.js';
import { editStaged, openHome } from '../../src/services/staging.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';
import { startTestGateway, type TestGateway } from '../harness/gateway-fixture.js';
import { createOpensslCa } from './openssl-ca.js';

let gw: TestGateway;
before(async () => {
  gw = await startTestGateway((c) => {
    c.listeners.find((l) => l.name === 'IncomingMail')!.rat = ['example.test'];
  });
});
after(async () => gw.stop());

async function tlsSession(): Promise<{ client: SmtpTestClient; subject: string }> {
  const client = await SmtpTestClient.connect(gw.port('IncomingMail'));
  assert.equal((await client.read()).code, 220);
  assert.equal((await client.command('EHLO client.test')).code, 250);
  const secure = await client.startTls({ servername: 'fresh.example.test' });
  assert.equal((await client.command('EHLO client.test')).code, 250);
  return { client, subject: String(secure.getPeerCertificate().subject.CN) };
}

test('a new profile on the listener serves new handshakes after apply; an open session continues', async () => {
  const open = await tlsSession();
  assert.equal(open.subject, 'Gatehouse Demo Certificate');

  const home = openHome(gw.layout.root);
  await createProfile(home, 'test', { name: 'fresh', subject: { cn: 'fresh.example.test' }, key: 'ec-p256' });
  editStaged(home, 'test', 'use fresh on IncomingMail', (draft) => {
    draft.listeners.find((l) => l.name === 'IncomingMail')!.certificates = ['fresh'];
  });
  home.store.commit(home.store.working(), 'test', 'new certificate');
  await gw.gateway.apply(home.store.committed().config);

  const next = await tlsSession();
  assert.equal(next.subject, 'fresh.example.test');
  assert.equal((await next.client.command('QUIT')).code, 221);

  // The session opened before the change still works, on its old certificate.
  assert.equal((await open.client.command('NOOP')).code, 250);
  assert.equal((await open.client.send('a@sender.test', ['b@example.test'], 'Subject: after apply\r\n\r\nstill here')).code, 250);
  assert.equal((await open.client.command('QUIT')).code, 221);
});

function sClient(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'openssl',
      ['s_client', '-starttls', 'smtp', '-connect', `127.0.0.1:${port}`, '-servername', 'signed.example.test', '-showcerts'],
      { timeout: 15_000 },
      (err, stdout) => (stdout.includes('BEGIN CERTIFICATE') ? resolve(stdout) : reject(err ?? new Error(stdout))),
    );
    child.stdin?.end();
  });
}

test('csr, signed by an openssl CA, uploaded with its intermediate: s_client shows leaf + intermediate after apply', async () => {
  const ca = createOpensslCa('gatehouse-hot-apply-');
  try {
    const home = openHome(gw.layout.root);
    await createProfile(home, 'test', { name: 'signed', subject: { cn: 'signed.example.test' }, key: 'rsa2048' });
    fs.writeFileSync(ca.file('signed.csr'), await profileCsr(home, 'signed'));
    const cert = ca.signCsr(ca.file('signed.csr'), { issuer: 'intermediate' });
    await uploadCertificate(home, 'test', 'signed', { certificate: fs.readFileSync(cert), intermediates: [fs.readFileSync(ca.intermediate.cert)] });
    editStaged(home, 'test', 'use signed on IncomingMail', (draft) => {
      draft.listeners.find((l) => l.name === 'IncomingMail')!.certificates = ['signed'];
    });
    home.store.commit(home.store.working(), 'test', 'CA-signed certificate');
    await gw.gateway.apply(home.store.committed().config);

    const out = await sClient(gw.port('IncomingMail'));
    assert.match(out, /^ 0 s:CN ?= ?signed\.example\.test$/m);
    assert.match(out, /^ 1 s:O ?= ?Gatehouse OpenSSL Test, CN ?= ?OpenSSL Test Intermediate CA$/m);
    assert.equal(out.match(/BEGIN CERTIFICATE/g)?.length, 2);
  } finally {
    ca.cleanup();
  }
});
