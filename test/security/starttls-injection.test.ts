/**
 * STARTTLS injection in both directions (security catalogue §1 and §6).
 *
 * Inbound (CVE-2011-0411 class): a whole mail transaction pipelined after
 * STARTTLS in the same packet is discarded — on the public and on the relay
 * listener — the exact number of bytes is logged, nothing is stored, and the
 * first reply inside TLS answers the client's own EHLO. (The shorter
 * RSET/MAIL variant is in test/inbound/smtp-attacks.test.ts.)
 *
 * Outbound (CVE-2021-38371 class): a next hop that sends a whole fake
 * dialogue with its `220` is not believed: when the genuine server refuses
 * MAIL inside TLS the message is deferred with the genuine reply, and when it
 * accepts, the message is delivered once through the genuine dialogue. (The
 * scripted-MTA variant with `starttls: 'inject'` is in
 * test/delivery/queue-behaviour.test.ts; this one makes believing the
 * injection observable as a false delivery.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import type { Config } from '../../src/config/schema.js';
import { offlineResolver, startTestGateway, type TestGateway } from '../harness/gateway-fixture.js';
import { createTestPki, type TestPki } from '../harness/pki-fixture.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';
import { deliveryLines, startSender, submit } from '../delivery/delivery-fixture.js';
import { startInjectingMta } from './injecting-mta.js';

describe('inbound: commands pipelined after STARTTLS are discarded, never executed inside TLS', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway((c) => {
      c.listeners.find((x) => x.name === 'IncomingMail')!.rat = ['rcpt.test'];
    });
  });
  after(async () => gw.stop());

  for (const listener of ['IncomingMail', 'OutgoingMail']) {
    test(`${listener}: a whole injected transaction is dropped and its size logged`, async () => {
      const before = gw.gateway.spoolStore.size();
      const c = await SmtpTestClient.connect(gw.port(listener));
      try {
        assert.equal((await c.read()).code, 220);
        assert.equal((await c.command('EHLO client.test')).code, 250);
        const injected =
          'MAIL FROM:<injected@evil.test>\r\nRCPT TO:<bob@rcpt.test>\r\nDATA\r\nSubject: injected\r\n\r\nsmuggled in plaintext\r\n.\r\nQUIT\r\n';
        c.write(`STARTTLS\r\n${injected}`);
        assert.equal((await c.read()).code, 220);
        await c.upgrade();
        const ehlo = await c.command('EHLO client.test');
        assert.equal(ehlo.code, 250, 'the first reply inside TLS answers our own EHLO');
        assert.equal(ehlo.lines[0], 'gw.test');
        assert.ok(!ehlo.lines.includes('STARTTLS'), 'STARTTLS is not offered again');
        assert.equal(c.unread, '', 'no reply to any injected command');
        // The injected MAIL opened no transaction and the injected QUIT did not end the session.
        assert.equal((await c.command('RCPT TO:<bob@rcpt.test>')).code, 503);
        assert.equal((await c.command('NOOP')).code, 250);
        assert.equal(gw.gateway.spoolStore.size(), before, 'nothing stored');
        assert.ok(!gw.gateway.spoolStore.list().some((m) => m.from.includes('injected')));
        const line = await gw.waitForLog(new RegExp(`STARTTLS: discarded ${injected.length} bytes sent before the TLS handshake$`));
        assert.match(line, /^Warning: ICID \d+ /);
        // The session still works normally: a genuine message inside TLS is accepted.
        const r = await c.send('alice@sender.test', ['bob@rcpt.test'], 'Subject: genuine\r\n\r\nhello\r\n');
        assert.equal(r.code, 250, r.text);
      } finally {
        c.close();
      }
    });
  }
});

describe('inbound: plaintext sent after the 220 (a separate packet) cannot reach the TLS session', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway((c) => {
      c.listeners.find((x) => x.name === 'IncomingMail')!.rat = ['rcpt.test'];
    });
  });
  after(async () => gw.stop());

  test('commands written after the STARTTLS 220 break the handshake; nothing is executed, the gateway goes on', async () => {
    const before = gw.gateway.spoolStore.size();
    const raw = net.connect({ port: gw.port('IncomingMail'), host: '127.0.0.1' });
    raw.on('error', () => {});
    let text = '';
    const waitFor = async (re: RegExp): Promise<void> => {
      for (let n = 0; !re.test(text); n++) {
        assert.ok(n < 500 && !raw.destroyed, `no ${re} in ${JSON.stringify(text)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const onData = (d: Buffer): void => {
      text += d.toString('latin1');
    };
    raw.on('data', onData);
    try {
      await waitFor(/^220 /m);
      raw.write('EHLO client.test\r\n');
      await waitFor(/^250 /m);
      raw.write('STARTTLS\r\n');
      await waitFor(/^220 2\.0\.0/m);
      raw.removeListener('data', onData);
      // The attacker's packet arrives after the server switched to TLS: it is not a TLS record.
      raw.write('MAIL FROM:<injected@evil.test>\r\nRCPT TO:<bob@rcpt.test>\r\nDATA\r\nSubject: x\r\n\r\nx\r\n.\r\n');
      const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
      const outcome = await new Promise<string>((resolve) => {
        secure.on('error', (e) => resolve(`error: ${e.message}`));
        secure.on('close', () => resolve('closed'));
        secure.on('secureConnect', () => resolve('secure'));
      });
      if (outcome === 'secure') {
        // Should the handshake survive, the injected plaintext must still not have been executed.
        let inside = '';
        secure.on('data', (d: Buffer) => (inside += d.toString('latin1')));
        secure.write('EHLO client.test\r\n');
        for (let n = 0; !/^250 /m.test(inside) && n < 500; n++) await new Promise((r) => setTimeout(r, 10));
        assert.match(inside, /^250-gw\.test\r\n/, 'the first reply inside TLS answers our own EHLO');
      }
      secure.destroy();
      assert.equal(gw.gateway.spoolStore.size(), before, `nothing stored (handshake: ${outcome})`);
      // The gateway is unharmed: a new session works.
      const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
      assert.equal((await c.read()).code, 220);
      assert.equal((await c.command('EHLO client.test')).code, 250);
      c.close();
    } finally {
      raw.destroy();
    }
  });
});

describe('outbound: replies injected with the STARTTLS 220 are never believed', () => {
  let pki: TestPki;
  before(async () => {
    pki = await createTestPki();
  });

  const senderTo = (port: number) => (c: Config): void => {
    c.smtpRoutes = [{ domain: 'ALL', hosts: [`127.0.0.1:${port}`] }];
    c.destinationControls.default.tls = 'required';
  };

  test('genuine server refuses MAIL inside TLS: deferred with the genuine reply, not "delivered" by the injected one', async () => {
    const cert = await pki.server(['127.0.0.1']);
    const mta = await startInjectingMta({ cert: { cert: pki.fullChainPem(cert), key: cert.privateKeyPem }, mailReply: '451 4.3.0 genuine temporary failure' });
    const sender = await startSender(senderTo(mta.port), offlineResolver);
    try {
      const mid = await submit(sender, 'e@origin.test', ['inj@dest.test']);
      await sender.gateway.delivery!.runDue();
      const text = (await deliveryLines(sender, mid)).join('\n');
      assert.match(text, /STARTTLS: discarded \d+ bytes received before the TLS handshake/);
      assert.match(text, new RegExp(`Delayed: DCID \\d+ MID ${mid} to RID 0 - 451 4\\.3\\.0 genuine temporary failure`));
      assert.doesNotMatch(text, new RegExp(`Message done DCID \\d+ MID ${mid}\\b`), 'never delivered on the strength of an injected 250');
      assert.doesNotMatch(text, /injected/);
      const rcpt = sender.gateway.spoolStore.get(mid)?.recipients[0];
      assert.equal(rcpt?.state, 'pending');
      assert.match(rcpt?.lastReply ?? '', /genuine temporary failure/);
      assert.equal(mta.messages.length, 0, 'no data was sent after the genuine refusal');
      // After the handshake the client sent its own EHLO, then MAIL: the dialogue followed genuine replies only.
      const inTls = mta.commands.filter((c) => c.startsWith('tls:'));
      assert.match(inTls[0] ?? '', /^tls:EHLO /);
      assert.match(inTls[1] ?? '', /^tls:MAIL FROM:<e@origin\.test>/);
      assert.ok(!inTls.some((c) => c.startsWith('tls:DATA')), 'no DATA after a refused MAIL');
    } finally {
      await sender.stop();
      await mta.close();
    }
  });

  test('genuine server accepts: delivered exactly once through the genuine dialogue', async () => {
    const cert = await pki.server(['127.0.0.1']);
    const mta = await startInjectingMta({ cert: { cert: pki.fullChainPem(cert), key: cert.privateKeyPem } });
    const sender = await startSender(senderTo(mta.port), offlineResolver);
    try {
      const mid = await submit(sender, 'e@origin.test', ['inj@dest.test'], 'Subject: once\r\n\r\nthe one body\r\n');
      await sender.gateway.delivery!.runDue();
      const text = (await deliveryLines(sender, mid)).join('\n');
      assert.match(text, /STARTTLS: discarded \d+ bytes received before the TLS handshake/);
      assert.match(text, new RegExp(`Message done DCID \\d+ MID ${mid} to RID \\[0\\]`));
      assert.equal(mta.messages.length, 1);
      assert.match(mta.messages[0]!, /the one body/);
      const inTls = mta.commands.filter((c) => c.startsWith('tls:'));
      assert.deepEqual(
        inTls.slice(0, 4).map((c) => c.split(/[ :]/).slice(0, 2).join(':')),
        ['tls:EHLO', 'tls:MAIL', 'tls:RCPT', 'tls:DATA'],
        inTls.join(' | '),
      );
      assert.equal(mta.commands.filter((c) => !c.startsWith('tls:') && /^(MAIL|RCPT|DATA)/.test(c)).length, 0, 'nothing sent in plaintext');
      assert.doesNotMatch(text, /injected/);
    } finally {
      await sender.stop();
      await mta.close();
    }
  });
});
