/**
 * Queue behaviour end to end: 5xx bounce with an RFC 3464 DSN to the sender
 * (never for <>), lifetime expiry on a fake clock, connection reuse, restart
 * recovery, STARTTLS response injection, hostile replies, outbound smuggling.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import type { FakeDns } from '../harness/fake-dns.js';
import { startTestGateway, type TestGateway } from '../harness/gateway-fixture.js';
import { createTestPki, type TestPki } from '../harness/pki-fixture.js';
import { deliveryLines, fakeDnsResolver, startScriptedMta, startSender, submit, type ScriptedMta } from './delivery-fixture.js';
import type { DnsResolver } from '../../src/dns/resolver.js';

let pki: TestPki;
let dns: FakeDns;
let resolver: DnsResolver;

before(async () => {
  pki = await createTestPki();
  ({ dns, resolver } = await fakeDnsResolver({ 'mx.remote.test': { A: ['127.0.0.1'] } }));
});
after(async () => dns.close());

function routeTo(mta: ScriptedMta, extra: (c: Config) => void = () => {}) {
  return (c: Config): void => {
    c.smtpRoutes = [{ domain: 'ALL', hosts: [`mx.remote.test:${mta.port}`] }];
    extra(c);
  };
}

class FakeClock {
  constructor(public t: number) {}
  now = (): number => this.t;
}

describe('bounces and DSNs', () => {
  let mta: ScriptedMta;
  let sender: TestGateway;
  before(async () => {
    mta = await startScriptedMta({ rcpt: '550 5.1.1 No such user', acceptDomain: 'origin.test', starttls: 'refuse-454', ehlo: ['PIPELINING', '8BITMIME'] });
    sender = await startSender(routeTo(mta), resolver);
  });
  after(async () => {
    await sender.stop();
    await mta.close();
  });

  test('5xx bounces at once, with a multipart/report DSN to the sender from <>', async () => {
    const mid = await submit(sender, 'alice@origin.test', ['nobody@dest.test'], 'Subject: Original subject\r\nMessage-ID: <orig@x>\r\n\r\nbody\r\n');
    await sender.gateway.delivery!.runDue();
    const text = (await deliveryLines(sender, mid)).join('\n');
    assert.match(text, new RegExp(`Bounced: DCID \\d+ MID ${mid} to RID 0 - 550 5\\.1\\.1 No such user`));
    const dsnMid = Number(new RegExp(`MID (\\d+) DSN generated for MID ${mid}`).exec((await sender.mailLog()).join('\n'))?.[1]);
    assert.ok(dsnMid > 0);
    // The DSN itself goes out with MAIL FROM:<> to alice@origin.test.
    await sender.gateway.delivery!.runDue();
    assert.equal(mta.commands.filter((c) => c.startsWith('MAIL FROM:<>')).length, 1);
    assert.ok(mta.commands.includes('RCPT TO:<alice@origin.test>'));
    assert.match((await sender.mailLog()).join('\n'), new RegExp(`Message done DCID \\d+ MID ${dsnMid} to RID \\[0\\]`));
    // A message from the null sender that bounces gets no DSN.
    const fromNull = await submit(sender, '', ['nobody2@dest.test']);
    await sender.gateway.delivery!.runDue();
    const log = (await sender.mailLog()).join('\n');
    assert.match(log, new RegExp(`Bounced: DCID \\d+ MID ${fromNull} to RID 0`));
    assert.doesNotMatch(log, new RegExp(`DSN generated for MID ${fromNull}\\b`), 'never a DSN for the null sender');
    assert.equal(sender.gateway.delivery!.counters.dsns, 1);
  });

  test('the stored DSN has the RFC 3464 structure and the original headers', async () => {
    const mid = await submit(sender, 'bob@origin.test', ['x@dest.test'], 'Subject: Keep me\r\n\r\nsecret\r\n');
    // The DSN is stored and delivered in the same pass.
    await sender.gateway.delivery!.runDue();
    const dsnLine = (await sender.mailLog()).find((l) => l.includes(`DSN generated for MID ${mid}`));
    assert.ok(dsnLine);
    const dsn = mta.messages.find((m) => m.rcpts.some((r) => r.includes('bob@origin.test')));
    assert.ok(dsn, 'the DSN reached the next hop');
    assert.match(dsn.raw, /^Auto-Submitted: auto-replied\r$/m);
    assert.match(dsn.raw, /Content-Type: multipart\/report; report-type=delivery-status;/);
    assert.match(dsn.raw, /Final-Recipient: rfc822; x@dest\.test\r\nAction: failed\r\nStatus: 5\.1\.1/);
    assert.match(dsn.raw, /Content-Type: text\/rfc822-headers[^]*Subject: Keep me/);
    assert.doesNotMatch(dsn.raw, /secret/);
  });
});

describe('per-recipient outcomes', () => {
  test('a 5xx to one RCPT bounces only that recipient (DSN names only it); a 4xx to another defers only that one', async () => {
    const mta = await startScriptedMta({
      starttls: 'refuse-454',
      ehlo: ['PIPELINING', '8BITMIME'],
      rcptReplies: { 'gone@dest.test': '550 5.1.1 <gone@dest.test>: no such user', 'busy@dest.test': '452 4.2.2 Mailbox full' },
    });
    const sender = await startSender(routeTo(mta, (c) => (c.destinationControls.default.tls = 'no')), resolver);
    try {
      const mid = await submit(sender, 'pat@origin.test', ['ok@dest.test', 'gone@dest.test', 'busy@dest.test']);
      await sender.gateway.delivery!.runDue();
      const log = (await sender.mailLog()).join('\n');
      assert.match(log, new RegExp(`Message done DCID \\d+ MID ${mid} to RID \\[0\\]`));
      assert.match(log, new RegExp(`Bounced: DCID \\d+ MID ${mid} to RID 1 - 550 5\\.1\\.1 <gone@dest\\.test>: no such user`));
      assert.match(log, new RegExp(`Delayed: DCID \\d+ MID ${mid} to RID 2 - 452 4\\.2\\.2 Mailbox full`));
      // One message reached the remote, for the accepted recipient only.
      const originals = mta.messages.filter((m) => !m.rcpts.some((r) => r.includes('pat@origin.test')));
      assert.equal(originals.length, 1);
      assert.deepEqual(originals[0]!.rcpts, ['RCPT TO:<ok@dest.test>']);
      const states = sender.gateway.spoolStore.get(mid)!.recipients.map((r) => r.state);
      assert.deepEqual(states, ['delivered', 'bounced', 'pending']);
      // The DSN (delivered in the same pass through the same route) names only the bounced recipient.
      const dsn = mta.messages.find((m) => m.rcpts.includes('RCPT TO:<pat@origin.test>'));
      assert.ok(dsn, 'the DSN went to the sender');
      assert.match(dsn.raw, /Final-Recipient: rfc822; gone@dest\.test\r\nAction: failed\r\nStatus: 5\.1\.1/);
      assert.doesNotMatch(dsn.raw, /Final-Recipient: rfc822; (ok|busy)@dest\.test/);
    } finally {
      await sender.stop();
      await mta.close();
    }
  });
});

describe('queue lifetime on a fake clock', () => {
  test('4xx retries on the schedule, then bounces at the lifetime with a DSN', async () => {
    const mta = await startScriptedMta({ rcpt: '451 4.3.0 Try later', starttls: 'refuse-454', ehlo: ['PIPELINING'] });
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    const sender = await startSender(
      routeTo(mta, (c) => {
        c.queue.retryInitialSeconds = 60;
        c.queue.retryMaxSeconds = 600;
        c.queue.lifetimeHours = 1;
      }),
      resolver,
      { clock },
    );
    try {
      const mid = await submit(sender, 'carol@origin.test', ['late@dest.test']);
      const d = sender.gateway.delivery!;
      await d.runDue();
      const attemptsAt: number[] = [];
      const rec = () => sender.gateway.spoolStore.get(mid)?.recipients[0];
      attemptsAt.push(rec()!.attempts);
      let nextAt = rec()!.nextAttemptAt;
      assert.equal(nextAt - clock.t, 60_000, 'first retry after retryInitialSeconds');
      // Not due yet: nothing happens.
      clock.t += 30_000;
      await d.runDue();
      assert.equal(rec()!.attempts, 1);
      const gaps: number[] = [];
      while (rec()) {
        clock.t = Math.max(clock.t, nextAt);
        await d.runDue();
        const r = rec();
        if (!r) break;
        gaps.push(r.nextAttemptAt - clock.t);
        nextAt = r.nextAttemptAt;
        if (gaps.length > 50) assert.fail('never expired');
      }
      const log = (await sender.mailLog()).join('\n');
      assert.match(log, new RegExp(`Delayed: DCID \\d+ MID ${mid} to RID 0 - 451 4\\.3\\.0 Try later`));
      assert.match(log, new RegExp(`Bounced: DCID [1-9]\\d* MID ${mid} to RID 0 - (451 4\\.3\\.0 Try later \\(queue lifetime of 1 h exceeded\\)|Message expired after 1 h in the queue; last error: 451 4\\.3\\.0 Try later)`));
      assert.ok(gaps.length >= 5, `retries: ${gaps.length}`);
      assert.deepEqual(gaps.slice(0, 4), [120_000, 240_000, 480_000, 600_000], 'doubling from the first retry, capped at retryMaxSeconds');
      assert.match(log, new RegExp(`MID \\d+ DSN generated for MID ${mid}`));
      const rcpts = mta.commands.filter((c) => c === 'RCPT TO:<late@dest.test>').length;
      // 1 h with 60, 120, 240, 480, 600, 600... s between attempts: 1 + about 9 retries, never one per second.
      assert.ok(rcpts >= 6 && rcpts <= 12, `attempts: ${rcpts}`);
    } finally {
      await sender.stop();
      await mta.close();
    }
  });
});

describe('connection reuse', () => {
  /**
   * A plaintext sender routed to a scripted MTA: delivery is paused while `messages` are submitted
   * (from, recipients), then they go in one pass. Returns the MTA for the assertions.
   */
  async function onePass(mtaOptions: Parameters<typeof startScriptedMta>[0], limits: { maxConcurrency: number; maxMessagesPerConnection?: number }, messages: [string, string[]][]): Promise<ScriptedMta> {
    const mta = await startScriptedMta({ starttls: 'refuse-454', ...mtaOptions });
    const sender = await startSender(
      routeTo(mta, (c) => {
        Object.assign(c.destinationControls.default, limits);
        c.destinationControls.default.tls = 'no';
      }),
      resolver,
    );
    try {
      const d = sender.gateway.delivery!;
      await d.stop(0);
      for (const [from, to] of messages) await submit(sender, from, to);
      d.start();
      await d.flush();
      return mta;
    } finally {
      await sender.stop();
      await mta.close();
    }
  }

  test('N messages to one destination use at most ceil(N / maxMessagesPerConnection) x maxConcurrency connections', async () => {
    const n = 100;
    const mta = await onePass({ ehlo: ['PIPELINING', '8BITMIME'] }, { maxConcurrency: 2, maxMessagesPerConnection: 25 }, Array.from({ length: n }, (_, i) => ['s@origin.test', [`r${i}@dest.test`]]));
    assert.equal(mta.messages.length, n);
    assert.ok(mta.connections <= Math.ceil(n / 25) * 2, `connections: ${mta.connections}`);
    assert.ok(mta.connections >= Math.ceil(n / 25), `connections: ${mta.connections}`);
    // Every transaction ended with the reply to its data: the server is ready for MAIL again, no RSET needed.
    assert.equal(mta.commands.filter((c) => c === 'RSET').length, 0, 'no RSET after a completed transaction');
  });

  for (const pipelining of [true, false]) {
    test(`${pipelining ? 'with' : 'without'} PIPELINING: ${pipelining ? "each message's envelope goes out with the previous end of data" : 'one transaction at a time'}, every message delivered once, in order`, async () => {
      const n = 5;
      const mta = await onePass({ ehlo: pipelining ? ['PIPELINING', '8BITMIME'] : ['8BITMIME'] }, { maxConcurrency: 1 }, Array.from({ length: n }, (_, i) => ['', [`p${i}@dest.test`]]));
      assert.equal(mta.connections, 1);
      assert.deepEqual(
        mta.messages.map((m) => m.rcpts.join()),
        Array.from({ length: n }, (_, i) => `RCPT TO:<p${i}@dest.test>`),
      );
      assert.ok(mta.messages.every((m) => m.accepted));
      // RFC 2920 across transactions: the end of data and the next MAIL/RCPT/DATA arrive together.
      const chained = mta.reads.filter((r) => r.includes('\r\n.\r\nMAIL FROM:<>')).length;
      assert.equal(chained, pipelining ? n - 1 : 0, mta.reads.join('|'));
      assert.equal(mta.commands.filter((c) => c === 'RSET').length, 0);
      assert.ok(mta.commands.includes('QUIT'), 'the connection ends with QUIT after the last message');
    });
  }

  test('a transaction left open (every RCPT refused, DATA refused) is reset before the next message on the connection', async () => {
    // From the null sender: the bounce of the refused recipient sends no DSN (no second connection).
    const mta = await onePass({ ehlo: ['PIPELINING', '8BITMIME'], rcptReplies: { 'gone@dest.test': '550 5.1.1 No such user' } }, { maxConcurrency: 1 }, [
      ['', ['gone@dest.test']],
      ['', ['ok1@dest.test']],
      ['', ['ok2@dest.test']],
    ]);
    assert.equal(mta.connections, 1);
    assert.deepEqual(mta.messages.map((m) => m.rcpts.map((r) => r.toLowerCase())), [['rcpt to:<ok1@dest.test>'], ['rcpt to:<ok2@dest.test>']]);
    // MAIL was accepted for the refused message, so that transaction was still open: exactly one RSET, before the next MAIL.
    const verbs = mta.commands.map((c) => c.split(' ')[0]).filter((v) => v === 'RSET' || v === 'MAIL');
    assert.deepEqual(verbs, ['MAIL', 'RSET', 'MAIL', 'MAIL']);
  });
});

describe('restart recovery', () => {
  test('a message stored before a stop is delivered after the next start', async () => {
    const mta = await startScriptedMta({ starttls: 'refuse-454', ehlo: ['PIPELINING'] });
    const first = await startSender(routeTo(mta), resolver, { deliver: false });
    const mid = await submit(first, 'dave@origin.test', ['kept@dest.test']);
    await first.stop();
    assert.equal(mta.messages.length, 0);
    const second = await startTestGateway(() => {}, { home: first.layout.root, resolver, deliver: true });
    try {
      await second.gateway.delivery!.flush();
      assert.equal(mta.messages.length, 1);
      assert.equal(second.gateway.spoolStore.get(mid), undefined, 'finished');
    } finally {
      await second.stop();
      await mta.close();
    }
  });
});

describe('hostile next hops', () => {
  test('STARTTLS response injection: the line sent with the 220 is discarded, the real EHLO is used', async () => {
    const cert = await pki.server(['mx.remote.test']);
    const mta = await startScriptedMta({ starttls: 'inject', cert: { cert: pki.fullChainPem(cert), key: cert.privateKeyPem }, ehloAfterTls: ['8BITMIME'] });
    const sender = await startSender(routeTo(mta, (c) => (c.destinationControls.default.tls = 'required')), resolver);
    try {
      const mid = await submit(sender, 'e@origin.test', ['inj@dest.test']);
      await sender.gateway.delivery!.runDue();
      const text = (await deliveryLines(sender, mid)).join('\n');
      assert.match(text, /STARTTLS: discarded \d+ bytes received before the TLS handshake/);
      assert.match(text, new RegExp(`Message done DCID \\d+ MID ${mid}`));
      assert.equal(mta.messages.length, 1);
      assert.equal(mta.messages[0]!.tls, true);
      // The genuine post-TLS EHLO was sent and answered before MAIL.
      const afterTls = mta.commands.filter((c) => c.startsWith('tls:'));
      assert.match(afterTls[0] ?? '', /^tls:EHLO /);
      assert.match(afterTls[1] ?? '', /^tls:MAIL FROM:<e@origin\.test>/);
    } finally {
      await sender.stop();
      await mta.close();
    }
  });

  for (const [name, raw] of [
    ['8 KB reply line', `250-${'x'.repeat(8192)}\r\n250 OK\r\n`],
    ['mixed codes', '250-hello\r\n550 no\r\n'],
    ['non-digit code', 'abc hello\r\n'],
    ['endless continuation', '250-x\r\n'.repeat(200)],
  ] as const) {
    test(`hostile EHLO reply (${name}): clean Connection Error, deferral, no crash`, async () => {
      const mta = await startScriptedMta({ rawEhlo: raw });
      const sender = await startSender(routeTo(mta), resolver);
      try {
        const mid = await submit(sender, 'f@origin.test', ['h@dest.test']);
        await sender.gateway.delivery!.runDue();
        const text = (await deliveryLines(sender, mid)).join('\n');
        assert.match(text, /Connection Error: DCID \d+ domain: dest\.test IP:127\.0\.0\.1 port: \d+ details: .+ interface: 127\.0\.0\.1 reason: unexpected SMTP response/);
        assert.match(text, new RegExp(`Delayed: DCID \\d+ MID ${mid} to RID 0 - 451 4\\.4\\.2`));
        assert.equal(sender.gateway.spoolStore.get(mid)?.recipients[0]?.state, 'pending');
      } finally {
        await sender.stop();
        await mta.close();
      }
    });
  }

  test('outbound smuggling: bare CR/LF never leave, dots are stuffed, one message per message', async () => {
    const mta = await startScriptedMta({ starttls: 'refuse-454', ehlo: ['PIPELINING', '8BITMIME'] });
    const sender = await startSender(routeTo(mta), resolver);
    try {
      const d = sender.gateway.delivery!;
      await d.stop(0);
      const mid = 900_000;
      // Stored directly (as another ingest path could): bare LF and bare CR before a dot line.
      await sender.gateway.spoolStore.store(
        { mid, icid: 0, receivedAt: Date.now(), from: 's@origin.test', recipients: ['x@dest.test'], listener: 'test', bodyType: '7BIT', tls: null, clientIp: '127.0.0.1' },
        Buffer.from('Subject: s\r\n\r\na\n.\r\nMAIL FROM:<evil@x>\r\nb\r.\r\nRCPT TO:<y@z>\r\n.\r\n..\r\n', 'latin1'),
      );
      d.start();
      await d.flush();
      assert.equal(mta.messages.length, 1);
      assert.ok(!mta.commands.some((c) => /evil|y@z/.test(c)), 'nothing smuggled as a command');
      assert.match(mta.messages[0]!.raw, /\.\.\r\nMAIL FROM:<evil@x>\r\n/);
    } finally {
      await sender.stop();
      await mta.close();
    }
  });
});
