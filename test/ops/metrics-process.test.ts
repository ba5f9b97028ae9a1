/**
 * The operations endpoints as `gatehouse start` wires them: a gateway process
 * answers `/healthz` and `/metrics` on its admin HTTPS port, and the numbers
 * follow a message relayed through it.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { test } from 'node:test';
import { homeLayout } from '../../src/core/home-layout.js';
import { createApiToken } from '../../src/services/api-tokens.js';
import { freePort } from '../harness/gateway-fixture.js';
import { relayHome, startGatewayProcess } from '../harness/gateway-process.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';

function httpsGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, headers, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('a running gateway serves /healthz and /metrics on its admin port', async () => {
  const guiPort = await freePort();
  const { home, port, configFile } = await relayHome({ gui: { address: '127.0.0.1', port: guiPort } });
  const gw = await startGatewayProcess(home, ['--config', configFile]);
  try {
    const health = await httpsGet(guiPort, '/healthz');
    assert.equal(health.status, 200, health.body);
    const h = JSON.parse(health.body) as { status: string; listeners: { configured: number; bound: number }; spoolOpen: boolean };
    assert.equal(h.status, 'ok');
    assert.deepEqual([h.listeners.configured, h.listeners.bound, h.spoolOpen], [1, 1, true]);

    const c = await SmtpTestClient.connect(port);
    await c.read();
    await c.command('EHLO client.test');
    assert.equal((await c.send('a@sender.test', ['b@dest.test'], 'Subject: x\r\n\r\ny\r\n')).code, 250);
    await c.command('QUIT');
    c.close();

    const { token } = createApiToken(homeLayout(home), 'admin', 'scraper');
    assert.equal((await httpsGet(guiPort, '/metrics')).status, 401);
    const m = await httpsGet(guiPort, '/metrics', { authorization: `Bearer ${token}` });
    assert.equal(m.status, 200, m.body);
    assert.equal(sample(m.body, 'gatehouse_inbound_connections_total{listener="Relay",result="accepted"}'), 1);
    // Routed to a closed port: the message stays queued (deferred), never delivered.
    assert.equal(sample(m.body, 'gatehouse_queue_messages'), 1);
    assert.equal(sample(m.body, 'gatehouse_deliveries_total{outcome="delivered"}'), 0);
    assert.equal(sample(m.body, 'gatehouse_listener_bound{listener="Relay"}'), 1);
  } finally {
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0);
  }
});
