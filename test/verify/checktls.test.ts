/**
 * `gatehouse checktls` end to end: three MX hosts on 127.0.0.2-4 sharing one
 * port (fake DNS on loopback): a Gatehouse listener requiring TLS with a good
 * certificate (mx1, preference 10), a Gatehouse listener with TLS optional and
 * a certificate for another name (mx2, 20), and the scripted MTA without
 * STARTTLS behind a forwarder (mx3, 20). Asserts the stage matrix, the exact
 * scores, the readable table, and `--assure` (refused = pass) without any
 * message being sent.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { CheckTlsResult, CheckTlsStep } from '../../src/services/check-tls.js';
import { runCheckTls } from '../../src/services/check-tls.js';
import { openHome } from '../../src/services/staging.js';
import { createResolver } from '../../src/dns/resolver.js';
import type { CliHome } from '../cli/cli-home.js';
import { startScriptedMta, type ScriptedMta } from '../delivery/delivery-fixture.js';
import { startFakeDns, type FakeDns } from '../harness/fake-dns.js';
import { freePort, type TestGateway } from '../harness/gateway-fixture.js';
import { createTestPki } from '../harness/pki-fixture.js';
import { startForwarder, startTlsGateway, verifyHome, type Forwarder } from './verify-fixture.js';

let dns: FakeDns;
let gw: TestGateway;
let mta: ScriptedMta;
let forwarder: Forwarder;
let h: CliHome;
let port: number;

before(async () => {
  const pki = await createTestPki();
  port = await freePort();
  const mx1 = await pki.server(['mx1.check.test']);
  const mx2 = await pki.server(['wrong.test']);
  gw = await startTlsGateway([
    { name: 'Strict', address: '127.0.0.2', port, tls: 'required', cert: mx1, chain: [pki.intermediate.certificatePem] },
    { name: 'Loose', address: '127.0.0.3', port, tls: 'preferred', cert: mx2, chain: [pki.intermediate.certificatePem] },
  ]);
  mta = await startScriptedMta({ ehlo: ['PIPELINING', '8BITMIME'] });
  forwarder = await startForwarder('127.0.0.4', port, mta.port);
  dns = await startFakeDns({
    'check.test': {
      MX: [
        { exchange: 'mx3.check.test', priority: 20 },
        { exchange: 'mx1.check.test', priority: 10 },
        { exchange: 'mx2.check.test', priority: 20 },
      ],
    },
    'mx1.check.test': { A: ['127.0.0.2'] },
    'mx2.check.test': { A: ['127.0.0.3'] },
    'mx3.check.test': { A: ['127.0.0.4'] },
    'nullmx.test': { MX: [{ exchange: '', priority: 0 }] },
  });
  h = await verifyHome(pki, dns.server);
});

after(async () => {
  await forwarder.close();
  await mta.close();
  await gw.stop();
  await dns.close();
});

type Matrix = Record<string, string[]>;
const matrix = (r: CheckTlsResult): Matrix => Object.fromEntries(r.mx.map((m) => [m.host, m.stages.map((s) => `${s.stage}:${s.status}`)]));

test('the MX matrix and the confidence score (1/rank weights, equal preferences share a rank)', async () => {
  const r = await h.gh(['checktls', 'check.test', '--port', String(port), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as CheckTlsResult;
  assert.deepEqual(
    res.mx.map((m) => [m.host, m.preference, m.rank, m.ip]),
    [
      ['mx1.check.test', 10, 1, '127.0.0.2'],
      ['mx2.check.test', 20, 2, '127.0.0.3'],
      ['mx3.check.test', 20, 2, '127.0.0.4'],
    ],
  );
  assert.deepEqual(matrix(res), {
    'mx1.check.test': ['answer:pass', 'connect:pass', 'ehlo:pass', 'starttls:pass', 'certificate:pass', 'secure:pass'],
    'mx2.check.test': ['answer:pass', 'connect:pass', 'ehlo:pass', 'starttls:pass', 'certificate:pass', 'secure:fail'],
    'mx3.check.test': ['answer:pass', 'connect:pass', 'ehlo:pass', 'starttls:fail', 'certificate:not-run', 'secure:not-run'],
  });
  assert.deepEqual(
    res.mx.map((m) => m.failure),
    [null, 'name mismatch (tried: check.test, mx2.check.test; presented: wrong.test)', 'STARTTLS not offered'],
  );
  assert.deepEqual(res.mx.map((m) => m.score), [100, 83, 50]);
  // (100·1 + 83.33·½ + 50·½) / (1 + ½ + ½) = 83.33
  assert.equal(res.scoreExact.toFixed(2), '83.33');
  assert.equal(res.score, 83);
  for (const m of res.mx) for (const s of m.stages) assert.equal(s.ms === null, s.status === 'not-run', `${m.host} ${s.stage}`);
  assert.deepEqual(res.mx[0]!.identifier, { name: 'mx1.check.test', source: 'mx-host', weak: true });
});

test('the readable table', async () => {
  const r = await h.gh(['checktls', 'check.test', '--port', String(port)]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], `TLS check of check.test: 3 MX hosts, port ${port}.`);
  assert.match(lines[2] ?? '', /^MX host\s+Pref\s+Address\s+Answer\s+Connect\s+EHLO\s+STARTTLS\s+Cert OK\s+Secure\s+Score$/);
  const row = (host: string): string => lines.find((l) => l.startsWith(host)) ?? '';
  assert.match(row('mx1.check.test'), /^mx1\.check\.test\s+10\s+127\.0\.0\.2\s+(ok \d+ms\s+){6}100$/);
  assert.match(row('mx2.check.test'), /^mx2\.check\.test\s+20\s+127\.0\.0\.3\s+(ok \d+ms\s+){5}FAIL \d+ms\s+83$/);
  assert.match(row('mx3.check.test'), /^mx3\.check\.test\s+20\s+127\.0\.0\.4\s+(ok \d+ms\s+){3}FAIL \d+ms\s+-\s+-\s+50$/);
  assert.ok(lines.includes('mx2.check.test: name mismatch (tried: check.test, mx2.check.test; presented: wrong.test)'));
  assert.ok(lines.includes('mx3.check.test: STARTTLS not offered'));
  assert.ok(lines.includes('Confidence score: 83/100 (each MX 100 x stages passed / stages; mean weighted 1/rank by preference).'));
});

test('--assure: plaintext MAIL FROM refused where TLS is required (pass), accepted elsewhere (fail); nothing is ever sent', async () => {
  const commandsBefore = mta.commands.length;
  const steps: CheckTlsStep[] = [];
  const res = await runCheckTls(
    openHome(h.home),
    { domain: 'check.test', assure: true, port },
    { resolver: createResolver({ servers: [dns.server], timeoutMs: 500 }), onStep: (s) => steps.push(s) },
  );
  assert.deepEqual(
    res.mx.map((m) => [m.host, m.stages.at(-1)?.stage, m.stages.at(-1)?.status, m.assure?.refused]),
    [
      ['mx1.check.test', 'assure', 'pass', true],
      ['mx2.check.test', 'assure', 'fail', false],
      ['mx3.check.test', 'assure', 'fail', false],
    ],
  );
  assert.match(res.mx[0]!.assure!.detail, /^530 5\.7\.0 /);
  assert.match(res.mx[1]!.assure!.detail, /^250 /);
  // 7 stages now: 7/7, 5/7, 3/7; (100 + 71.43/2 + 42.86/2) / 2 = 78.57
  assert.deepEqual(res.mx.map((m) => m.score), [100, 71, 43]);
  assert.equal(res.scoreExact.toFixed(2), '78.57');
  assert.equal(res.score, 79);
  // Steps streamed live, labelled with their MX.
  assert.ok(steps.some((s) => s.mx === 'mx1.check.test' && s.kind === 'assure' && s.status === 'ok'));
  assert.deepEqual(steps.filter((s) => s.mx === 'mx3.check.test').map((s) => s.text), res.mx[2]!.steps.map((s) => s.text));

  // No message: the gateway stored nothing; its log shows the accepted MAIL FROM (mx2) but no recipient
  // and no stored message; the scripted MTA saw MAIL FROM, then QUIT.
  assert.equal(gw.gateway.spoolStore.list().length, 0);
  const log = await gw.mailLog();
  assert.ok(log.some((l) => /^Info: MID \d+ ICID \d+ From: <postmaster@gw\.test>$/.test(l)), log.join('\n'));
  assert.ok(!log.some((l) => / RID \d+ To: | ready \d+ bytes /.test(l)), log.join('\n'));
  const seen = mta.commands.slice(commandsBefore);
  assert.deepEqual(seen.filter((c) => /^(MAIL|RCPT|DATA)/i.test(c)), ['MAIL FROM:<postmaster@gw.test>']);
  assert.equal(seen.at(-1), 'QUIT');
  assert.equal(mta.messages.length, 0);

  // The CLI prints the Assure column and the replies.
  const cli = await h.gh(['checktls', 'check.test', '--assure', '--port', String(port)]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /Secure\s+Assure\s+Score\n/);
  assert.match(cli.stdout, /\nmx1\.check\.test: plaintext MAIL FROM refused: 530 5\.7\.0 /);
  assert.match(cli.stdout, /\nmx2\.check\.test: plaintext MAIL FROM accepted: 250 /);
  assert.match(cli.stdout, /Confidence score: 79\/100/);
});

test('a domain that takes no mail, or does not exist: one line, exit 1', async () => {
  const nul = await h.gh(['checktls', 'nullmx.test']);
  assert.equal(nul.code, 1);
  assert.equal(nul.stderr, 'gatehouse: nullmx.test does not accept mail (null MX)\n');
  const nx = await h.gh(['checktls', 'nx.test']);
  assert.equal(nx.code, 1);
  assert.equal(nx.stderr, 'gatehouse: nx.test does not exist (NXDOMAIN)\n');
});
