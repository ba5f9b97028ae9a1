/**
 * `/healthz` and `/metrics` on the admin port (SPEC §14), against a sending
 * gateway with delivery on and a scripted remote MTA: real traffic moves the
 * numbers (a relayed message → deliveries delivered, a failed inbound
 * handshake → the inbound handshake-failure counter), `/metrics` needs an API
 * token or a session, `/healthz` needs nothing and turns 503 once the spool
 * is closed. Then once over the real HTTPS port of GuiServer.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { GatewayMetrics } from '../../src/app/gateway-metrics.js';
import { gatewayHealth } from '../../src/app/health.js';
import { renderMetrics } from '../../src/app/metrics-text.js';
import { createGuiApp, type BuiltGui } from '../../src/gui/app.js';
import type { GuiDeps } from '../../src/gui/gui-deps.js';
import { GuiServer } from '../../src/gui/server.js';
import { createApiToken } from '../../src/services/api-tokens.js';
import { openHome } from '../../src/services/staging.js';
import type { DnsResolver } from '../../src/dns/resolver.js';
import type { FakeDns } from '../harness/fake-dns.js';
import { freePort, type TestGateway } from '../harness/gateway-fixture.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';
import { fakeDnsResolver, startScriptedMta, startSender, submit, type ScriptedMta } from '../delivery/delivery-fixture.js';

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function request(gui: BuiltGui, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(gui.app.request(`https://gui.test:8443${path}`, { headers: { host: 'gui.test:8443', ...headers } }, { incoming: { socket: { remoteAddress: '127.0.0.1' } } }));
}

function httpsGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, headers, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

describe('health and metrics endpoints', () => {
  let dns: FakeDns;
  let resolver: DnsResolver;
  let mta: ScriptedMta;
  let sender: TestGateway;
  let metrics: GatewayMetrics;
  let deps: GuiDeps;
  let gui: BuiltGui;
  let token: string;
  const startedAt = Date.now();

  before(async () => {
    ({ dns, resolver } = await fakeDnsResolver({ 'mx.remote.test': { A: ['127.0.0.1'] } }));
    mta = await startScriptedMta({ starttls: 'refuse-454', ehlo: ['PIPELINING', '8BITMIME', 'STARTTLS'] });
    sender = await startSender((c) => {
      c.smtpRoutes = [{ domain: 'ALL', hosts: [`mx.remote.test:${mta.port}`] }];
    }, resolver);
    metrics = new GatewayMetrics(sender.gateway, startedAt);
    const home = openHome(sender.layout.root);
    deps = {
      home,
      runningConfig: () => sender.gateway.currentConfig,
      applyCommitted: async () => ({ ok: false, error: 'not used here' }),
      operations: { health: () => gatewayHealth(sender.gateway, startedAt), metricsText: () => renderMetrics(metrics.collect()) },
    };
    gui = createGuiApp(deps);
    token = createApiToken(sender.layout, 'admin', 'prometheus').token;
  });
  after(async () => {
    metrics.close();
    await sender.stop().catch(() => undefined);
    await mta.close();
    await dns.close();
  });

  test('/metrics refuses requests without a valid API token or session', async () => {
    const none = await request(gui, '/metrics');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    const wrong = await request(gui, '/metrics', { authorization: 'Bearer ght_not-a-real-token' });
    assert.equal(wrong.status, 401);
    assert.doesNotMatch(await wrong.text(), /gatehouse_/);
  });

  test('/healthz answers without authentication: ok, version, uptime, listeners bound, spool open', async () => {
    const res = await request(gui, '/healthz');
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; version: string; uptimeSeconds: number; listeners: { configured: number; bound: number }; spoolOpen: boolean };
    assert.equal(body.status, 'ok');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.ok(body.uptimeSeconds >= 0);
    assert.equal(body.listeners.configured, sender.config.listeners.length);
    assert.equal(body.listeners.bound, sender.config.listeners.length);
    assert.equal(body.spoolOpen, true);
  });

  test('a relayed message and a failed inbound handshake move the counters', async () => {
    const before = await (await request(gui, '/metrics', { authorization: `Bearer ${token}` })).text();
    assert.equal(sample(before, 'gatehouse_deliveries_total{outcome="delivered"}'), 0);
    assert.equal(sample(before, 'gatehouse_tls_handshake_failures_total{direction="inbound"}'), 0);

    // Queued but not yet delivered: the queue gauges see it.
    const mid = await submit(sender, 'alice@origin.test', ['bob@dest.test', 'carol@dest.test']);
    const queued = await (await request(gui, '/metrics', { authorization: `Bearer ${token}` })).text();
    assert.equal(sample(queued, 'gatehouse_queue_messages'), 1, `MID ${mid} is in the spool`);
    assert.equal(sample(queued, 'gatehouse_queue_pending_recipients'), 2);
    assert.equal(sample(queued, 'gatehouse_inbound_connections_total{listener="OutgoingMail",result="accepted"}'), 1);

    await sender.gateway.delivery!.runDue();
    assert.equal(mta.messages.length, 1, 'the remote got the message');

    // An inbound client that starts TLS and then sends no handshake.
    const client = await SmtpTestClient.connect(sender.port('OutgoingMail'));
    await client.read();
    await client.command('EHLO client.test');
    assert.equal((await client.command('STARTTLS')).code, 220);
    client.write('this is not a TLS ClientHello\r\n');
    await sender.waitForLog(/^Info: ICID \d+ TLS failed/);
    client.close();

    const res = await request(gui, '/metrics', { authorization: `Bearer ${token}` });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    assert.equal(sample(text, 'gatehouse_deliveries_total{outcome="delivered"}'), 2, 'two recipients delivered');
    assert.equal(sample(text, 'gatehouse_queue_messages'), 0);
    assert.equal(sample(text, 'gatehouse_queue_pending_recipients'), 0);
    assert.equal(sample(text, 'gatehouse_tls_handshake_failures_total{direction="inbound"}'), 1);
    assert.equal(sample(text, 'gatehouse_tls_outcomes_total{direction="inbound",outcome="failure"}'), 1);
    // The remote refuses STARTTLS with 454: the preferred level went on in plaintext.
    assert.equal(sample(text, 'gatehouse_tls_outcomes_total{direction="outbound",outcome="downgrade"}'), 1);
    assert.ok(sample(text, 'gatehouse_outbound_connections_total')! >= 1);
    assert.equal(sample(text, 'gatehouse_inbound_connections_total{listener="OutgoingMail",result="accepted"}'), 2);
    assert.equal(sample(text, 'gatehouse_mail_log_write_errors_total'), 0);
    assert.equal(sample(text, 'gatehouse_up'), 1);
    // Format 0.0.4: every family has HELP and TYPE, counters end in _total.
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      assert.match(text, new RegExp(`^# HELP ${m[1]} `, 'm'));
      if (m[2] === 'counter') assert.match(m[1]!, /_total$/);
    }
  });

  test('over the real HTTPS admin port', async () => {
    const port = await freePort();
    const config = structuredClone(sender.gateway.currentConfig);
    config.gui.address = '127.0.0.1';
    config.gui.port = port;
    const server = await GuiServer.start(deps, config);
    try {
      const health = await httpsGet(port, '/healthz');
      assert.equal(health.status, 200);
      assert.equal((JSON.parse(health.body) as { status: string }).status, 'ok');
      assert.equal((await httpsGet(port, '/metrics')).status, 401);
      const m = await httpsGet(port, '/metrics', { authorization: `Bearer ${token}` });
      assert.equal(m.status, 200);
      assert.match(m.type, /^text\/plain; version=0\.0\.4/);
      assert.equal(sample(m.body, 'gatehouse_deliveries_total{outcome="delivered"}'), 2);
    } finally {
      await server.stop();
    }
  });

  test('/healthz turns 503 once the gateway stopped (spool closed, listeners unbound)', async () => {
    await sender.stop();
    const res = await request(gui, '/healthz');
    assert.equal(res.status, 503);
    const body = (await res.json()) as { status: string; spoolOpen: boolean; problems: string[] };
    assert.equal(body.status, 'unhealthy');
    assert.equal(body.spoolOpen, false);
    assert.ok(body.problems.includes('the spool is closed'), body.problems.join('; '));
    assert.ok(body.problems.some((p) => /listener OutgoingMail is not bound/.test(p)));
    const m = await (await request(gui, '/metrics', { authorization: `Bearer ${token}` })).text();
    assert.equal(sample(m, 'gatehouse_up'), 0);
  });
});
