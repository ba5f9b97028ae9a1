/**
 * Hostile clients: STARTTLS command injection, SMTP smuggling end-of-data
 * variants, early talkers and cross-protocol input (security catalogue §1, §5, §13).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SmtpTestClient } from '../harness/smtp-test-client.js';
import { startTestGateway, type TestGateway } from '../harness/gateway-fixture.js';
import { SMUGGLING_VARIANTS } from '../harness/smuggling-variants.js';

describe('hostile input on the public listener', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway((c) => {
      c.listeners.find((x) => x.name === 'IncomingMail')!.rat = ['rcpt.test'];
    });
  });
  after(async () => gw.stop());

  test('STARTTLS injection: a pipelined RSET / MAIL after STARTTLS is discarded, not executed inside TLS', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    await c.read();
    await c.command('EHLO client.test');
    c.write('STARTTLS\r\nRSET\r\nMAIL FROM:<injected@evil.test>\r\n');
    assert.equal((await c.read()).code, 220);
    await c.upgrade();
    // The first reply inside TLS must be the answer to our own EHLO, nothing queued from before.
    const ehlo = await c.command('EHLO client.test');
    assert.equal(ehlo.code, 250);
    assert.equal(ehlo.lines[0], 'gw.test');
    assert.equal(c.unread, '');
    // The injected MAIL did not open a transaction: RCPT needs MAIL first.
    assert.equal((await c.command('RCPT TO:<bob@rcpt.test>')).code, 503);
    await gw.waitForLog(/^Warning: ICID \d+ STARTTLS: discarded \d+ bytes sent before the TLS handshake$/);
    c.close();
  });

  for (const seq of SMUGGLING_VARIANTS) {
    test(`smuggling ${JSON.stringify(seq)} yields at most one message and no bare CR/LF`, async () => {
      const before = gw.gateway.spoolStore.size();
      const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
      await c.read();
      await c.command('EHLO client.test');
      await c.command('MAIL FROM:<alice@sender.test>');
      await c.command('RCPT TO:<bob@rcpt.test>');
      assert.equal((await c.command('DATA')).code, 354);
      c.write(
        `Subject: carrier\r\n\r\nbody${seq}MAIL FROM:<smuggled@spoofed.test>\r\nRCPT TO:<bob@rcpt.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n`,
      );
      const r = await c.read();
      // Whatever the server says, the session goes on as one transaction: QUIT works.
      await c.command('QUIT');
      const after = gw.gateway.spoolStore.list().filter((m) => m.from.includes('smuggled'));
      assert.equal(after.length, 0, 'no message from the smuggled sender');
      assert.ok(gw.gateway.spoolStore.size() - before <= 1, `at most one message (reply ${r.text})`);
      if (r.code === 250) {
        const mid = Number(/queued as (\d+)/.exec(r.text)?.[1]);
        const body = await gw.gateway.spoolStore.readBody(mid);
        assert.equal(/\r(?!\n)|(?<!\r)\n/.test(body.toString('latin1')), false, 'no bare CR or LF in the stored message');
      }
    });
  }

  test('dot-stuffed lines are unstuffed once', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    await c.read();
    await c.command('EHLO client.test');
    const r = await c.send('a@sender.test', ['bob@rcpt.test'], 'Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\nend');
    const mid = Number(/queued as (\d+)/.exec(r.text)?.[1]);
    const body = (await gw.gateway.spoolStore.readBody(mid)).toString('latin1');
    assert.ok(body.endsWith('\r\n\r\n.leading dot\r\n..two dots\r\nend\r\n'), JSON.stringify(body));
    c.close();
  });

  test('HTTP request on the SMTP port gets 554 and a close', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    await c.read();
    c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal((await c.read()).code, 554);
    await c.waitClosed();
  });

  test('early talker (commands before the banner) is refused', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    c.write('EHLO hasty.test\r\n');
    // Either the 554 synchronisation error, or (if the banner won the race) a normal session:
    const first = await c.read();
    if (first.code === 554) await c.waitClosed();
    else assert.equal(first.code, 220);
    c.close();
  });

  test('unknown parameters and NUL bytes get clear 5xx replies and the session survives', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    await c.read();
    await c.command('EHLO client.test');
    assert.equal((await c.command('MAIL FROM:<a@sender.test> FOO=BAR')).code, 555);
    assert.equal((await c.command('MAIL FROM:<a@sen\x00der.test>')).code, 501);
    assert.equal((await c.command('NOOP')).code, 250);
    c.close();
  });
});
