/**
 * The SMTP smuggling matrix end to end (security catalogue §13 and §15): each
 * non-standard end-of-data variant is sent to Gatehouse's public listener,
 * Gatehouse relays what it accepted to a strict downstream receiver on
 * loopback, and the test reads the raw bytes the downstream got. For every
 * variant: at most one message arrives (the carrier, exactly when Gatehouse
 * answered 250), nothing from the smuggled sender, no bare CR or LF on the
 * wire, and every relayed line that starts with a dot is dot-stuffed. Run in
 * both `smtp.bareLineEndings` modes: `normalize` (default: accepted, repaired
 * and relayed) and `reject` (554 5.6.0 for a bare CR/LF, nothing relayed).
 * (test/inbound/smtp-attacks.test.ts checks the same variants at the spool.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { offlineResolver, type TestGateway } from '../harness/gateway-fixture.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';
import { startSender } from '../delivery/delivery-fixture.js';
import { startRawRecorder, type RawRecorder } from './raw-recorder.js';
import { SMUGGLING_VARIANTS } from '../harness/smuggling-variants.js';

const VARIANTS = SMUGGLING_VARIANTS;

const BARE = /\r(?!\n)|(?<!\r)\n/;

for (const mode of ['normalize', 'reject'] as const) describe(`smuggling variants relayed through Gatehouse (smtp.bareLineEndings: ${mode})`, () => {
  let recorder: RawRecorder;
  let gw: TestGateway;
  before(async () => {
    recorder = await startRawRecorder();
    gw = await startSender((c) => {
      c.listeners.find((x) => x.name === 'IncomingMail')!.rat = ['rcpt.test'];
      c.smtpRoutes = [{ domain: 'ALL', hosts: [`127.0.0.1:${recorder.port}`] }];
      c.smtp.bareLineEndings = mode;
    }, offlineResolver);
  });
  after(async () => {
    await gw.stop();
    await recorder.close();
  });

  test('the variants contain no genuine terminator (sanity of the matrix)', () => {
    for (const v of VARIANTS) assert.ok(!v.includes('\r\n.\r\n'), JSON.stringify(v));
  });

  VARIANTS.forEach((seq, i) => {
    test(`${JSON.stringify(seq)}: at most one message downstream, no bare CR/LF on the wire`, async () => {
      const before = recorder.messages.length;
      const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
      let reply;
      try {
        assert.equal((await c.read()).code, 220);
        await c.command('EHLO client.test');
        assert.equal((await c.command('MAIL FROM:<alice@sender.test>')).code, 250);
        assert.equal((await c.command('RCPT TO:<bob@rcpt.test>')).code, 250);
        assert.equal((await c.command('DATA')).code, 354);
        c.write(
          `Subject: carrier ${i}\r\n\r\nbody${seq}MAIL FROM:<smuggled@spoofed.test>\r\nRCPT TO:<victim@rcpt.test>\r\nDATA\r\nSubject: smuggled ${i}\r\n\r\nevil\r\n.\r\n`,
        );
        reply = await c.read();
        // Whatever came after the fake terminator was data, not commands: the session is in its
        // command phase exactly once, and QUIT is answered normally.
        assert.equal((await c.command('QUIT')).code, 221);
        assert.equal(c.unread, '', `one reply for the whole DATA (got ${reply.text} then ${c.unread})`);
      } finally {
        c.close();
      }
      // normalize: the carrier is accepted with its line endings repaired; reject: refused when it had a bare CR/LF.
      if (mode === 'reject' && BARE.test(seq)) assert.equal(reply.text, '554 5.6.0 Message contains a bare CR or LF; lines must end with CRLF');
      else assert.equal(reply.code, 250, reply.text);

      await gw.gateway.delivery!.runDue();
      const arrived = recorder.messages.slice(before);
      assert.equal(arrived.length, reply.code === 250 ? 1 : 0, `downstream got ${arrived.length} (reply ${reply.text})`);
      assert.ok(!recorder.commands.some((l) => /smuggled|victim/.test(l)), 'no smuggled envelope reached the downstream');
      for (const m of arrived) {
        assert.match(m.mailFrom, /alice@sender\.test/);
        assert.deepEqual(m.rcpts, ['RCPT TO:<bob@rcpt.test>']);
        assert.match(m.raw, new RegExp(`Subject: carrier ${i}\\r\\n`));
        assert.ok(!BARE.test(m.raw), `bare CR or LF relayed: ${JSON.stringify(m.raw.slice(-400))}`);
        for (const line of m.raw.split('\r\n')) {
          if (line.startsWith('.')) assert.ok(line.startsWith('..'), `unstuffed dot line relayed: ${JSON.stringify(line)}`);
        }
        // The would-be second message stayed inside the carrier's body.
        assert.match(m.raw, /MAIL FROM:<smuggled@spoofed\.test>/);
      }
    });
  });
});
