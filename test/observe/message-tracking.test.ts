/**
 * Message tracking end to end (SPEC §9 `track`): a sending gateway delivers
 * one message over verified TLS, one that the next hop defers (451 to RCPT,
 * no STARTTLS) and one it bounces (550, with a DSN back to the sender). The
 * stories rebuilt from the JSON mail log must hold the inbound connection,
 * sender group and policy, each attempt with its TLS facts, the DSN link and
 * the final outcome; --from / --to find them; the CLI prints and exits as
 * documented.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FakeDns } from '../harness/fake-dns.js';
import type { TestGateway } from '../harness/gateway-fixture.js';
import { runCli } from '../harness/gateway-process.js';
import { createTestPki } from '../harness/pki-fixture.js';
import { fakeDnsResolver, startScriptedMta, startSender, submit, type ScriptedMta } from '../delivery/delivery-fixture.js';
import { trackMessages, type DeliveryAttemptStory, type MessageStory } from '../../src/services/message-tracking.js';

let dns: FakeDns;
let ok: ScriptedMta;
let defer: ScriptedMta;
let bounce: ScriptedMta;
let broken: ScriptedMta;
let retried: number;
let sender: TestGateway;
let delivered: number;
let deferred: number;
let bounced: number;

before(async () => {
  const pki = await createTestPki();
  const okCert = await pki.server(['mx.ok.test']);
  ok = await startScriptedMta({ starttls: 'tls', cert: { cert: pki.fullChainPem(okCert), key: okCert.privateKeyPem } });
  defer = await startScriptedMta({ ehlo: ['PIPELINING', '8BITMIME'], rcpt: '451 4.2.0 Mailbox busy, try later' });
  bounce = await startScriptedMta({ ehlo: ['PIPELINING', '8BITMIME'], rcpt: '550 5.1.1 No such user', acceptDomain: 'origin.test' });
  broken = await startScriptedMta({ starttls: 'handshake-failure' });
  const fake = await fakeDnsResolver({ 'mx.broken.test': { A: ['127.0.0.1'] }, 'mx.ok.test': { A: ['127.0.0.1'] }, 'mx.defer.test': { A: ['127.0.0.1'] }, 'mx.bounce.test': { A: ['127.0.0.1'] } });
  dns = fake.dns;
  sender = await startSender((c) => {
    c.trustStore.custom = [{ name: 'Test Root', certificate: pki.root.certificatePem }];
    c.smtpRoutes = [
      { domain: 'ok.test', hosts: [`mx.ok.test:${ok.port}`] },
      { domain: 'defer.test', hosts: [`mx.defer.test:${defer.port}`] },
      { domain: 'bounce.test', hosts: [`mx.bounce.test:${bounce.port}`] },
      { domain: 'origin.test', hosts: [`mx.bounce.test:${bounce.port}`] },
      { domain: 'broken.test', hosts: [`mx.broken.test:${broken.port}`] },
    ];
    c.destinationControls.domains = [{ ...c.destinationControls.default, domain: 'ok.test', tls: 'preferred-verify' }];
    c.queue.retryInitialSeconds = 3600;
  }, fake.resolver);
  delivered = await submit(sender, 'alice@origin.test', ['user@ok.test']);
  await sender.gateway.delivery!.runDue();
  deferred = await submit(sender, 'alice@origin.test', ['user@defer.test']);
  await sender.gateway.delivery!.runDue();
  bounced = await submit(sender, 'Alice@Origin.test', ['nobody@bounce.test']);
  await sender.gateway.delivery!.runDue(); // bounce + DSN stored
  await sender.gateway.delivery!.runDue(); // DSN delivered
  retried = await submit(sender, 'carol@origin.test', ['user@broken.test']);
  await sender.gateway.delivery!.runDue();
  await sender.gateway.log.flush();
});

after(async () => {
  await sender?.stop();
  await Promise.all([ok?.close(), defer?.close(), bounce?.close(), broken?.close()]);
  await dns?.close();
});

async function one(mid: number): Promise<MessageStory> {
  const stories = await trackMessages(sender.layout.root, { mid });
  assert.equal(stories.length, 1);
  return stories[0]!;
}

describe('trackMessages', () => {
  test('a delivered message: inbound connection, policy, sender, the TLS attempt, outcome', async () => {
    const s = await one(delivered);
    assert.equal(s.outcome, 'delivered');
    assert.equal(s.connection?.listener, 'OutgoingMail');
    assert.equal(s.connection?.ip, '127.0.0.1');
    assert.equal(s.connection?.reverseDns, 'localhost');
    assert.equal(s.connection?.reverseDnsVerified, true);
    assert.deepEqual(s.senderGroup && { group: s.senderGroup.group, behavior: s.senderGroup.behavior, policy: s.senderGroup.policy, tls: s.senderGroup.tls }, {
      group: 'RELAYLIST',
      behavior: 'RELAY',
      policy: 'RELAYED',
      tls: 'preferred',
    });
    assert.equal(s.tlsIn?.status, 'plaintext');
    assert.equal(s.from, 'alice@origin.test');
    assert.deepEqual(s.recipients, [{ rid: 0, to: 'user@ok.test', status: 'delivered', reason: null }]);
    assert.ok(s.bytes !== null && s.bytes > 0);
    assert.equal(s.attempts.length, 1);
    const a = s.attempts[0]!;
    assert.equal(a.domain, 'ok.test');
    assert.equal(a.host, 'mx.ok.test');
    assert.equal(a.port, ok.port);
    assert.equal(a.tlsWanted, 'preferred-verify');
    assert.equal(a.destination, 'ok.test');
    assert.match(a.tls?.protocol ?? '', /^TLSv1\.[23]$/);
    assert.deepEqual(a.verification, { verified: true, identifier: a.verification?.verified ? a.verification.identifier : '' });
    assert.match(a.verification?.verified ? a.verification.identifier : '', /ok\.test/);
    assert.deepEqual([a.started, a.delivered, a.delayed, a.bounced], [[0], [0], [], []]);
    assert.deepEqual(s.dsns, []);
    const texts = s.lines.map((l) => l.text);
    assert.ok(texts.includes(`Start MID ${delivered} ICID ${s.connection!.icid}`));
    assert.ok(texts.some((t) => t === `Message done DCID ${a.dcid} MID ${delivered} to RID [0]`));
    assert.ok(texts.some((t) => t === `DCID ${a.dcid} close`));
    assert.ok(!texts.some((t) => /MID (\d+)/.exec(t) && !t.includes(`MID ${delivered}`)), 'no line about another message');
  });

  test('a deferred message: plaintext attempt (STARTTLS not offered), the 4xx reason, outcome deferred', async () => {
    const s = await one(deferred);
    assert.equal(s.outcome, 'deferred');
    assert.equal(s.recipients[0]?.status, 'deferred');
    assert.match(s.recipients[0]?.reason ?? '', /^451 4\.2\.0 Mailbox busy/);
    assert.equal(s.attempts.length, 1);
    const a = s.attempts[0]!;
    assert.equal(a.tlsWanted, 'preferred');
    assert.equal(a.tls, null);
    assert.equal(a.starttlsUnsupported, true);
    assert.equal(a.downgraded, 'STARTTLS not offered');
    assert.deepEqual(a.delivered, []);
    assert.equal(a.delayed.length, 1);
    assert.match(a.delayed[0]!.reason, /^451 4\.2\.0/);
  });

  test('a bounced message: the 5xx reason, the DSN, outcome bounced; the DSN has its own story', async () => {
    const s = await one(bounced);
    assert.equal(s.outcome, 'bounced');
    assert.equal(s.attempts.length, 1);
    assert.match(s.attempts[0]!.bounced[0]?.reason ?? '', /^550 5\.1\.1 No such user/);
    assert.equal(s.dsns.length, 1);
    const dsn = await one(s.dsns[0]!);
    assert.equal(dsn.dsnFor, bounced);
    assert.equal(dsn.from, '');
    assert.equal(dsn.connection, null);
    assert.deepEqual(dsn.recipients.map((r) => [r.to, r.status]), [['Alice@origin.test', 'delivered']]);
    assert.equal(dsn.outcome, 'delivered');
    assert.ok(dsn.lines.some((l) => l.text === `MID ${dsn.mid} DSN generated for MID ${bounced}`));
  });

  test('a failed handshake and its plaintext retry are both attempts of the message', async () => {
    const s = await one(retried);
    assert.equal(s.outcome, 'delivered');
    assert.equal(s.attempts.length, 2);
    const [failed, retry] = s.attempts as [DeliveryAttemptStory, DeliveryAttemptStory];
    assert.match(failed.tlsFailure ?? '', /\S/);
    assert.deepEqual(failed.started, []);
    assert.equal(retry.retryOf, failed.dcid);
    assert.match(retry.downgraded ?? '', /^TLS handshake failed: /);
    assert.deepEqual(retry.delivered, [0]);
  });

  test('--from and --to: exact addresses (any case) and @domain', async () => {
    const mids = async (q: Parameters<typeof trackMessages>[1]): Promise<number[]> => (await trackMessages(sender.layout.root, q)).map((s) => s.mid);
    assert.deepEqual(await mids({ from: 'ALICE@origin.test' }), [delivered, deferred, bounced]);
    assert.deepEqual(await mids({ from: '@origin.test' }), [delivered, deferred, bounced, retried]);
    assert.deepEqual(await mids({ to: 'user@defer.test' }), [deferred]);
    assert.deepEqual(await mids({ to: '@bounce.test' }), [bounced]);
    const dsnMid = (await one(bounced)).dsns[0]!;
    assert.deepEqual(await mids({ to: 'alice@origin.test' }), [dsnMid]);
    assert.deepEqual(await mids({ from: 'nobody@nowhere.test' }), []);
    assert.deepEqual(await mids({ from: '@origin.test', since: Date.now() + 60_000 }), []);
  });
});

describe('gatehouse track', () => {
  test('--mid prints the story; --json gives it as data; no match exits 1', async () => {
    const home = sender.layout.root;
    const text = await runCli(['--home', home, 'track', '--mid', String(bounced)]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^MID ${bounced}: bounced$`, 'm'));
    assert.match(text.stdout, /Sender group +RELAYLIST match \S+, RELAY, policy RELAYED \(TLS preferred\), SBRS None/);
    assert.match(text.stdout, /bounced RID 0: 550 5\.1\.1 No such user/);
    assert.match(text.stdout, /DSN +MID \d+ generated/);
    assert.match(text.stdout, new RegExp(`Info: Bounced: DCID \\d+ MID ${bounced} to RID 0 - 550 5\\.1\\.1`));
    const json = await runCli(['--home', home, 'track', '--to', '@ok.test', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const stories = JSON.parse(json.stdout) as MessageStory[];
    assert.deepEqual(stories.map((s) => [s.mid, s.outcome]), [[delivered, 'delivered']]);
    const none = await runCli(['--home', home, 'track', '--from', 'nobody@nowhere.test']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no message in the mail log matches/);
    const usage = await runCli(['--home', home, 'track']);
    assert.equal(usage.code, 2);
  });
});
