/**
 * Every outbound TLS level (SPEC §5.2) against real remote behaviours: a
 * receiving gateway with plaintext, trusted, untrusted-root, wrong-name and
 * expired-certificate listeners, and scripted MTAs that refuse STARTTLS (454)
 * or fail the handshake. Asserts delivered over TLS / delivered in plaintext
 * with the downgrade logged / deferred with the required-TLS line, and the
 * exact log lines. Nothing is ever delivered in plaintext where TLS is required.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import type { OutboundTls } from '../../src/core/tls-levels.js';
import type { FakeDns } from '../harness/fake-dns.js';
import type { TestGateway } from '../harness/gateway-fixture.js';
import { createTestPki, type TestPki } from '../harness/pki-fixture.js';
import { deliveryLines, fakeDnsResolver, received, startReceiver, startScriptedMta, startSender, submit, type ScriptedMta } from './delivery-fixture.js';

type Remote = 'plain' | 'good' | 'untrusted' | 'mismatch' | 'expired' | 'refuse' | 'broken';
const REMOTES: Remote[] = ['plain', 'good', 'untrusted', 'mismatch', 'expired', 'refuse', 'broken'];
const LEVELS: OutboundTls[] = ['no', 'preferred', 'required', 'preferred-verify', 'required-verify', 'required-verify-hosted'];

let pki: TestPki;
let dns: FakeDns;
let receiver: TestGateway;
let sender: TestGateway;
let refuse: ScriptedMta;
let broken: ScriptedMta;

/** Recipient domain for a level × remote: `<level>.<remote>.test`. */
const domainOf = (level: OutboundTls, remote: Remote): string => `${level}.${remote}.test`;

before(async () => {
  pki = await createTestPki();
  const good = await pki.server(['mx.good.test']);
  receiver = await startReceiver(
    [
      { name: 'Plain', rat: '.plain.test', tls: 'off' },
      { name: 'Good', rat: '.good.test', tls: 'preferred', cert: good },
      { name: 'Untrusted', rat: '.untrusted.test', tls: 'preferred', cert: await pki.server(['mx.untrusted.test'], { issuer: 'otherRoot' }) },
      { name: 'Mismatch', rat: '.mismatch.test', tls: 'preferred', cert: await pki.server(['wrong.example']) },
      {
        name: 'Expired',
        rat: '.expired.test',
        tls: 'preferred',
        cert: await pki.server(['mx.expired.test'], { notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) }),
      },
    ],
    (c) => c.chainPem,
  );
  refuse = await startScriptedMta({ starttls: 'refuse-454' });
  broken = await startScriptedMta({ starttls: 'handshake-failure' });
  const ports: Record<Remote, number> = {
    plain: receiver.port('Plain'),
    good: receiver.port('Good'),
    untrusted: receiver.port('Untrusted'),
    mismatch: receiver.port('Mismatch'),
    expired: receiver.port('Expired'),
    refuse: refuse.port,
    broken: broken.port,
  };
  const zone: Record<string, { A: string[] }> = {};
  for (const r of REMOTES) zone[`mx.${r}.test`] = { A: ['127.0.0.1'] };
  const fake = await fakeDnsResolver(zone);
  dns = fake.dns;
  sender = await startSender((c: Config) => {
    c.trustStore.custom = [{ name: 'Test Root', certificate: pki.root.certificatePem }];
    c.smtpRoutes = REMOTES.map((r) => ({ domain: `.${r}.test`, hosts: [`mx.${r}.test:${ports[r]}`] }));
    c.destinationControls.domains = REMOTES.flatMap((r) => LEVELS.map((level) => ({ ...c.destinationControls.default, domain: domainOf(level, r), tls: level })));
  }, fake.resolver);
});

after(async () => {
  await sender?.stop();
  await receiver?.stop();
  await refuse?.close();
  await broken?.close();
  await dns?.close();
});

type Expect = 'tls' | 'plaintext' | 'plaintext-downgraded' | 'deferred';

/** SPEC §5.2 as a table: what each level does with each remote. */
function expected(level: OutboundTls, remote: Remote): Expect {
  const required = level === 'required' || level === 'required-verify' || level === 'required-verify-hosted';
  const mustVerify = level === 'required-verify' || level === 'required-verify-hosted';
  if (level === 'no') return 'plaintext';
  if (remote === 'plain' || remote === 'refuse' || remote === 'broken') return required ? 'deferred' : 'plaintext-downgraded';
  if (mustVerify && remote !== 'good') return 'deferred';
  return 'tls';
}

async function run(level: OutboundTls, remote: Remote): Promise<{ mid: number; lines: string[]; address: string }> {
  const address = `user@${domainOf(level, remote)}`;
  const mid = await submit(sender, 'sender@origin.test', [address]);
  await sender.gateway.delivery!.runDue();
  return { mid, lines: await deliveryLines(sender, mid), address };
}

function arrivedAt(remote: Remote, address: string): { tls: boolean }[] {
  if (remote === 'refuse') return refuse.messages.filter((m) => m.rcpts.some((r) => r.includes(address))).map((m) => ({ tls: m.tls }));
  if (remote === 'broken') return broken.messages.filter((m) => m.rcpts.some((r) => r.includes(address))).map((m) => ({ tls: m.tls }));
  return received(receiver, address).map((m) => ({ tls: m.tls !== null }));
}

describe('outbound TLS level × remote behaviour (SPEC §5.2)', () => {
  for (const level of LEVELS) {
    for (const remote of REMOTES) {
      const want = expected(level, remote);
      test(`${level} × ${remote} → ${want}`, async () => {
        const { mid, lines, address } = await run(level, remote);
        const text = lines.join('\n');
        const arrived = arrivedAt(remote, address);
        const dcid = /DCID (\d+)/.exec(lines.find((l) => l.startsWith('New SMTP DCID')) ?? '')?.[1];
        assert.ok(dcid, `a connection was made:\n${text}`);
        assert.match(text, /New SMTP DCID \d+ interface 127\.0\.0\.1 address 127\.0\.0\.1 port \d+/);
        if (want === 'deferred') {
          assert.equal(arrived.length, 0, `nothing delivered:\n${text}`);
          assert.match(text, /DCID \d+ IP 127\.0\.0\.1 TLS was required but could not be successfully negotiated/);
          assert.match(text, new RegExp(`Delayed: DCID \\d+ MID ${mid} to RID 0 - 454 4\\.7\\.[45] TLS was required`));
          assert.doesNotMatch(text, /MAIL FROM|Message done/);
          const r = sender.gateway.spoolStore.get(mid)?.recipients[0];
          assert.equal(r?.state, 'pending');
          assert.equal(r?.attempts, 1);
        } else {
          assert.equal(arrived.length, 1, `delivered exactly once:\n${text}`);
          assert.match(text, new RegExp(`Delivery start DCID \\d+ MID ${mid} to RID \\[0\\]`));
          assert.match(text, new RegExp(`Message done DCID \\d+ MID ${mid} to RID \\[0\\]`));
          assert.equal(arrived[0]!.tls, want === 'tls', `encrypted: ${String(arrived[0]!.tls)}\n${text}`);
          if (want === 'tls') assert.match(text, /DCID \d+ TLS success protocol TLSv1\.[23] cipher \S+/);
          if (want === 'plaintext') assert.doesNotMatch(text, /TLS|STARTTLS/);
          if (want === 'plaintext-downgraded') assert.match(text, /DCID \d+ TLS downgraded to plaintext: \S/);
          assert.match(text, /DCID \d+ close/);
        }
        // Exact lines per remote behaviour.
        if (level !== 'no' && remote === 'plain') assert.match(text, /DCID \d+ STARTTLS command not supported\./);
        if (level !== 'no' && remote === 'refuse') assert.match(text, /DCID \d+ TLS failed: STARTTLS unexpected response/);
        if (level !== 'no' && remote === 'broken') assert.match(text, /DCID \d+ TLS failed: \S/);
        if (level === 'preferred' && remote === 'broken') {
          assert.match(text, /DCID \d+ TLS downgraded to plaintext: TLS handshake failed: /);
          assert.equal((text.match(/New SMTP DCID/g) ?? []).length, 2, 'one plaintext retry on a new connection');
        }
        const verifying = level === 'preferred-verify' || level === 'required-verify' || level === 'required-verify-hosted';
        if (verifying && remote === 'good') assert.match(text, /DCID \d+ TLS certificate verified: matched mx\.good\.test$/m);
        if (verifying && remote === 'untrusted') assert.match(text, /DCID \d+ TLS certificate verification failed: .*(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/);
        if (verifying && remote === 'mismatch') {
          assert.match(text, new RegExp(`DCID \\d+ TLS certificate verification failed: certificate name mismatch: tried ${domainOf(level, remote).replace(/\./g, '\\.')}, mx\\.mismatch\\.test; presented DNS:wrong\\.example`));
        }
        if (verifying && remote === 'expired') assert.match(text, /DCID \d+ TLS certificate verification failed: certificate has expired \(CERT_HAS_EXPIRED\)/);
        if (!verifying) assert.doesNotMatch(text, /certificate verif/);
      });
    }
  }

  test('counters: downgrades and required failures are counted', () => {
    const c = sender.gateway.delivery!.counters;
    // preferred and preferred-verify × (plain, refuse, broken) = 6 downgrades.
    assert.equal(c.downgrades, 6);
    // required levels × (plain, refuse, broken) = 9, plus required-verify(-hosted) × (untrusted, mismatch, expired) = 6.
    assert.equal(c.requiredTlsFailures, 15);
    assert.equal(c.unverifiedContinued, 3, 'preferred-verify × untrusted, mismatch, expired');
  });
});
