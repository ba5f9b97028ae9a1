/**
 * The handshake-failure-rate and queue-growth alerts on a running gateway:
 * real failed inbound TLS handshakes (no shared cipher) reach the alert
 * through the mail-event tap and raise it only above the threshold; the
 * queue-growth check raises its alert only when the spool holds more than
 * the threshold. Routing by class: each goes only to its subscribers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import { ALERT_LISTENER } from '../../src/alerts/alert.js';
import { readAlertHistory } from '../../src/services/alert-history.js';
import { startTestGateway, type TestGateway } from '../harness/gateway-fixture.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';

function inbound(edit: (c: Config) => void) {
  return (c: Config): void => {
    const l = c.listeners.find((x) => x.name === 'IncomingMail')!;
    l.rat = ['example.test'];
    l.policies.find((p) => p.name === 'ACCEPTED')!.tls = 'preferred';
    c.queue.fsync = false;
    c.alerts.recipients = [
      { address: 'sec@alerts.test', classes: ['security'], severities: ['warning'] },
      { address: 'queue@alerts.test', classes: ['queue'], severities: ['warning'] },
    ];
    edit(c);
  };
}

async function failedHandshake(gw: TestGateway): Promise<void> {
  const client = await SmtpTestClient.connect(gw.port('IncomingMail'));
  await client.read();
  await client.command('EHLO client.test');
  assert.equal((await client.command('STARTTLS')).code, 220);
  await assert.rejects(client.upgrade({ maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA256' }));
  client.close();
}

describe('inbound TLS handshake failure rate', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(
      inbound((c) => {
        c.alerts.tlsFailureThreshold = 2;
        c.alerts.tlsFailureWindowMinutes = 10;
      }),
    );
  });
  after(async () => gw.stop());

  /** Waits until the mail log holds `n` inbound TLS failures (the server side may log after the client gave up). */
  async function failuresLogged(n: number): Promise<void> {
    const count = async () => (await gw.mailLog()).filter((l) => /ICID \d+ TLS failed: .*no shared cipher/.test(l)).length;
    for (let t = 0; (await count()) < n; t++) {
      if (t > 500) assert.fail(`fewer than ${n} TLS failed lines`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  const handshakeAlerts = () => readAlertHistory(gw.layout).filter((e) => e.raw['key'] === 'tls-handshake-failures');

  test('at the threshold nothing; above it one alert (tls, security; warning) to the security subscriber only', async () => {
    for (let i = 1; i <= 2; i++) {
      await failedHandshake(gw);
      await failuresLogged(i);
    }
    await gw.gateway.alerts!.idle();
    assert.equal(handshakeAlerts().length, 0, '2 failures = the threshold: no alert');
    await failedHandshake(gw);
    await gw.waitForLog(/Alert MID \d+ queued \(tls,security warning\)/);
    await gw.gateway.alerts!.idle();
    const [alert, ...more] = handshakeAlerts();
    assert.equal(more.length, 0);
    assert.ok(alert);
    assert.equal(alert.class, 'tls, security');
    assert.equal(alert.severity, 'warning');
    assert.equal(alert.subject, '3 inbound TLS handshake failures in 10 minutes');
    assert.deepEqual(alert.recipients, ['sec@alerts.test']);
    const body = (await gw.gateway.spoolStore.readBody(alert.mid!)).toString('utf8');
    assert.match(body, /^ {2}127\.0\.0\.1: 3\r$/m, 'names the client address');
    // A fourth failure inside the debounce window: no second alert.
    await failedHandshake(gw);
    await failuresLogged(4);
    await gw.gateway.alerts!.idle();
    assert.equal(handshakeAlerts().length, 1);
  });
});

describe('queue growth', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(inbound((c) => (c.alerts.queueThreshold = 3)));
  });
  after(async () => gw.stop());

  async function receive(n: number): Promise<void> {
    const client = await SmtpTestClient.connect(gw.port('IncomingMail'));
    await client.read();
    await client.command('EHLO client.test');
    for (let i = 0; i < n; i++) assert.equal((await client.send('a@sender.test', ['b@example.test'], `Subject: ${i}\r\n\r\nx`)).code, 250);
    await client.command('QUIT');
    client.close();
  }

  const queueAlerts = () => readAlertHistory(gw.layout).filter((e) => e.raw['key'] === 'queue-growth');

  test('at the threshold nothing; above it an alert of class queue to the queue subscriber only', async () => {
    await receive(3);
    await gw.gateway.alerts!.checkNow();
    assert.equal(queueAlerts().length, 0, '3 messages = the threshold: no alert');
    await receive(1);
    await gw.gateway.alerts!.checkNow();
    const [alert, ...more] = queueAlerts();
    assert.equal(more.length, 0);
    assert.ok(alert);
    assert.equal(alert.class, 'queue');
    assert.equal(alert.subject, '4 messages in the queue (threshold 3)');
    assert.deepEqual(alert.recipients, ['queue@alerts.test']);
    const queued = gw.gateway.spoolStore.list().filter((m) => m.listener === ALERT_LISTENER);
    assert.deepEqual(queued.map((m) => m.mid), [alert.mid]);
    assert.deepEqual(queued[0]?.recipients.map((r) => r.address), ['queue@alerts.test']);
    assert.equal(queued[0]?.from, '');
    const body = (await gw.gateway.spoolStore.readBody(alert.mid!)).toString('utf8');
    assert.match(body, /^ {2}example\.test: 4\r$/m);
    assert.match((await gw.mailLog()).join('\n'), new RegExp(`Alert MID ${alert.mid} queued \\(queue warning\\) to <queue@alerts\\.test>`));
  });
});
