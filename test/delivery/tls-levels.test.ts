/**
 * Every outbound TLS level (SPEC §5.2) against every remote behaviour:
 *
 * * certificates: a receiving gateway with plaintext, trusted, untrusted-root,
 *   wrong-name and expired-certificate listeners; scripted MTAs that refuse
 *   STARTTLS (454) or fail the handshake; and scripted MTAs presenting
 *   certificates from a CA made with the real `openssl` in this test (good
 *   chain, leaf without its intermediate, expired, wrong name, self-signed);
 * * replies: scripted MTAs (trusted openssl certificate) answering 4xx or 5xx
 *   at each stage: greeting, EHLO (and HELO), MAIL, RCPT, DATA, end of data.
 *
 * Asserts delivered over TLS / delivered in plaintext with the downgrade
 * logged / deferred with the required-TLS line, and for the reply stages:
 * 4xx deferred (pending, next attempt scheduled), 5xx bounced with an RFC 3464
 * DSN delivered to the envelope sender. Nothing is ever delivered, nor a
 * recipient named, in plaintext where TLS is required.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import type { OutboundTls } from '../../src/core/tls-levels.js';
import { createOpensslCa, openssl, type IssuedFiles, type OpensslCa } from '../certificates/openssl-ca.js';
import type { FakeDns } from '../harness/fake-dns.js';
import type { TestGateway } from '../harness/gateway-fixture.js';
import { createTestPki, type TestPki } from '../harness/pki-fixture.js';
import { deliveryLines, fakeDnsResolver, received, startReceiver, startScriptedMta, startSender, submit, type MtaStage, type ScriptedMta } from './delivery-fixture.js';

/** Remotes that differ in what they do with TLS. */
type CertRemote = 'plain' | 'good' | 'untrusted' | 'mismatch' | 'expired' | 'refuse' | 'broken' | 'ossl-good' | 'ossl-no-intermediate' | 'ossl-expired' | 'ossl-wrong-name' | 'self-signed';
/** Remotes with a trusted certificate that refuse at one stage. */
type StageName = 'greeting' | 'ehlo' | 'mail' | 'rcpt' | 'data' | 'eod';
type StageRemote = `${StageName}-${'4xx' | '5xx'}`;
type Remote = CertRemote | StageRemote;

const RECEIVER_REMOTES = ['plain', 'good', 'untrusted', 'mismatch', 'expired'] as const;
const OPENSSL_REMOTES = ['ossl-good', 'ossl-no-intermediate', 'ossl-expired', 'ossl-wrong-name', 'self-signed'] as const;
const CERT_REMOTES: CertRemote[] = [...RECEIVER_REMOTES, 'refuse', 'broken', ...OPENSSL_REMOTES];
const STAGES: StageName[] = ['greeting', 'ehlo', 'mail', 'rcpt', 'data', 'eod'];
const STAGE_REMOTES: StageRemote[] = STAGES.flatMap((s) => [`${s}-4xx`, `${s}-5xx`] as StageRemote[]);
const REMOTES: Remote[] = [...CERT_REMOTES, ...STAGE_REMOTES];
const LEVELS: OutboundTls[] = ['no', 'preferred', 'required', 'preferred-verify', 'required-verify', 'required-verify-hosted'];
const REQUIRED: OutboundTls[] = ['required', 'required-verify', 'required-verify-hosted'];

/** The scripted replies of each stage remote. */
const STAGE_REPLIES: Record<StageRemote, Partial<Record<MtaStage, string>>> = {
  'greeting-4xx': { greeting: '421 4.3.2 Service not available, try later\r\n' },
  'greeting-5xx': { greeting: '554 5.7.1 No SMTP service here\r\n' },
  'ehlo-4xx': { ehlo: '421 4.7.0 Too busy, try later\r\n' },
  'ehlo-5xx': { ehlo: '550 5.7.1 Go away\r\n', helo: '550 5.7.1 Go away\r\n' },
  'mail-4xx': { mail: '451 4.3.0 Temporary MAIL failure\r\n' },
  'mail-5xx': { mail: '553 5.7.1 Sender rejected\r\n' },
  'rcpt-4xx': { rcpt: '450 4.2.0 Mailbox busy\r\n' },
  'rcpt-5xx': { rcpt: '550 5.1.1 No such user\r\n' },
  'data-4xx': { data: '451 4.3.0 Not now\r\n' },
  'data-5xx': { data: '554 5.6.0 Transaction failed\r\n' },
  'eod-4xx': { 'end-of-data': '452 4.3.1 Insufficient storage\r\n' },
  'eod-5xx': { 'end-of-data': '550 5.7.1 Content rejected\r\n' },
};

let pki: TestPki;
let ca: OpensslCa;
let dns: FakeDns;
let receiver: TestGateway;
let sender: TestGateway;
let dsnSink: ScriptedMta;
const mtas = new Map<Remote, ScriptedMta>();

/** Recipient domain for a level × remote: `<level>.<remote>.test`. */
const domainOf = (level: OutboundTls, remote: Remote): string => `${level}.${remote}.test`;
const read = (f: IssuedFiles): { cert: string; key: string } => ({ cert: fs.readFileSync(f.cert, 'utf8'), key: fs.readFileSync(f.key, 'utf8') });

before(async () => {
  pki = await createTestPki();
  ca = createOpensslCa();
  const intermediatePem = fs.readFileSync(ca.intermediate.cert, 'utf8');
  const withIntermediate = (f: IssuedFiles): { cert: string; key: string } => {
    const r = read(f);
    return { cert: r.cert + intermediatePem, key: r.key };
  };
  const selfSignedKey = ca.file('self-signed.key');
  const selfSignedCert = ca.file('self-signed.crt');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', selfSignedKey, '-out', selfSignedCert, '-subj', '/CN=mx.self-signed.test', '-addext', 'subjectAltName=DNS:mx.self-signed.test', '-days', '30']);
  const openssl_certs: Record<(typeof OPENSSL_REMOTES)[number], { cert: string; key: string }> = {
    'ossl-good': withIntermediate(ca.leaf(['mx.ossl-good.test'])),
    // The leaf alone: the client cannot build the chain to the trusted root.
    'ossl-no-intermediate': read(ca.leaf(['mx.ossl-no-intermediate.test'])),
    'ossl-expired': withIntermediate(ca.leaf(['mx.ossl-expired.test'], { start: '20200101000000Z', end: '20210101000000Z' })),
    'ossl-wrong-name': withIntermediate(ca.leaf(['wrong.example'])),
    'self-signed': read({ key: selfSignedKey, cert: selfSignedCert }),
  };
  const stageCert = withIntermediate(ca.leaf(STAGE_REMOTES.map((r) => `mx.${r}.test`)));

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
  mtas.set('refuse', await startScriptedMta({ starttls: 'refuse-454' }));
  mtas.set('broken', await startScriptedMta({ starttls: 'handshake-failure' }));
  for (const r of OPENSSL_REMOTES) mtas.set(r, await startScriptedMta({ cert: openssl_certs[r] }));
  for (const r of STAGE_REMOTES) mtas.set(r, await startScriptedMta({ cert: stageCert, replies: STAGE_REPLIES[r] }));
  dsnSink = await startScriptedMta({ ehlo: ['PIPELINING', '8BITMIME'] });
  const port = (r: Remote): number => {
    if ((RECEIVER_REMOTES as readonly string[]).includes(r)) return receiver.port(r[0]!.toUpperCase() + r.slice(1));
    return mtas.get(r)!.port;
  };
  const zone: Record<string, { A: string[] }> = { 'mx.sink.test': { A: ['127.0.0.1'] } };
  for (const r of REMOTES) zone[`mx.${r}.test`] = { A: ['127.0.0.1'] };
  const fake = await fakeDnsResolver(zone);
  dns = fake.dns;
  sender = await startSender((c: Config) => {
    c.trustStore.custom = [
      { name: 'Test Root', certificate: pki.root.certificatePem },
      { name: 'OpenSSL Test Root', certificate: fs.readFileSync(ca.root.cert, 'utf8') },
    ];
    // Deferred recipients are not retried while the matrix runs (the schedule is asserted instead).
    c.queue.retryInitialSeconds = 3600;
    c.smtpRoutes = [...REMOTES.map((r) => ({ domain: `.${r}.test`, hosts: [`mx.${r}.test:${port(r)}`] })), { domain: 'origin.test', hosts: [`mx.sink.test:${dsnSink.port}`] }];
    c.destinationControls.domains = [
      ...REMOTES.flatMap((r) => LEVELS.map((level) => ({ ...c.destinationControls.default, domain: domainOf(level, r), tls: level }))),
      { ...c.destinationControls.default, domain: 'origin.test', tls: 'no' as const },
    ];
  }, fake.resolver);
});

after(async () => {
  await sender?.stop();
  await receiver?.stop();
  for (const m of mtas.values()) await m.close();
  await dsnSink?.close();
  await dns?.close();
  ca?.cleanup();
});

type TlsExpect = 'tls' | 'plaintext' | 'plaintext-downgraded' | 'deferred';

const isStage = (r: Remote): r is StageRemote => (STAGE_REMOTES as string[]).includes(r);
const trusted = (r: Remote): boolean => r === 'good' || r === 'ossl-good' || isStage(r);

/** SPEC §5.2 as a table: what each level does with each certificate behaviour. */
function expected(level: OutboundTls, remote: Remote): TlsExpect {
  const required = REQUIRED.includes(level);
  const mustVerify = level === 'required-verify' || level === 'required-verify-hosted';
  if (level === 'no') return 'plaintext';
  if (remote === 'plain' || remote === 'refuse' || remote === 'broken') return required ? 'deferred' : 'plaintext-downgraded';
  if (mustVerify && !trusted(remote)) return 'deferred';
  return 'tls';
}

async function run(level: OutboundTls, remote: Remote): Promise<{ mid: number; lines: string[]; address: string }> {
  const address = `user@${domainOf(level, remote)}`;
  const mid = await submit(sender, 'sender@origin.test', [address]);
  await sender.gateway.delivery!.runDue();
  return { mid, lines: await deliveryLines(sender, mid), address };
}

/** Messages the remote accepted for `address`, and whether each came over TLS. */
function arrivedAt(remote: Remote, address: string): { tls: boolean }[] {
  const mta = mtas.get(remote);
  if (mta) return mta.messages.filter((m) => m.accepted && m.rcpts.some((r) => r.includes(`<${address}>`))).map((m) => ({ tls: m.tls }));
  return received(receiver, address).map((m) => ({ tls: m.tls !== null }));
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function assertTlsLines(level: OutboundTls, remote: Remote, text: string): void {
  if (level !== 'no' && remote === 'plain') assert.match(text, /DCID \d+ STARTTLS command not supported\./);
  if (level !== 'no' && remote === 'refuse') assert.match(text, /DCID \d+ TLS failed: STARTTLS unexpected response/);
  if (level !== 'no' && remote === 'broken') assert.match(text, /DCID \d+ TLS failed: \S/);
  if (level === 'preferred' && remote === 'broken') {
    assert.match(text, /DCID \d+ TLS downgraded to plaintext: TLS handshake failed: /);
    assert.equal((text.match(/New SMTP DCID/g) ?? []).length, 2, 'one plaintext retry on a new connection');
  }
  const verifying = level === 'preferred-verify' || level === 'required-verify' || level === 'required-verify-hosted';
  // The route host is the MX here, so the hosted level tries the same two names.
  const tried = (name: string): string => `${escape(domainOf(level, remote))}, mx\\.${escape(remote)}\\.test; presented DNS:${escape(name)}`;
  if (verifying && (remote === 'good' || remote === 'ossl-good')) assert.match(text, new RegExp(`DCID \\d+ TLS certificate verified: matched mx\\.${escape(remote)}\\.test$`, 'm'));
  if (verifying && remote === 'untrusted') assert.match(text, /DCID \d+ TLS certificate verification failed: .*(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/);
  if (verifying && remote === 'ossl-no-intermediate') assert.match(text, /DCID \d+ TLS certificate verification failed: .*(UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/);
  if (verifying && remote === 'self-signed') assert.match(text, /DCID \d+ TLS certificate verification failed: .*DEPTH_ZERO_SELF_SIGNED_CERT/);
  if (verifying && remote === 'mismatch') assert.match(text, new RegExp(`DCID \\d+ TLS certificate verification failed: certificate name mismatch: tried ${tried('wrong.example')}`));
  if (verifying && remote === 'ossl-wrong-name') assert.match(text, new RegExp(`DCID \\d+ TLS certificate verification failed: certificate name mismatch: tried ${tried('wrong.example')}`));
  if (verifying && (remote === 'expired' || remote === 'ossl-expired')) assert.match(text, /DCID \d+ TLS certificate verification failed: certificate has expired \(CERT_HAS_EXPIRED\)/);
  if (!verifying) assert.doesNotMatch(text, /certificate verif/);
}

describe('outbound TLS level × certificate behaviour (SPEC §5.2)', () => {
  for (const level of LEVELS) {
    for (const remote of CERT_REMOTES) {
      const want = expected(level, remote);
      test(`${level} × ${remote} → ${want}`, async () => {
        const { mid, lines, address } = await run(level, remote);
        const text = lines.join('\n');
        const arrived = arrivedAt(remote, address);
        assert.ok(lines.some((l) => l.startsWith('New SMTP DCID')), `a connection was made:\n${text}`);
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
        assertTlsLines(level, remote, text);
      });
    }
  }
});

describe('outbound TLS level × 4xx/5xx at each stage', () => {
  for (const level of LEVELS) {
    for (const remote of STAGE_REMOTES) {
      const stage = remote.slice(0, remote.indexOf('-')) as StageName;
      const permanent = remote.endsWith('5xx');
      const beforeTls = stage === 'greeting' || stage === 'ehlo';
      const channel = beforeTls ? 'none' : expected(level, remote);
      test(`${level} × ${remote} → ${channel === 'none' ? 'refused before TLS' : channel}, ${permanent ? 'bounced with a DSN' : 'deferred'}`, async () => {
        const { mid, lines, address } = await run(level, remote);
        const text = lines.join('\n');
        const mta = mtas.get(remote)!;
        assert.equal(arrivedAt(remote, address).length, 0, `nothing accepted:\n${text}`);
        const named = mta.commands.filter((c) => c.includes(`<${address}>`));
        if (channel === 'none') {
          assert.equal(named.length, 0, 'the recipient was never named');
          assert.doesNotMatch(text, /TLS success|Delivery start/);
          assert.match(text, new RegExp(`Connection Error: DCID \\d+ domain: ${escape(domainOf(level, remote))} IP:127\\.0\\.0\\.1 port: \\d+ details: ${permanent ? '5' : '4'}\\d\\d .* interface: 127\\.0\\.0\\.1 reason: unexpected SMTP response`));
        } else {
          assert.ok(named.length > 0, `the transaction reached the remote:\n${text}`);
          assert.ok(
            named.every((c) => c.startsWith('tls:') === (channel === 'tls')),
            `${channel}: ${named.join(', ')}`,
          );
          if (channel === 'tls') assert.match(text, /DCID \d+ TLS success protocol TLSv1\.[23] cipher \S+/);
          assert.match(text, new RegExp(`Delivery start DCID \\d+ MID ${mid} to RID \\[0\\]`));
          assert.doesNotMatch(text, /Message done/);
          assertTlsLines(level, remote, text);
        }
        const code = (STAGE_REPLIES[remote][stage === 'eod' ? 'end-of-data' : stage] ?? '').slice(0, 9);
        if (!permanent) {
          assert.match(text, new RegExp(`Delayed: DCID \\d+ MID ${mid} to RID 0 - ${beforeTls ? '451 4\\.4\\.2' : escape(code)}`));
          assert.doesNotMatch(text, /Bounced:/);
          const r = sender.gateway.spoolStore.get(mid)?.recipients[0];
          assert.equal(r?.state, 'pending', 'still queued');
          assert.equal(r?.attempts, 1);
          assert.ok(r.nextAttemptAt > Date.now() + 3_000_000, 'retry scheduled (retryInitialSeconds)');
        } else {
          assert.match(text, new RegExp(`Bounced: DCID \\d+ MID ${mid} to RID 0 - ${escape(code)}`));
          assert.doesNotMatch(text, /Delayed:/);
          assert.equal(sender.gateway.spoolStore.get(mid), undefined, 'finished');
          assert.match(text, new RegExp(`MID \\d+ DSN generated for MID ${mid}$`, 'm'));
          const dsn = dsnSink.messages.filter((m) => m.raw.includes(`Final-Recipient: rfc822; ${address}\r\n`));
          assert.equal(dsn.length, 1, 'one DSN reached the sender');
          assert.deepEqual(dsn[0]!.rcpts, ['RCPT TO:<sender@origin.test>']);
          assert.match(dsn[0]!.raw, new RegExp(`Action: failed\\r\\nStatus: ${escape(code.slice(4, 9))}`));
          assert.match(dsn[0]!.raw, /Content-Type: multipart\/report; report-type=delivery-status;/);
        }
      });
    }
  }
});

describe('invariants over the whole matrix', () => {
  test('nothing was delivered, and no recipient named, in plaintext under a required level', () => {
    for (const level of REQUIRED) {
      for (const remote of REMOTES) {
        const address = `user@${domainOf(level, remote)}`;
        for (const m of arrivedAt(remote, address)) assert.equal(m.tls, true, `${level} × ${remote}`);
        const mta = mtas.get(remote);
        if (mta) for (const c of mta.commands.filter((x) => x.includes(`<${address}>`))) assert.ok(c.startsWith('tls:'), `${level} × ${remote}: ${c}`);
      }
    }
    // The sink's MAIL FROM:<> DSNs were the only mail from the null sender.
    assert.equal(dsnSink.commands.filter((c) => c.startsWith('MAIL FROM:<>')).length, 6 * LEVELS.length);
  });

  test('counters: downgrades and required failures are counted', () => {
    const c = sender.gateway.delivery!.counters;
    // preferred and preferred-verify × (plain, refuse, broken) = 6 downgrades.
    assert.equal(c.downgrades, 6);
    // required levels × (plain, refuse, broken) = 9, plus required-verify(-hosted) × the 7 untrusted certificates = 14.
    assert.equal(c.requiredTlsFailures, 23);
    assert.equal(c.unverifiedContinued, 7, 'preferred-verify × the 7 untrusted certificates');
    assert.equal(c.dsns, 6 * LEVELS.length);
  });

  test('retried: once the 4xx remotes behave, every deferred message is delivered exactly once, under its TLS level; TLS-required deferrals stay queued', async () => {
    for (const r of STAGE_REMOTES) mtas.get(r)!.update({ replies: undefined });
    await sender.gateway.delivery!.flush();
    for (const level of LEVELS) {
      for (const remote of STAGE_REMOTES.filter((r) => r.endsWith('4xx'))) {
        const address = `user@${domainOf(level, remote)}`;
        const arrived = arrivedAt(remote, address);
        assert.equal(arrived.length, 1, `${level} × ${remote} delivered once`);
        assert.equal(arrived[0]!.tls, expected(level, remote) === 'tls', `${level} × ${remote} encrypted`);
      }
      for (const remote of CERT_REMOTES.filter((r) => expected(level, r) === 'deferred')) {
        const address = `user@${domainOf(level, remote)}`;
        assert.equal(arrivedAt(remote, address).length, 0, `${level} × ${remote} still not delivered`);
        const queued = sender.gateway.spoolStore.list().filter((m) => m.recipients.some((x) => x.address === address && x.state === 'pending'));
        assert.equal(queued.length, 1, `${level} × ${remote} still queued`);
        assert.equal(queued[0]!.recipients[0]!.attempts, 2, 'tried again');
      }
    }
  });
});
