/**
 * Next hops that lie (issue #5 "Bad input"): multi-line replies dribbled one
 * byte per packet, 8 KB and endless reply lines, endless multi-line replies,
 * replies nobody asked for (MAIL answered twice, an extra reply after the end
 * of data on a reused connection), response injection after STARTTLS, a reset
 * in the middle of DATA, and servers that never answer.
 *
 * For each: a clear `Connection Error: ... reason: ...` line in the SPEC §9
 * form, a deferral (the message stays queued), no crash, and once the remote
 * behaves, the message is delivered exactly once (a second flush changes
 * nothing).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import type { OutboundTls } from '../../src/core/tls-levels.js';
import type { DnsResolver } from '../../src/dns/resolver.js';
import type { FakeDns } from '../harness/fake-dns.js';
import type { TestGateway } from '../harness/gateway-fixture.js';
import { createTestPki, type TestPki } from '../harness/pki-fixture.js';
import { deliveryLines, fakeDnsResolver, startScriptedMta, startSender, submit, type ScriptedMta, type ScriptedMtaOptions } from './delivery-fixture.js';

let pki: TestPki;
let dns: FakeDns;
let resolver: DnsResolver;

before(async () => {
  pki = await createTestPki();
  ({ dns, resolver } = await fakeDnsResolver({ 'mx.remote.test': { A: ['127.0.0.1'] } }));
});
after(async () => dns.close());

const ONE_SECOND = { connectMs: 1000, greetingMs: 1000, commandMs: 1000, dataInitMs: 1000, dataDoneMs: 1000, tlsMs: 1000 };

async function senderFor(mta: ScriptedMta, level: OutboundTls, edit: (c: Config) => void = () => {}): Promise<TestGateway> {
  return startSender(
    (c: Config) => {
      c.smtpRoutes = [{ domain: 'ALL', hosts: [`mx.remote.test:${mta.port}`] }];
      c.destinationControls.default.tls = level;
      c.trustStore.custom = [{ name: 'Test Root', certificate: pki.root.certificatePem }];
      edit(c);
    },
    resolver,
    { deliveryTimeouts: ONE_SECOND },
  );
}

/** Accepted deliveries of messages to `address` (what the remote said 2xx to after the data). */
const acceptedFor = (mta: ScriptedMta, address: string): number => mta.messages.filter((m) => m.accepted && m.rcpts.includes(`RCPT TO:<${address}>`)).length;

const PLAIN_EHLO = ['PIPELINING', '8BITMIME', 'SIZE 10000000'];

interface Lie {
  name: string;
  options: ScriptedMtaOptions;
  /** What makes the remote behave again. */
  fixed: Partial<ScriptedMtaOptions>;
  level?: OutboundTls;
  /** The Connection Error line's details and reason. */
  details: RegExp;
  reason: 'unexpected SMTP response' | 'network error' | 'connection timed out';
}

const LIES: Lie[] = [
  {
    name: '8 KB reply line to MAIL',
    options: { ehlo: PLAIN_EHLO, replies: { mail: `250 2.1.0 ${'x'.repeat(8192)}\r\n` } },
    fixed: { replies: undefined },
    details: /reply line longer than 2048 bytes/,
    reason: 'unexpected SMTP response',
  },
  {
    name: 'endless reply line as the greeting (bounded memory)',
    options: { ehlo: PLAIN_EHLO, flood: { at: 'greeting' } },
    fixed: { flood: undefined },
    details: /reply line longer than 2048 bytes/,
    reason: 'unexpected SMTP response',
  },
  {
    name: 'endless multi-line EHLO reply (bounded memory)',
    options: { ehlo: PLAIN_EHLO, flood: { at: 'ehlo', chunk: `${'y'.repeat(1000)}\r\n250-` } },
    fixed: { flood: undefined },
    details: /reply of more than 128 lines|reply longer than 65536 bytes/,
    reason: 'unexpected SMTP response',
  },
  {
    name: 'MAIL answered twice (an injected reply shifts the pipeline)',
    options: { ehlo: PLAIN_EHLO, replies: { mail: '250 2.1.0 Ok\r\n250 2.1.0 Ok again\r\n' } },
    fixed: { replies: undefined },
    // The RCPT's 250 arrives as the reply to DATA: taken for what it is, never for "delivered".
    details: /^250 2\.1\.5 Ok$/,
    reason: 'unexpected SMTP response',
  },
  {
    name: 'connection reset in the middle of DATA',
    options: { ehlo: PLAIN_EHLO, resetInData: true },
    fixed: { resetInData: false },
    details: /ECONNRESET|connection closed by the next hop/,
    reason: 'network error',
  },
  {
    name: 'never answers the greeting',
    options: { ehlo: PLAIN_EHLO, silentAt: 'greeting' },
    fixed: { silentAt: undefined },
    details: /no reply to the greeting within 1 s/,
    reason: 'connection timed out',
  },
  {
    name: 'never answers RCPT',
    options: { ehlo: PLAIN_EHLO, silentAt: 'rcpt' },
    fixed: { silentAt: undefined },
    details: /no reply to RCPT within 1 s/,
    reason: 'connection timed out',
  },
  {
    name: 'never answers the end of data',
    options: { ehlo: PLAIN_EHLO, silentAt: 'end-of-data' },
    fixed: { silentAt: undefined },
    details: /no reply to end of data within 1 s/,
    reason: 'connection timed out',
  },
  {
    name: 'never answers after STARTTLS (TLS required)',
    options: { silentAt: 'mail' },
    fixed: { silentAt: undefined },
    level: 'required',
    details: /no reply to MAIL within 1 s/,
    reason: 'connection timed out',
  },
];

describe('lying next hops: clear error, deferral, later delivered exactly once', () => {
  for (const lie of LIES) {
    test(lie.name, async () => {
      const cert = await pki.server(['mx.remote.test']);
      const options: ScriptedMtaOptions = lie.level && lie.level !== 'no' ? { cert: { cert: pki.fullChainPem(cert), key: cert.privateKeyPem }, ...lie.options } : lie.options;
      const mta = await startScriptedMta(options);
      const sender = await senderFor(mta, lie.level ?? 'no');
      try {
        const d = sender.gateway.delivery!;
        const address = 'victim@dest.test';
        const mid = await submit(sender, 'liar-test@origin.test', [address]);
        await d.runDue();
        const text = (await deliveryLines(sender, mid)).join('\n');
        const m = /Connection Error: DCID \d+ domain: dest\.test IP:127\.0\.0\.1 port: \d+ details: (.+) interface: 127\.0\.0\.1 reason: (.+)$/m.exec(text);
        assert.ok(m, `a Connection Error line:\n${text}`);
        assert.match(m[1]!, lie.details);
        assert.equal(m[2], lie.reason);
        assert.match(text, new RegExp(`Delayed: DCID \\d+ MID ${mid} to RID 0 - 451 4\\.4\\.2 `));
        assert.doesNotMatch(text, /Message done|Bounced/);
        assert.equal(sender.gateway.spoolStore.get(mid)?.recipients[0]?.state, 'pending', 'still queued');
        assert.equal(acceptedFor(mta, address), 0);
        if (lie.options.flood) assert.ok(mta.floodedBytes < 16 * 1024 * 1024, `the client stopped reading early: ${mta.floodedBytes} bytes`);
        if (lie.level === 'required') assert.ok(mta.commands.filter((c) => c.startsWith('MAIL')).every((c) => c.startsWith('tls:')) || !mta.commands.some((c) => c.startsWith('MAIL')));

        // The remote behaves again: delivered, exactly once.
        mta.update(lie.fixed);
        await d.flush();
        assert.equal(acceptedFor(mta, address), 1, 'delivered once');
        assert.equal(sender.gateway.spoolStore.get(mid), undefined, 'finished');
        await d.flush();
        assert.equal(acceptedFor(mta, address), 1, 'and only once');
        const log = (await sender.mailLog()).join('\n');
        assert.equal((log.match(new RegExp(`Message done DCID \\d+ MID ${mid} to RID \\[0\\]`, 'g')) ?? []).length, 1);
      } finally {
        await sender.stop();
        await mta.close();
      }
    });
  }

  test('an extra reply after the end of data: the next message on that connection is deferred, not misread', async () => {
    const mta = await startScriptedMta({ ehlo: PLAIN_EHLO, replies: { 'end-of-data': '250 2.0.0 Ok: queued\r\n250 2.0.0 Ok: queued again\r\n' } });
    // One connection, so the second message follows the first on it.
    const sender = await senderFor(mta, 'no', (c) => (c.destinationControls.default.maxConcurrency = 1));
    try {
      const d = sender.gateway.delivery!;
      await d.stop(0);
      const first = await submit(sender, 's@origin.test', ['one@dest.test']);
      const second = await submit(sender, 's@origin.test', ['two@dest.test']);
      d.start();
      await d.flush();
      const log = (await sender.mailLog()).join('\n');
      assert.match(log, new RegExp(`Message done DCID \\d+ MID ${first} to RID \\[0\\]`));
      // Seen either before MAIL (the extra reply arrived before the next envelope was sent) or, when the
      // next envelope went out with the end of data (pipelining), as replies out of step: DATA answered
      // with a 250 that belonged to RCPT. Either way the second message is not sent.
      assert.match(log, /Connection Error: DCID \d+ domain: dest\.test IP:127\.0\.0\.1 port: \d+ details: (unsolicited reply from the next hop before MAIL|250 2\.1\.5 Ok) interface: 127\.0\.0\.1 reason: unexpected SMTP response/);
      assert.match(log, new RegExp(`Delayed: DCID \\d+ MID ${second} to RID 0 - 451 4\\.4\\.2 .*(unsolicited reply from the next hop before MAIL|unexpected reply to DATA: 250)`));
      assert.equal(acceptedFor(mta, 'two@dest.test'), 0);
      mta.update({ replies: undefined });
      await d.flush();
      await d.flush();
      assert.equal(acceptedFor(mta, 'one@dest.test'), 1);
      assert.equal(acceptedFor(mta, 'two@dest.test'), 1);
    } finally {
      await sender.stop();
      await mta.close();
    }
  });
});

describe('odd but honest next hops: delivered at the first attempt', () => {
  test('every reply dribbled one byte per packet, multi-line greeting and EHLO', async () => {
    const mta = await startScriptedMta({ ehlo: PLAIN_EHLO, dribble: true, replies: { greeting: '220-scripted.test ESMTP\r\n220-a second line\r\n220 ready\r\n' } });
    const sender = await senderFor(mta, 'no');
    try {
      const mid = await submit(sender, 's@origin.test', ['slow@dest.test']);
      await sender.gateway.delivery!.runDue();
      const text = (await deliveryLines(sender, mid)).join('\n');
      assert.match(text, new RegExp(`Message done DCID \\d+ MID ${mid} to RID \\[0\\]`));
      assert.doesNotMatch(text, /Connection Error/);
      assert.equal(acceptedFor(mta, 'slow@dest.test'), 1);
      // SIZE was understood from a reply that arrived one byte at a time.
      assert.match(mta.commands.find((c) => c.startsWith('MAIL')) ?? '', /SIZE=\d+/);
    } finally {
      await sender.stop();
      await mta.close();
    }
  });

  test('dribbled replies inside TLS, with response injection after the STARTTLS 220 (TLS required)', async () => {
    const cert = await pki.server(['mx.remote.test']);
    const mta = await startScriptedMta({ dribble: true, starttls: 'inject', cert: { cert: pki.fullChainPem(cert), key: cert.privateKeyPem } });
    const sender = await senderFor(mta, 'required');
    try {
      const mid = await submit(sender, 's@origin.test', ['tls@dest.test']);
      await sender.gateway.delivery!.runDue();
      const text = (await deliveryLines(sender, mid)).join('\n');
      assert.match(text, /STARTTLS: discarded \d+ bytes received before the TLS handshake/);
      assert.match(text, new RegExp(`Message done DCID \\d+ MID ${mid} to RID \\[0\\]`));
      assert.equal(mta.messages.length, 1);
      assert.equal(mta.messages[0]!.tls, true);
      assert.ok(!mta.commands.some((c) => !c.startsWith('tls:') && /^(MAIL|RCPT)/.test(c)), 'nothing of the envelope in plaintext');
    } finally {
      await sender.stop();
      await mta.close();
    }
  });
});
