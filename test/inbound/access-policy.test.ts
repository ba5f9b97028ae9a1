/**
 * HAT behaviours and recipient rules: reject, tcprefuse, RAT accept/reject,
 * relay on the private listener, the TLS-mandatory address list, open-relay
 * probes, and the exact log lines of SPEC §4.2/§9.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SmtpTestClient } from '../harness/smtp-test-client.js';
import { startTestGateway, type TestGateway } from '../harness/gateway-fixture.js';

describe('public listener, default HAT with a RAT', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway((c) => {
      const l = c.listeners.find((x) => x.name === 'IncomingMail')!;
      l.rat = ['example.test', '.sub.example.test'];
      l.policies.find((p) => p.name === 'ACCEPTED')!.tlsMandatoryAddressList = ['ceo@sender.test', '@secure.test'];
    });
  });
  after(async () => gw.stop());

  test('logs the connection and the sender group match in the exact forms', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    await c.read();
    await c.command('QUIT');
    await c.waitClosed();
    const port = gw.port('IncomingMail');
    assert.ok(port > 0);
    await gw.waitForLog(/^Info: New SMTP ICID \d+ interface IncomingMail \(127\.0\.0\.1\) address 127\.0\.0\.1 reverse dns host localhost verified yes$/);
    await gw.waitForLog(/^Info: ICID \d+ ACCEPT SG ALL match ALL SBRS None$/);
    await gw.waitForLog(/^Info: ICID \d+ close$/);
  });

  test('RAT: listed domain and subdomain rule accepted, others 550, postmaster always', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    await c.read();
    await c.command('EHLO client.test');
    assert.equal((await c.command('MAIL FROM:<a@sender.test>')).code, 250);
    assert.equal((await c.command('RCPT TO:<bob@example.test>')).code, 250);
    assert.equal((await c.command('RCPT TO:<bob@EXAMPLE.TEST>')).code, 250);
    assert.equal((await c.command('RCPT TO:<x@a.sub.example.test>')).code, 250);
    assert.equal((await c.command('RCPT TO:<x@sub.example.test>')).text, '550 5.7.1 Recipient address rejected');
    assert.equal((await c.command('RCPT TO:<x@elsewhere.test>')).text, '550 5.7.1 Recipient address rejected');
    assert.equal((await c.command('RCPT TO:<postmaster>')).code, 250);
    assert.equal((await c.command('RCPT TO:<postmaster@example.test>')).code, 250);
    c.close();
  });

  test('open-relay probes are refused', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    await c.read();
    await c.command('EHLO client.test');
    await c.command('MAIL FROM:<a@sender.test>');
    for (const probe of [
      'RCPT TO:<victim%elsewhere.test@example.test>',
      'RCPT TO:<elsewhere.test!victim@example.test>',
      'RCPT TO:<"victim@elsewhere.test"@example.test>',
      'RCPT TO:<@example.test:victim@elsewhere.test>',
      'RCPT TO:<victim>',
      'RCPT TO:<victim@[127.0.0.1]>',
    ]) {
      const r = await c.command(probe);
      assert.ok(r.code >= 500 && r.code < 600, `${probe} -> ${r.text}`);
    }
    assert.equal((await c.command('DATA')).code, 554);
    c.close();
  });

  test('TLS-mandatory address list: listed senders need STARTTLS, others do not', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    await c.read();
    await c.command('EHLO client.test');
    assert.equal((await c.command('MAIL FROM:<ceo@sender.test>')).text, '530 5.7.0 This sender must issue a STARTTLS command first');
    assert.equal((await c.command('MAIL FROM:<anyone@secure.test>')).code, 530);
    assert.equal((await c.command('MAIL FROM:<intern@sender.test>')).code, 250);
    assert.equal((await c.command('RSET')).code, 250);
    await c.startTls();
    await c.command('EHLO client.test');
    assert.equal((await c.command('MAIL FROM:<ceo@sender.test>')).code, 250);
    c.close();
  });

  test('a whole transaction is logged with MID, From, RID and ready', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    await c.read();
    await c.command('EHLO client.test');
    const r = await c.send('a@sender.test', ['bob@example.test', 'carol@example.test'], 'Subject: log\r\n\r\nbody');
    assert.equal(r.code, 250);
    const mid = /queued as (\d+)/.exec(r.text)?.[1];
    await c.command('QUIT');
    await gw.waitForLog(new RegExp(`^Info: Start MID ${mid} ICID \\d+$`));
    await gw.waitForLog(new RegExp(`^Info: MID ${mid} ICID \\d+ From: <a@sender\\.test>$`));
    await gw.waitForLog(new RegExp(`^Info: MID ${mid} ICID \\d+ RID 0 To: <bob@example\\.test>$`));
    await gw.waitForLog(new RegExp(`^Info: MID ${mid} ICID \\d+ RID 1 To: <carol@example\\.test>$`));
    await gw.waitForLog(new RegExp(`^Info: MID ${mid} ready \\d+ bytes from <a@sender\\.test>$`));
    const stored = gw.gateway.spoolStore.get(Number(mid));
    assert.deepEqual(stored?.recipients.map((x) => x.address), ['bob@example.test', 'carol@example.test']);
  });

  test('the null sender is accepted and logged as <>', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    await c.read();
    await c.command('EHLO client.test');
    const r = await c.send('', ['bob@example.test'], 'Subject: bounce\r\n\r\nbody');
    assert.equal(r.code, 250);
    const mid = /queued as (\d+)/.exec(r.text)?.[1];
    await gw.waitForLog(new RegExp(`^Info: MID ${mid} ready \\d+ bytes from <>$`));
    c.close();
  });
});

describe('private listener relays for RELAYLIST', () => {
  let gw: TestGateway;
  before(async () => (gw = await startTestGateway()));
  after(async () => gw.stop());

  test('any recipient domain is accepted and logged as RELAY', async () => {
    const c = await SmtpTestClient.connect(gw.port('OutgoingMail'));
    await c.read();
    await c.command('EHLO app.internal');
    assert.equal((await c.send('app@corp.test', ['someone@anywhere.test', 'x@other.test'], 'Subject: out\r\n\r\nhi')).code, 250);
    await gw.waitForLog(/^Info: ICID \d+ RELAY SG RELAYLIST match 127\.0\.0\.0\/8 SBRS None$/);
    c.close();
  });

  test('the public listener with an empty RAT accepts no recipient', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    await c.read();
    await c.command('EHLO client.test');
    await c.command('MAIL FROM:<a@sender.test>');
    assert.equal((await c.command('RCPT TO:<x@anywhere.test>')).code, 550);
    c.close();
  });
});

describe('reject and tcprefuse behaviours', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway((c) => {
      const pub = c.listeners.find((x) => x.name === 'IncomingMail')!;
      pub.senderGroups.find((g) => g.name === 'ALL')!.policy = 'BLOCKED';
      const priv = c.listeners.find((x) => x.name === 'OutgoingMail')!;
      priv.policies.push({ ...priv.policies.find((p) => p.name === 'BLOCKED')!, name: 'REFUSED', behavior: 'tcprefuse' });
      priv.senderGroups = [{ name: 'ALL', policy: 'REFUSED', members: ['ALL'], comment: '' }];
      c.smtp.rejectTimeoutSeconds = 1;
    });
  });
  after(async () => gw.stop());

  test('reject: 554 greeting, 503 to every command, 221 to QUIT', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    assert.equal((await c.read()).text, '554 gw.test Access denied');
    for (const cmd of ['EHLO client.test', 'MAIL FROM:<a@b.test>', 'NOOP', 'STARTTLS']) assert.equal((await c.command(cmd)).code, 503, cmd);
    assert.equal((await c.command('QUIT')).code, 221);
    await c.waitClosed();
    await gw.waitForLog(/^Info: ICID \d+ REJECT SG ALL match ALL SBRS None$/);
  });

  test('reject: a client that never quits is closed after the short deadline', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    await c.read();
    await c.waitClosed(5000);
  });

  test('tcprefuse: closed before any banner', async () => {
    const c = await SmtpTestClient.connect(gw.port('OutgoingMail'));
    await c.waitClosed();
    assert.equal(c.unread, '');
    await gw.waitForLog(/^Info: ICID \d+ TCPREFUSE SG ALL match ALL SBRS None$/);
  });
});
