/**
 * The required-TLS alert end to end: a destination with `required` TLS whose
 * next hop does not offer STARTTLS makes the gateway queue one alert email in
 * its own spool and deliver it (SMTP route to a sink MTA on loopback) naming
 * the domain, the MX, the reason and the messages waiting; repeated failures
 * inside the debounce window send nothing more, after it a new one goes out;
 * class × severity routing is honoured; the global switch turns it off;
 * `alertconfig history` lists what was sent; an alert stuck behind the
 * failing destination itself raises no alert about the alert (loop guard).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FakeDns } from '../harness/fake-dns.js';
import type { TestGateway } from '../harness/gateway-fixture.js';
import { runCli } from '../harness/gateway-process.js';
import { ALERT_LISTENER } from '../../src/alerts/alert.js';
import { readAlertHistory } from '../../src/services/alert-history.js';
import { fakeDnsResolver, startScriptedMta, startSender, submit, type ScriptedMta } from '../delivery/delivery-fixture.js';

class FakeClock {
  constructor(public t: number) {}
  now = (): number => this.t;
}

const MIN = 60_000;

describe('required-TLS failure alert', () => {
  let dns: FakeDns;
  let remote: ScriptedMta;
  let sink: ScriptedMta;
  let sender: TestGateway;
  const clock = new FakeClock(Date.now());

  before(async () => {
    let resolver;
    ({ dns, resolver } = await fakeDnsResolver({ 'mx.remote.test': { A: ['127.0.0.1'] }, 'mx.sink.test': { A: ['127.0.0.1'] } }));
    remote = await startScriptedMta({ ehlo: ['PIPELINING', '8BITMIME'] });
    sink = await startScriptedMta({ ehlo: ['PIPELINING', '8BITMIME'] });
    sender = await startSender(
      (c) => {
        c.smtpRoutes = [
          { domain: 'dest.test', hosts: [`mx.remote.test:${remote.port}`] },
          { domain: 'alerts.test', hosts: [`mx.sink.test:${sink.port}`] },
        ];
        c.destinationControls.domains = [{ ...c.destinationControls.default, domain: 'dest.test', tls: 'required' }];
        c.alerts.recipients = [
          { address: 'noc@alerts.test', classes: ['tls'], severities: ['warning', 'critical'] },
          { address: 'certs@alerts.test', classes: ['certificates'], severities: ['critical', 'warning', 'info'] },
          { address: 'sys@alerts.test', classes: ['system'], severities: ['critical'] },
        ];
        c.alerts.from = 'gatehouse-alerts@gw.test';
        c.alerts.debounceMinutes = 30;
      },
      resolver,
      { clock },
    );
  });
  after(async () => {
    await sender?.stop();
    await remote?.close();
    await sink?.close();
    await dns?.close();
  });

  /** Runs delivery until the alerts raised by it are queued and delivered too. */
  async function deliverAll(flush: boolean): Promise<void> {
    const d = sender.gateway.delivery!;
    if (flush) await d.flush();
    else await d.runDue();
    await sender.gateway.alerts!.idle();
    await d.runDue();
  }

  test('one alert email naming domain, MX, reason and messages waiting; debounced; sent again after the window', async () => {
    const mid1 = await submit(sender, 'app@origin.test', ['user@dest.test']);
    await deliverAll(false);
    assert.equal(remote.messages.length, 0, 'nothing is sent where TLS is required');
    assert.equal(sink.messages.length, 1, 'exactly one alert email');
    const first = sink.messages[0]!;
    assert.deepEqual(first.rcpts, ['RCPT TO:<noc@alerts.test>'], 'only the recipient subscribed to tls warnings (not certificates-only, not system-critical-only)');
    assert.ok(sink.commands.includes('MAIL FROM:<>'), 'alerts go out from the null sender');
    assert.match(first.raw, /^From: gatehouse-alerts@gw\.test\r$/m);
    assert.match(first.raw, /^To: noc@alerts\.test\r$/m);
    assert.match(first.raw, /^Subject: \[Gatehouse warning\] TLS required for dest\.test but could not be negotiated with mx\.remote\.test\r$/m);
    assert.match(first.raw, /^Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r$/m);
    assert.match(first.raw, /^Message-ID: <alert\.[^@>]+@gw\.test>\r$/m);
    assert.match(first.raw, /^Destination domain: dest\.test\r$/m);
    assert.match(first.raw, new RegExp(`^MX: mx\\.remote\\.test \\(127\\.0\\.0\\.1 port ${remote.port}\\)\\r$`, 'm'));
    assert.match(first.raw, /^Reason: STARTTLS not offered\r$/m);
    assert.match(first.raw, /^Messages waiting for dest\.test: 1\r$/m);
    assert.match(first.raw, /^X-Gatehouse-Alert-Class: system, tls\r$/m);
    const log = (await sender.mailLog()).join('\n');
    const alertMid = Number(/Alert MID (\d+) queued \(system,tls warning\) to <noc@alerts\.test>: \[Gatehouse warning\] TLS required for dest\.test/.exec(log)?.[1]);
    assert.ok(alertMid > mid1, log);
    assert.match(log, new RegExp(`Message done DCID \\d+ MID ${alertMid} to RID \\[0\\]`), 'the alert was delivered by the scheduler like any message');

    // More failures inside the window: a second message, a retry 2 minutes later: no second alert.
    await submit(sender, 'app@origin.test', ['other@dest.test']);
    await deliverAll(false);
    clock.t += 2 * MIN;
    await deliverAll(true);
    assert.ok(remote.connections >= 3, `attempts: ${remote.connections}`);
    assert.equal(sink.messages.length, 1, 'debounced: still one alert');

    // After the 30-minute window: a new alert, now with both messages waiting.
    clock.t += 31 * MIN;
    await deliverAll(true);
    assert.equal(sink.messages.length, 2);
    assert.match(sink.messages[1]!.raw, /^Messages waiting for dest\.test: 2\r$/m);
  });

  test('alertconfig history lists what was sent', async () => {
    const r = await runCli(['--home', sender.layout.root, 'alertconfig', 'history']);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.split('\n').filter((l) => l.includes('TLS required for dest.test'));
    assert.equal(rows.length, 2, r.stdout);
    for (const row of rows) {
      assert.match(row, /system, tls\s+warning/);
      assert.match(row, /noc@alerts\.test/);
      assert.doesNotMatch(row, /certs@alerts\.test|sys@alerts\.test/);
    }
    const json = await runCli(['--home', sender.layout.root, '--json', 'alertconfig', 'history', '--limit', '1']);
    assert.equal(json.code, 0, json.stderr);
    const entries = JSON.parse(json.stdout) as { key: string; sent: boolean; mid: number; recipients: string[] }[];
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.key, 'required-tls:dest.test');
    assert.equal(entries[0]?.sent, true);
    assert.deepEqual(entries[0]?.recipients, ['noc@alerts.test']);
  });

  test('the global switch alertOnRequiredTlsFailure off: failures raise no alert', async () => {
    const next = structuredClone(sender.gateway.currentConfig);
    next.destinationControls.alertOnRequiredTlsFailure = false;
    await sender.gateway.apply(next);
    const before = sink.messages.length;
    const attempts = remote.connections;
    clock.t += 120 * MIN;
    await deliverAll(true);
    assert.ok(remote.connections > attempts, 'delivery was attempted again');
    assert.equal(sink.messages.length, before);
  });
});

describe('required-TLS alert loop guard', () => {
  test('an alert stuck behind the failing destination itself raises no further alert', async () => {
    const { dns, resolver } = await fakeDnsResolver({ 'mx.remote.test': { A: ['127.0.0.1'] } });
    const remote = await startScriptedMta({ ehlo: ['PIPELINING', '8BITMIME'] });
    const clock = new FakeClock(Date.now());
    const sender = await startSender(
      (c) => {
        c.smtpRoutes = [{ domain: 'dest.test', hosts: [`mx.remote.test:${remote.port}`] }];
        c.destinationControls.domains = [{ ...c.destinationControls.default, domain: 'dest.test', tls: 'required' }];
        // The only alert recipient is behind the destination whose TLS fails.
        c.alerts.recipients = [{ address: 'noc@dest.test', classes: ['tls'], severities: ['warning'] }];
        c.alerts.debounceMinutes = 30;
      },
      resolver,
      { clock },
    );
    try {
      const d = sender.gateway.delivery!;
      const alerts = sender.gateway.alerts!;
      const requiredTlsAlerts = () => readAlertHistory(sender.layout).filter((e) => e.raw['key'] === 'required-tls:dest.test');
      const mid = await submit(sender, 'app@origin.test', ['user@dest.test']);
      await d.runDue();
      await alerts.idle();
      await d.runDue();
      assert.equal(requiredTlsAlerts().length, 1);
      const alertMid = requiredTlsAlerts()[0]!.mid!;
      assert.ok(sender.gateway.spoolStore.get(alertMid)?.recipients[0]?.attempts, 'the alert itself was tried and deferred');
      // The real message goes away; only the alert waits for dest.test now.
      await d.deleteMessage(mid);
      const attempts = remote.connections;
      clock.t += 61 * MIN;
      await d.flush();
      await alerts.idle();
      assert.ok(remote.connections > attempts, 'the alert was retried and failed again');
      assert.equal(requiredTlsAlerts().length, 1, 'no alert about the alert');
      assert.deepEqual(
        sender.gateway.spoolStore.list().filter((m) => m.listener === ALERT_LISTENER).map((m) => m.mid),
        [alertMid],
      );
    } finally {
      await sender.stop();
      await remote.close();
      await dns.close();
    }
  });
});
