/**
 * Limits of SPEC §4.3: message size (552), recipients (452), command line
 * length, bad-command budget (421), per-command and whole-session deadlines,
 * per-IP and global connection caps (421), mail loops (554 5.4.6).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SmtpTestClient } from '../harness/smtp-test-client.js';
import { startTestGateway, type TestGateway } from '../harness/gateway-fixture.js';

describe('limits', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway((c) => {
      const l = c.listeners.find((x) => x.name === 'IncomingMail')!;
      l.rat = ['rcpt.test'];
      const p = l.policies.find((x) => x.name === 'ACCEPTED')!;
      p.maxMessageSize = 10_000;
      p.maxRecipientsPerMessage = 3;
      p.maxConnectionsPerIp = 4;
      p.maxMessagesPerConnection = 2;
      c.smtp.maxBadCommands = 3;
    });
  });
  after(async () => gw.stop());

  const open = async (): Promise<SmtpTestClient> => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    assert.equal((await c.read()).code, 220);
    await c.command('EHLO client.test');
    return c;
  };

  test('declared SIZE over the limit: 552 at MAIL', async () => {
    const c = await open();
    assert.equal((await c.command('MAIL FROM:<a@sender.test> SIZE=10001')).text, '552 5.3.4 Message size exceeds fixed maximum message size');
    c.close();
  });

  test('actual size over the limit: 552 after the dot, nothing stored', async () => {
    const c = await open();
    const before = gw.gateway.spoolStore.size();
    const r = await c.send('a@sender.test', ['b@rcpt.test'], `Subject: big\r\n\r\n${'x'.repeat(900)}\r\n`.repeat(20));
    assert.equal(r.code, 552);
    assert.equal(gw.gateway.spoolStore.size(), before);
    assert.equal((await c.command('NOOP')).code, 250);
    c.close();
  });

  test('too many recipients: 452 for each extra one, the transaction stays usable', async () => {
    const c = await open();
    await c.command('MAIL FROM:<a@sender.test>');
    for (const r of ['a', 'b', 'c']) assert.equal((await c.command(`RCPT TO:<${r}@rcpt.test>`)).code, 250);
    assert.equal((await c.command('RCPT TO:<d@rcpt.test>')).text, '452 4.5.3 Too many recipients');
    assert.equal((await c.command('RCPT TO:<e@rcpt.test>')).code, 452);
    assert.equal((await c.command('DATA')).code, 354);
    c.write('Subject: x\r\n\r\ny\r\n.\r\n');
    assert.equal((await c.read()).code, 250);
    c.close();
  });

  test('a command line over 512 octets gets 500 5.5.2 and memory stays bounded', async () => {
    const c = await open();
    assert.equal((await c.command(`NOOP ${'a'.repeat(600)}`)).text, '500 5.5.2 Line too long');
    c.write(`MAIL FROM:<${'x'.repeat(100 * 1024)}@sender.test>\r\n`);
    assert.equal((await c.read()).code, 500);
    c.close();
  });

  test('a text line over 1000 octets refuses the message', async () => {
    const c = await open();
    const r = await c.send('a@sender.test', ['b@rcpt.test'], `Subject: long\r\n\r\n${'y'.repeat(1200)}\r\n`);
    assert.equal(r.code, 554);
    c.close();
  });

  test('bad-command budget: 421 after the limit, then the connection closes', async () => {
    const c = await open();
    assert.equal((await c.command('FOO')).code, 500);
    assert.equal((await c.command('BAR')).code, 500);
    c.write('BAZ\r\n');
    const r1 = await c.read();
    assert.equal(r1.code, 500);
    const r2 = await c.read();
    assert.equal(r2.text, '421 4.7.0 gw.test Exceeded bad SMTP command limit, disconnecting');
    await c.waitClosed();
  });

  test('messages per connection: 421 once the limit is reached', async () => {
    const c = await open();
    for (let i = 0; i < 2; i++) assert.equal((await c.send('a@sender.test', ['b@rcpt.test'], 'Subject: n\r\n\r\nn')).code, 250);
    assert.equal((await c.command('MAIL FROM:<a@sender.test>')).code, 421);
    await c.waitClosed();
  });

  test('more than 25 Received headers: 554 5.4.6 mail loop', async () => {
    const c = await open();
    const hops = Array.from({ length: 26 }, (_, i) => `Received: from hop${i}.test by hop${i + 1}.test; Sun, 29 Nov 2026 08:00:00 +0000`).join('\r\n');
    const r = await c.send('a@sender.test', ['b@rcpt.test'], `${hops}\r\nSubject: loop\r\n\r\nx`);
    assert.equal(r.text, '554 5.4.6 Too many hops (mail loop detected)');
    c.close();
  });

  test('per-IP connection cap: the connection over the cap gets 421', async () => {
    const clients: SmtpTestClient[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
      assert.equal((await c.read()).code, 220);
      clients.push(c);
    }
    const extra = await SmtpTestClient.connect(gw.port('IncomingMail'));
    assert.equal((await extra.read()).text, '421 4.7.0 gw.test Too many connections from your address, try again later');
    await extra.waitClosed();
    for (const c of clients) c.close();
  });
});

describe('deadlines and the global cap', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway((c) => {
      c.smtp.commandTimeoutSeconds = 1;
      c.smtp.sessionTimeoutSeconds = 2;
      c.smtp.maxConnections = 3;
    });
  });
  after(async () => gw.stop());

  test('an idle client is cut after the command deadline with 421', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    await c.read();
    const r = await c.read(3000);
    assert.equal(r.code, 421);
    await c.waitClosed();
  });

  test('a slow client (a byte every 300 ms) is cut at the session deadline', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    await c.read();
    const trickle = setInterval(() => {
      if (!c.isClosed) c.write('N');
    }, 300);
    try {
      const r = await c.read(5000);
      assert.equal(r.text, '421 4.4.2 gw.test Session time limit exceeded, closing connection');
      await c.waitClosed();
    } finally {
      clearInterval(trickle);
    }
  });

  test('global connection cap: the connection over the cap gets 421', async () => {
    const clients: SmtpTestClient[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
      assert.equal((await c.read()).code, 220);
      clients.push(c);
    }
    const extra = await SmtpTestClient.connect(gw.port('OutgoingMail'));
    assert.equal((await extra.read()).text, '421 4.3.2 gw.test Too many connections, try again later');
    for (const c of clients) c.close();
  });
});
