/**
 * Resource exhaustion on the public listener (security catalogue §27, §28).
 *
 * Slowloris: a client that keeps every single read alive (a complete NOOP, or
 * one byte of DATA, every 1.5 s — well inside the per-command deadline) is
 * still cut by the whole-session deadline: `421 4.4.2 ... Session time limit
 * exceeded`, the connection is closed, the limit is logged, and a message
 * trickled in DATA is not stored. (The idle client and the one-endless-line
 * trickle are in test/inbound/limits.test.ts.) The tests assert the reply and
 * the close, never a duration.
 *
 * Flood: many connections from 127.0.0.1 are capped at the policy's
 * `maxConnectionsPerIp` (each extra one gets `421 4.7.0` and is closed), while
 * a client from another address (127.0.0.2) is served a whole message, and
 * 127.0.0.1 is served again once its connections close.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../harness/gateway-fixture.js';
import { SmtpTestClient, type TestReply } from '../harness/smtp-test-client.js';

const SESSION_LIMIT = '421 4.4.2 gw.test Session time limit exceeded, closing connection';
const PER_IP_LIMIT = '421 4.7.0 gw.test Too many connections from your address, try again later';

/** Writes `chunk()` every `ms` until the connection closes; returns a stop function. */
function trickle(c: SmtpTestClient, ms: number, chunk: () => string): () => void {
  const t = setInterval(() => {
    if (!c.isClosed) c.write(chunk());
  }, ms);
  return () => clearInterval(t);
}

describe('slow clients are cut at the session deadline', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway((c) => {
      c.listeners.find((x) => x.name === 'IncomingMail')!.rat = ['rcpt.test'];
      c.smtp.commandTimeoutSeconds = 30;
      c.smtp.sessionTimeoutSeconds = 4;
    });
  });
  after(async () => gw.stop());

  test('a NOOP every 1.5 s: each answered, then 421 at the session deadline and the close', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    assert.equal((await c.read()).code, 220);
    const stop = trickle(c, 1500, () => 'NOOP\r\n');
    try {
      const replies: TestReply[] = [];
      // Generous read timeouts: the session deadline, not this test, decides when the session ends.
      for (;;) {
        const r = await c.read(30_000);
        replies.push(r);
        if (r.code !== 250) break;
      }
      assert.equal(replies[replies.length - 1]!.text, SESSION_LIMIT);
      assert.ok(replies.length >= 2, 'the NOOPs before the deadline were answered');
      await c.waitClosed(10_000);
      await gw.waitForLog(/^Info: ICID \d+ limit sessionTimeout: phase greeting$/);
    } finally {
      stop();
      c.close();
    }
  });

  test('one byte of DATA every 1.5 s: 421 at the session deadline, the close, nothing stored', async () => {
    const stored = gw.gateway.spoolStore.size();
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
    assert.equal((await c.read()).code, 220);
    await c.command('EHLO slow.test');
    assert.equal((await c.command('MAIL FROM:<slow@sender.test>')).code, 250);
    assert.equal((await c.command('RCPT TO:<bob@rcpt.test>')).code, 250);
    assert.equal((await c.command('DATA')).code, 354);
    const text = 'Subject: slow\r\n\r\nthis message never ends\r\n';
    let i = 0;
    const stop = trickle(c, 1500, () => text[i++ % text.length]!);
    try {
      assert.equal((await c.read(30_000)).text, SESSION_LIMIT);
      await c.waitClosed(10_000);
      await gw.waitForLog(/^Info: ICID \d+ limit sessionTimeout: phase data$/);
      assert.equal(gw.gateway.spoolStore.size(), stored);
    } finally {
      stop();
      c.close();
    }
  });
});

describe('a flood from one address is capped; other addresses are still served', () => {
  const CAP = 5;
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway((c) => {
      const l = c.listeners.find((x) => x.name === 'IncomingMail')!;
      l.rat = ['rcpt.test'];
      l.policies.find((p) => p.name === 'ACCEPTED')!.maxConnectionsPerIp = CAP;
    });
  });
  after(async () => gw.stop());

  test(`${CAP} connections from 127.0.0.1 are served, 30 more are refused with 421 4.7.0, 127.0.0.2 still gets through`, async () => {
    const held: SmtpTestClient[] = [];
    const flood: SmtpTestClient[] = [];
    try {
      for (let i = 0; i < CAP; i++) {
        const c = await SmtpTestClient.connect(gw.port('IncomingMail'), '127.0.0.1', '127.0.0.1');
        assert.equal((await c.read()).code, 220);
        held.push(c);
      }
      // The flood: 30 connections at once from the same address.
      flood.push(...(await Promise.all(Array.from({ length: 30 }, async () => SmtpTestClient.connect(gw.port('IncomingMail'), '127.0.0.1', '127.0.0.1')))));
      const replies = await Promise.all(flood.map(async (c) => (await c.read(10_000)).text));
      assert.deepEqual(new Set(replies), new Set([PER_IP_LIMIT]));
      await Promise.all(flood.map(async (c) => c.waitClosed(10_000)));
      await gw.waitForLog(new RegExp(`^Info: ICID \\d+ limit maxConnectionsPerIp: ${CAP}$`));

      // Another client address is served a whole message while 127.0.0.1 is at its cap.
      const other = await SmtpTestClient.connect(gw.port('IncomingMail'), '127.0.0.1', '127.0.0.2');
      try {
        assert.equal((await other.read()).code, 220);
        assert.equal((await other.command('EHLO other.test')).code, 250);
        const r = await other.send('other@sender.test', ['bob@rcpt.test'], 'Subject: still served\r\n\r\nhello\r\n');
        assert.equal(r.code, 250, r.text);
        assert.equal((await other.command('QUIT')).code, 221);
      } finally {
        other.close();
      }
      await gw.waitForLog(/^Info: New SMTP ICID \d+ interface IncomingMail \(127\.0\.0\.1\) address 127\.0\.0\.2 /);

      // The held connections still work, and once they close 127.0.0.1 is served again.
      assert.equal((await held[0]!.command('EHLO held.test')).code, 250);
      for (const c of held) c.close();
      held.length = 0;
      let again: SmtpTestClient | undefined;
      for (let attempt = 0; attempt < 50 && again === undefined; attempt++) {
        const c = await SmtpTestClient.connect(gw.port('IncomingMail'), '127.0.0.1', '127.0.0.1');
        const r = await c.read(10_000);
        if (r.code === 220) again = c;
        else {
          // The server may not have seen every close yet: the counter is released on close.
          assert.equal(r.text, PER_IP_LIMIT);
          c.close();
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      assert.ok(again, '127.0.0.1 is served again after its connections closed');
      again.close();
    } finally {
      for (const c of [...held, ...flood]) c.close();
    }
  });
});
