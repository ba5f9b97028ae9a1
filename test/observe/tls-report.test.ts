/**
 * The TLS connections report (SPEC §9) after a known mix of traffic through
 * one gateway: inbound sessions on a preferred and a required listener (TLS,
 * plaintext, one client that never starts TLS on the required one) and the
 * outbound deliveries they cause (preferred over TLS, preferred to a host
 * without STARTTLS, required-verify over verified TLS, required to a host
 * without STARTTLS). Exact counts per direction, domain and hour; the counts
 * survive a restart and add up; `report tls --since` picks hour files by age.
 *
 * The gateway runs on a clock set to half past the current hour (moving with
 * real time), so every event of the test falls into one known hour.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import { emptyCounts, hourOf, type TlsCounts } from '../../src/reports/tls-counts.js';
import { mergeIntoTlsReport, tlsReportDir } from '../../src/reports/tls-report-store.js';
import { tlsReport, type TlsReport } from '../../src/services/tls-report.js';
import { fakeDnsResolver, startScriptedMta, type ScriptedMta } from '../delivery/delivery-fixture.js';
import type { FakeDns } from '../harness/fake-dns.js';
import { freePort, startTestGateway, tempHome, type TestGateway } from '../harness/gateway-fixture.js';
import { runCli } from '../harness/gateway-process.js';
import { createTestPki } from '../harness/pki-fixture.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';
import type { DnsResolver } from '../../src/dns/resolver.js';

const HOUR = 3_600_000;
const offset = hourOf(Date.now()) + HOUR / 2 - Date.now();
const clock = { now: (): number => Date.now() + offset };
const H = hourOf(clock.now());

let dns: FakeDns;
let resolver: DnsResolver;
let tlsMta: ScriptedMta;
let plainMta: ScriptedMta;
let rootPem: string;
const home = tempHome('gatehouse-report-');

const c = (x: Partial<TlsCounts>): TlsCounts => ({ ...emptyCounts(), ...x });

/** Two relay listeners (the default OutgoingMail, TLS preferred, and a copy requiring TLS), routes and destination controls. */
function configure(config: Config, requiredPort: number): void {
  const out = config.listeners.find((l) => l.name === 'OutgoingMail')!;
  for (const p of out.policies) p.tls = 'preferred';
  const req = structuredClone(out);
  req.name = 'OutgoingRequired';
  for (const p of req.policies) p.tls = 'required';
  req.port = requiredPort;
  config.listeners = [out, req];
  config.queue.fsync = false;
  config.queue.retryInitialSeconds = 3600;
  config.trustStore = { systemEnabled: false, customEnabled: true, custom: [{ name: 'Test Root', certificate: rootPem }] };
  config.smtpRoutes = [
    { domain: 'tls-out.test', hosts: [`mx.tls-out.test:${tlsMta.port}`] },
    { domain: 'req-out.test', hosts: [`mx.req-out.test:${tlsMta.port}`] },
    { domain: 'plain-out.test', hosts: [`mx.plain-out.test:${plainMta.port}`] },
    { domain: 'reqfail-out.test', hosts: [`mx.plain-out.test:${plainMta.port}`] },
  ];
  const d = config.destinationControls.default;
  config.destinationControls.domains = [
    { ...d, domain: 'req-out.test', tls: 'required-verify' },
    { ...d, domain: 'reqfail-out.test', tls: 'required' },
  ];
}

async function startGateway(): Promise<TestGateway> {
  const reqPort = await freePort();
  return startTestGateway(
    (config) => configure(config, reqPort),
    { home, resolver, deliver: true, clock, deliveryTimeouts: { connectMs: 2000, greetingMs: 2000, commandMs: 2000, dataInitMs: 2000, dataDoneMs: 2000, tlsMs: 2000 } },
  );
}

/** One client session: optional STARTTLS, then one message (or, with `expectRefusal`, a MAIL that must be refused). */
async function session(port: number, o: { tls: boolean; from: string; to: string[]; expectRefusal?: boolean }): Promise<void> {
  const client = await SmtpTestClient.connect(port);
  try {
    await client.read();
    await client.command('EHLO client.test');
    if (o.tls) {
      await client.startTls();
      await client.command('EHLO client.test');
    }
    if (o.expectRefusal) {
      const r = await client.command(`MAIL FROM:<${o.from}>`);
      assert.equal(r.code, 530, r.text);
    } else {
      const r = await client.send(o.from, o.to, 'Subject: report\r\n\r\nbody\r\n');
      assert.equal(r.code, 250, r.text);
    }
    await client.command('QUIT');
    await client.waitClosed();
  } finally {
    client.close();
  }
}

/** Waits until the gateway logged `n` inbound closes and every delivery pass is over. */
async function settle(gw: TestGateway, closes: number): Promise<void> {
  await gw.gateway.delivery!.runDue();
  const deadline = Date.now() + 10_000;
  for (;;) {
    const lines = await gw.mailLog();
    if (lines.filter((l) => /^Info: ICID \d+ close$/.test(l)).length >= closes) return;
    if (Date.now() > deadline) throw new Error(`expected ${closes} inbound closes:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const rows = (r: TlsReport, direction: 'inbound' | 'outbound'): Record<string, TlsCounts> =>
  Object.fromEntries(r[direction].domains.map(({ domain, encryptedShare: _share, ...counts }) => [domain, counts]));

before(async () => {
  const pki = await createTestPki();
  rootPem = pki.root.certificatePem;
  const cert = await pki.server(['mx.tls-out.test', 'mx.req-out.test']);
  tlsMta = await startScriptedMta({ starttls: 'tls', cert: { cert: pki.fullChainPem(cert), key: cert.privateKeyPem } });
  plainMta = await startScriptedMta({ ehlo: ['PIPELINING', '8BITMIME'] });
  ({ dns, resolver } = await fakeDnsResolver({ 'mx.tls-out.test': { A: ['127.0.0.1'] }, 'mx.req-out.test': { A: ['127.0.0.1'] }, 'mx.plain-out.test': { A: ['127.0.0.1'] } }));
});

after(async () => {
  await Promise.all([tlsMta?.close(), plainMta?.close()]);
  await dns?.close();
});

describe('TLS connections report', () => {
  const inboundFirstRun = {
    'tls-in.test': c({ connections: 1, preferredSuccess: 1, messages: 1, encryptedMessages: 1 }),
    'plain-in.test': c({ connections: 1, plaintext: 1, messages: 1 }),
    'req-in.test': c({ connections: 1, requiredSuccess: 1, messages: 1, encryptedMessages: 1 }),
    // Refused before MAIL: no sender domain, so the verified reverse DNS of the client (loopback: localhost).
    localhost: c({ connections: 1, requiredFailure: 1 }),
  };
  const outboundFirstRun = {
    'tls-out.test': c({ connections: 1, preferredSuccess: 1, messages: 1, encryptedMessages: 1 }),
    'plain-out.test': c({ connections: 1, plaintext: 1, messages: 1 }),
    'req-out.test': c({ connections: 1, requiredSuccess: 1, verified: 1, messages: 1, encryptedMessages: 1 }),
    'reqfail-out.test': c({ connections: 1, requiredFailure: 1 }),
  };

  test('exact counts per direction, domain and hour after a known mix; the CLI sees them while the gateway runs', async () => {
    const gw = await startGateway();
    try {
      const pref = gw.port('OutgoingMail');
      const req = gw.port('OutgoingRequired');
      await session(pref, { tls: true, from: 'a@tls-in.test', to: ['x@tls-out.test'] });
      await settle(gw, 1);
      await session(pref, { tls: false, from: 'b@plain-in.test', to: ['y@plain-out.test'] });
      await settle(gw, 2);
      await session(req, { tls: true, from: 'c@req-in.test', to: ['z@req-out.test', 'w@reqfail-out.test'] });
      await settle(gw, 3);
      await session(req, { tls: false, from: 'd@fail-in.test', to: [], expectRefusal: true });
      await settle(gw, 4);
      assert.equal(plainMta.messages.filter((m) => m.rcpts.some((r) => r.includes('reqfail-out.test'))).length, 0, 'nothing sent where TLS was required');

      await gw.gateway.tlsReportRecorder!.flush();
      const r = await tlsReport(home, { since: H, now: clock.now() });
      assert.deepEqual(rows(r, 'inbound'), inboundFirstRun);
      assert.deepEqual(rows(r, 'outbound'), outboundFirstRun);
      // One hour bucket, holding everything.
      assert.deepEqual(r.inbound.series.time, [H / 1000]);
      assert.deepEqual(r.inbound.series.connections, [4]);
      assert.deepEqual(r.inbound.series.encryptedMessages, [2]);
      assert.deepEqual(r.outbound.series.requiredFailure, [1]);
      assert.deepEqual(r.inbound.totals, c({ connections: 4, preferredSuccess: 1, plaintext: 1, requiredSuccess: 1, requiredFailure: 1, messages: 3, encryptedMessages: 2 }));
      assert.equal(r.outbound.encryptedShare, 2 / 3);

      // The CLI reads the same files while the gateway runs.
      const cli = await runCli(['--home', home, 'report', 'tls', '--json']);
      assert.equal(cli.code, 0, cli.stderr);
      const viaCli = JSON.parse(cli.stdout) as TlsReport;
      assert.deepEqual(rows(viaCli, 'inbound'), inboundFirstRun);
      assert.deepEqual(rows(viaCli, 'outbound'), outboundFirstRun);
      assert.equal(viaCli.inbound.series.time.length, 25, '24 h window: 25 overlapping hour buckets');
    } finally {
      await gw.stop();
    }
  });

  test('the counts survive a restart and the next run adds to them', async () => {
    const gw = await startGateway();
    try {
      await session(gw.port('OutgoingMail'), { tls: false, from: 'b2@plain-in.test', to: ['y2@plain-out.test'] });
      await settle(gw, 1);
    } finally {
      await gw.stop(); // flushes
    }
    const r = await tlsReport(home, { since: H, now: clock.now() });
    assert.deepEqual(rows(r, 'inbound'), { ...inboundFirstRun, 'plain-in.test': c({ connections: 2, plaintext: 2, messages: 2 }) });
    assert.deepEqual(rows(r, 'outbound'), { ...outboundFirstRun, 'plain-out.test': c({ connections: 2, plaintext: 2, messages: 2 }) });
  });

  test('report tls --since picks hour buckets by age; text output has both sections', async () => {
    // An older hour, three days back, as a gateway would have flushed it.
    const old = hourOf(Date.now()) - 72 * HOUR;
    const inbound = new Map([['old.test', c({ connections: 5, plaintext: 5, messages: 5 })]]);
    await mergeIntoTlsReport(tlsReportDir(`${home}/state`), new Map([[old, { inbound, outbound: new Map() }]]));

    const day = JSON.parse((await runCli(['--home', home, 'report', 'tls', '--since', '24h', '--json'])).stdout) as TlsReport;
    assert.ok(!day.inbound.domains.some((d) => d.domain === 'old.test'));
    assert.equal(day.inbound.totals.connections, 5);
    const week = JSON.parse((await runCli(['--home', home, 'report', 'tls', '--since', '7d', '--json'])).stdout) as TlsReport;
    assert.deepEqual(rows(week, 'inbound')['old.test'], c({ connections: 5, plaintext: 5, messages: 5 }));
    assert.equal(week.inbound.totals.connections, 10);
    assert.equal(week.inbound.series.time.length, 7 * 24 + 1);
    assert.equal(week.inbound.series.plaintext[week.inbound.series.time.indexOf(old / 1000)], 5);

    const text = await runCli(['--home', home, 'report', 'tls']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Inbound: 5 connections, 2 encrypted \(40%\); 4 messages, 2 encrypted \(50%\)$/m);
    assert.match(text.stdout, /^Outbound: 5 connections, 2 encrypted \(40%\); 4 messages, 2 encrypted \(50%\)$/m);
    // Domain, required OK / failed, preferred OK / failed, plaintext, verified, connections, messages, encrypted, %.
    assert.match(text.stdout, /^ {2}req-out\.test +1 +0 +0 +0 +0 +1 +1 +1 +1 +100%$/m);
    assert.match(text.stdout, /^ {2}plain-in\.test +0 +0 +0 +0 +2 +2 +2 +0 +0%$/m);
    const bad = await runCli(['--home', home, 'report', 'tls', '--since', 'yesterday']);
    assert.equal(bad.code, 2);
  });
});
