/**
 * `gatehouse tlsverify` end to end (the failure reasons are in
 * tlsverify-reasons.test.ts): success with every step (exit 0), intermediates
 * out of order, `--json`, an SMTP route resolved through the fake DNS of the
 * committed config, MX through the service, the TLS 1.3-only fallback against
 * a Gatehouse listener, usage errors.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ScriptedMta, ScriptedMtaOptions } from '../delivery/delivery-fixture.js';
import { startFakeDns, type FakeDns } from '../harness/fake-dns.js';
import { freePort } from '../harness/gateway-fixture.js';
import { createTestPki, type TestPki } from '../harness/pki-fixture.js';
import type { CliHome } from '../cli/cli-home.js';
import { runTlsVerify, type TlsVerifyResult } from '../../src/services/tls-verify.js';
import { openHome } from '../../src/services/staging.js';
import { createResolver } from '../../src/dns/resolver.js';
import { bundle, startTlsGateway, verifyHome, INTERMEDIATE, MtaPool, ROOT, runTlsverifyCli } from './verify-fixture.js';


let pki: TestPki;
let dns: FakeDns;
let h: CliHome;
const mtas = new MtaPool();
const mta = (o: ScriptedMtaOptions): Promise<ScriptedMta> => mtas.start(o);
const tlsverify = (port: number, extra: string[] = []): ReturnType<typeof runTlsverifyCli> => runTlsverifyCli(h, port, extra);

before(async () => {
  pki = await createTestPki();
  dns = await startFakeDns({});
  h = await verifyHome(pki, dns.server);
});

after(async () => {
  await mtas.closeAll();
  await dns.close();
});

test('a verified chain and name: every step in order, exit 0', async () => {
  const leaf = await pki.server(['verify.test']);
  const m = await mta({ cert: bundle(leaf, pki.intermediate) });
  const r = await tlsverify(m.port);
  assert.equal(r.code, 0, r.lines.join('\n') + r.stderr);
  assert.deepEqual(r.lines, [
    `Connecting to 127.0.0.1 on port ${m.port}.`,
    'Connected to 127.0.0.1 from interface 127.0.0.1.',
    'Checking TLS connection.',
    'TLS connection established: protocol TLSv1.3, cipher TLS_AES_256_GCM_SHA384.',
    'Verifying peer certificate.',
    'Certificate chain as sent (TLS 1.2 probe): 2 certificates.',
    `  0: CN=verify.test (issuer ${INTERMEDIATE})`,
    `  1: ${INTERMEDIATE} (issuer ${ROOT})`,
    `Certificate chain verified: issued by trusted CA ${ROOT}.`,
    'Verifying certificate name against verify.test, 127.0.0.1.',
    'TLS certificate match verify.test.',
    'TLS certificate verified.',
    'TLS verification completed.',
  ]);
  // Two connections (the handshake, then the TLS 1.2 probe), each ending without any mail command.
  assert.equal(m.connections, 2);
  assert.ok(!m.commands.some((c) => /^(tls:)?(MAIL|RCPT|DATA)/i.test(c)), m.commands.join('\n'));
  assert.equal(m.messages.length, 0);
});

test('intermediates out of issuing order verify, with a note (seen in the chain as sent)', async () => {
  const sub = await pki.ca('Verify Sub CA', { issuer: 'intermediate' });
  const leaf = await pki.server(['verify.test'], { issuer: sub });
  const m = await mta({ cert: bundle(leaf, pki.intermediate, sub) });
  const r = await tlsverify(m.port);
  assert.equal(r.code, 0, r.lines.join('\n'));
  assert.ok(r.lines.includes('Note: the intermediates are not sent in issuing order (TLS 1.2 requires it; strict verifiers fail on it).'), r.lines.join('\n'));
  const inOrder = await mta({ cert: bundle(leaf, sub, pki.intermediate) });
  const r2 = await tlsverify(inOrder.port);
  assert.equal(r2.code, 0);
  assert.ok(!r2.lines.some((l) => l.startsWith('Note:')), r2.lines.join('\n'));
});

test('--json gives the same steps as data', async () => {
  const leaf = await pki.server(['verify.test']);
  const good = await mta({ cert: bundle(leaf, pki.intermediate) });
  const ok = await h.gh(['tlsverify', 'verify.test', `127.0.0.1:${good.port}`, '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const res = JSON.parse(ok.stdout) as TlsVerifyResult;
  assert.equal(res.verified, true);
  assert.equal(res.reason, null);
  assert.deepEqual(res.target, { host: '127.0.0.1', ip: '127.0.0.1', port: good.port, via: 'given' });
  assert.equal(res.steps.at(-1)?.text, 'TLS verification completed.');
  assert.deepEqual(res.steps.map((s) => s.kind).slice(0, 5), ['connecting', 'connected', 'checking-tls', 'tls-established', 'verifying']);
  for (const s of res.steps) {
    assert.ok(['info', 'ok', 'fail'].includes(s.status));
    assert.equal(typeof s.text, 'string');
    assert.equal(typeof s.elapsedMs, 'number');
  }
  assert.equal(res.session?.chainSource, 'tls12-probe');
  assert.deepEqual(res.session?.chain.map((c) => c.subject), ['CN=verify.test', INTERMEDIATE]);
  assert.deepEqual(res.session?.identifier, { name: 'verify.test', source: 'recipient-domain', weak: false });
  assert.equal(res.session?.protocol, 'TLSv1.3');

  const bad = await mta({ starttls: 'refuse-454' });
  const no = await h.gh(['tlsverify', 'verify.test', `127.0.0.1:${bad.port}`, '--json']);
  assert.equal(no.code, 1);
  const res2 = JSON.parse(no.stdout) as TlsVerifyResult;
  assert.equal(res2.verified, false);
  assert.equal(res2.reason, 'STARTTLS refused: 454 4.7.0 TLS not available due to local problem');
  assert.deepEqual(res2.steps.at(-1), { ...res2.steps.at(-1), kind: 'failed', status: 'fail', text: `TLS verification failed: ${res2.reason}` });
});

test('without HOST: the SMTP route of the committed config, its host resolved through the configured DNS', async () => {
  const leaf = await pki.server(['mx.routed.test']);
  const m = await mta({ cert: bundle(leaf, pki.intermediate) });
  dns.setZone({ 'mx.routed.test': { A: ['127.0.0.1'] } });
  const routed = await verifyHome(pki, dns.server, (c) => {
    c.smtpRoutes = [{ domain: 'routed.test', hosts: [`mx.routed.test:${m.port}`] }];
  });
  const r = await routed.gh(['tlsverify', 'routed.test']);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(lines[0], `Next hop for routed.test: mx.routed.test (SMTP route routed.test) at 127.0.0.1 port ${m.port}.`);
  assert.ok(lines.includes('Verifying certificate name against routed.test, mx.routed.test.'), lines.join('\n'));
  assert.ok(lines.includes('TLS certificate match mx.routed.test.'));
  assert.ok(dns.queries.some((q) => q.name === 'mx.routed.test' && q.type === 'A'), 'the query went to the configured fake DNS');
  // A host that does not resolve: a clear failure, exit 1.
  const nx = await routed.gh(['tlsverify', 'nowhere.test', 'no-such-host.test:25']);
  assert.equal(nx.code, 1);
  assert.match(nx.stdout.trim().split('\n').at(-1) ?? '', /^TLS verification failed: no address for no-such-host\.test \(ENOTFOUND\)$/);
});

test('MX next hop (service, with a port for the MX hosts): the MX name is a weak identifier; steps stream through onStep', async () => {
  const leaf = await pki.server(['mx.mxdomain.test']);
  const m = await mta({ cert: bundle(leaf, pki.intermediate) });
  dns.setZone({ 'mxdomain.test': { MX: [{ exchange: 'mx.mxdomain.test', priority: 10 }] }, 'mx.mxdomain.test': { A: ['127.0.0.1'] } });
  const streamed: string[] = [];
  const res = await runTlsVerify(openHome(h.home), { domain: 'mxdomain.test', port: m.port }, { resolver: createResolver({ servers: [dns.server], timeoutMs: 500 }), onStep: (s) => streamed.push(s.text) });
  assert.equal(res.verified, true, res.reason ?? '');
  assert.deepEqual(streamed, res.steps.map((s) => s.text));
  assert.equal(streamed[0], `Next hop for mxdomain.test: mx.mxdomain.test (MX) at 127.0.0.1 port ${m.port}.`);
  assert.ok(streamed.includes('TLS certificate match mx.mxdomain.test (weak: MX host name from unsigned DNS).'), streamed.join('\n'));
  assert.deepEqual(res.session?.identifier, { name: 'mx.mxdomain.test', source: 'mx-host', weak: true });
});

test('a TLS 1.3-only server: the probe is refused and the library\'s chain is checked, as the steps say', async () => {
  const leaf = await pki.server(['verify.test']);
  const port = await freePort();
  const gw = await startTlsGateway([{ name: 'Tls13Only', address: '127.0.0.1', port, tls: 'preferred', cert: leaf, chain: [pki.intermediate.certificatePem] }], (c) => {
    c.ssl.inbound.minVersion = 'TLSv1.3';
  });
  try {
    const r = await tlsverify(port);
    assert.equal(r.code, 0, r.lines.join('\n'));
    assert.ok(r.lines.includes('TLS 1.2 probe refused: the server speaks TLS 1.3 only; checking the chain as the TLS library rebuilt it (duplicates and order are not visible).'), r.lines.join('\n'));
    assert.equal(r.lines.at(-1), 'TLS verification completed.');
  } finally {
    await gw.stop();
  }
});

test('usage errors: a malformed domain or port exits 2', async () => {
  const bad = await h.gh(['tlsverify', 'not a domain!', '127.0.0.1:25']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^gatehouse: domain "not a domain!" is not a domain name\n$/);
  const port = await h.gh(['tlsverify', 'verify.test', '127.0.0.1:99999']);
  assert.equal(port.code, 2);
  assert.match(port.stderr, /port must be 1-65535/);
});

test('tlsverify connects from the delivery source address (destconfig setup --source-address-v4), both connections', async () => {
  const leaf = await pki.server(['verify.test']);
  const m = await mta({ cert: bundle(leaf, pki.intermediate) });
  const setSource = async (value: string): Promise<void> => {
    for (const args of [['destconfig', 'setup', '--source-address-v4', value], ['commit', '-m', `source ${value}`]]) {
      const r = await h.gh(args);
      assert.equal(r.code, 0, r.stderr);
    }
  };
  await setSource('127.0.0.2');
  try {
    const r = await tlsverify(m.port);
    assert.equal(r.code, 0, r.lines.join('\n') + r.stderr);
    assert.ok(r.lines.includes('Connected to 127.0.0.1 from interface 127.0.0.2.'), r.lines.join('\n'));
    // The handshake connection and the TLS 1.2 probe both came from the source address.
    assert.deepEqual(m.peers, ['127.0.0.2', '127.0.0.2']);
  } finally {
    await setSource('none');
  }
});
