/**
 * Certificate expiry alerts (SPEC §6.4) on a running gateway with a fake
 * clock: a profile leaf and a custom CA expiring together raise one alert
 * each at 90, 60, 30, 15, 5, 4, 3, 2, 1 days, on the day and after expiry
 * (warning before, critical from the day on), each threshold once however
 * often it is checked, and a restart (the sent thresholds are kept in
 * <home>/state) sends none again. The alert messages are in the spool.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Gateway } from '../../src/app/gateway.js';
import { ConfigStore } from '../../src/config/config-store.js';
import { homeLayout } from '../../src/core/home-layout.js';
import { ALERT_LISTENER } from '../../src/alerts/alert.js';
import { EXPIRY_STATE_FILE } from '../../src/alerts/certificate-expiry-alert.js';
import { readAlertHistory } from '../../src/services/alert-history.js';
import { KeyStore } from '../../src/tls/key-store.js';
import { offlineResolver, startTestGateway, tempHome } from '../harness/gateway-fixture.js';
import { createTestPki } from '../harness/pki-fixture.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

class FakeClock {
  constructor(public t: number) {}
  now = (): number => this.t;
}

describe('certificate expiry alerts', () => {
  const home = tempHome('gatehouse-expiry-');
  const layout = homeLayout(home);
  const clock = new FakeClock(Date.now());
  const notAfter = new Date(Math.floor((clock.t + 100 * DAY) / 1000) * 1000);
  let gateway: Gateway;

  before(async () => {
    const pki = await createTestPki();
    const leaf = await pki.server(['expiring.test'], { notAfter });
    const ca = await pki.ca('Expiring Test CA', { notAfter });
    const keyRef = await new KeyStore(layout.keysDir).put(leaf.privateKeyPem);
    const gw = await startTestGateway(
      (c) => {
        c.certificates.push({ name: 'Expiring', source: 'imported', certificate: leaf.certificatePem, intermediates: leaf.chainPem, key: keyRef });
        c.trustStore.custom.push({ name: 'Expiring Test CA', certificate: ca.certificatePem });
        c.alerts.recipients = [{ address: 'certs@alerts.test', classes: ['certificates'], severities: ['critical', 'warning'] }];
        c.queue.fsync = false;
      },
      { home, clock },
    );
    gateway = gw.gateway;
  });
  after(async () => gateway?.stop(1000));

  /** History entries about the two test certificates (the home's Demo profile is left out). */
  const ours = () => readAlertHistory(layout).filter((e) => /"Expiring"|"Expiring Test CA"/.test(e.subject));

  async function checkTwice(): Promise<void> {
    await gateway.alerts!.idle();
    await gateway.alerts!.checkNow();
    await gateway.alerts!.checkNow();
  }

  async function restart(): Promise<void> {
    await gateway.stop(1000);
    const config = new ConfigStore(layout).committed().config;
    gateway = new Gateway({ layout, config, clock, resolver: offlineResolver, deliver: false });
    await gateway.start();
  }

  test('each threshold once, for the profile and the custom CA; a restart resends nothing', async () => {
    await checkTwice();
    assert.equal(ours().length, 0, 'more than 90 days left: nothing');
    const steps: [string, number, 'warning' | 'critical'][] = [
      ...[90, 60, 30, 15, 5, 4, 3, 2, 1].map((d): [string, number, 'warning'] => [`expires in ${d} day${d === 1 ? '' : 's'}`, notAfter.getTime() - d * DAY - HOUR, 'warning']),
      ['expires today', notAfter.getTime() - HOUR, 'critical'],
      ['has expired', notAfter.getTime() + HOUR, 'critical'],
      ['has expired', notAfter.getTime() + DAY + HOUR, 'critical'],
    ];
    for (const [i, [what, at, severity]] of steps.entries()) {
      clock.t = at;
      await checkTwice();
      if (i === 3) {
        // Two hours on (past the 60-minute debounce, still in the 15-day stage), restart: the
        // sent thresholds come from <home>/state, so nothing is sent again.
        clock.t += 2 * HOUR;
        await restart();
        await checkTwice();
      }
      const entries = ours();
      assert.equal(entries.length, 2 * (i + 1), `step ${i} (${what}): ${entries.map((e) => e.subject).join('; ')}`);
      const latest = entries.slice(-2);
      assert.deepEqual(latest.map((e) => e.subject).sort(), [`Certificate profile "Expiring" ${what}`, `Custom CA "Expiring Test CA" ${what}`]);
      for (const e of latest) {
        assert.equal(e.severity, severity);
        assert.equal(e.class, 'certificates');
        assert.deepEqual(e.recipients, ['certs@alerts.test']);
        assert.equal(e.sent, true);
      }
    }
    // The alert messages are queued in this gateway's spool.
    const alertMessages = gateway.spoolStore.list().filter((m) => m.listener === ALERT_LISTENER);
    const mids = new Set(ours().map((e) => e.mid));
    assert.equal(alertMessages.filter((m) => mids.has(m.mid)).length, ours().length);
    const thirty = ours().find((e) => e.subject === 'Certificate profile "Expiring" expires in 30 days')!;
    const body = (await gateway.spoolStore.readBody(thirty.mid!)).toString('utf8');
    assert.match(body, /^Subject: \[Gatehouse warning\] Certificate profile "Expiring" expires in 30 days\r$/m);
    assert.match(body, /^Certificate profile "Expiring" \(CN=expiring\.test\) expires in 30 days /m);
    assert.match(body, /^Renew it: gatehouse certconfig csr Expiring/m);
    // The sent thresholds are on disk, 0600.
    const state = path.join(layout.stateDir, EXPIRY_STATE_FILE);
    assert.equal((fs.statSync(state).mode & 0o777).toString(8), '600');
    const sent = (JSON.parse(fs.readFileSync(state, 'utf8')) as { sent: string[] }).sent.filter((k) => k.includes(':Expiring'));
    assert.equal(sent.length, 24);
  });
});
