/**
 * Delay warnings (SPEC §5.3, `queue.delayWarningHours`) on a fake clock: a
 * message still queued after the configured time gets exactly one RFC 3464
 * DSN with `Action: delayed` (covering all its queued recipients, in any
 * domain), also across a restart; at the queue lifetime the usual failure DSN
 * follows. Never for the null sender.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import type { DnsResolver } from '../../src/dns/resolver.js';
import type { FakeDns } from '../harness/fake-dns.js';
import { startTestGateway, type TestGateway } from '../harness/gateway-fixture.js';
import { fakeDnsResolver, startScriptedMta, startSender, submit, type ScriptedMta } from './delivery-fixture.js';

let dns: FakeDns;
let resolver: DnsResolver;

before(async () => {
  ({ dns, resolver } = await fakeDnsResolver({ 'mx.remote.test': { A: ['127.0.0.1'] }, 'mx.sink.test': { A: ['127.0.0.1'] } }));
});
after(async () => dns.close());

class FakeClock {
  constructor(public t: number) {}
  now = (): number => this.t;
}

const H = 3_600_000;

function configure(remote: ScriptedMta, sink: ScriptedMta) {
  return (c: Config): void => {
    c.smtpRoutes = [
      { domain: 'origin.test', hosts: [`mx.sink.test:${sink.port}`] },
      { domain: 'ALL', hosts: [`mx.remote.test:${remote.port}`] },
    ];
    c.destinationControls.default.tls = 'no';
    c.queue.retryInitialSeconds = 1800;
    c.queue.retryMaxSeconds = 3600;
    c.queue.lifetimeHours = 12;
    c.queue.delayWarningHours = 2;
  };
}

/** Moves the clock to the soonest pending attempt of `mid` and runs a pass; false when the message is gone. */
async function step(gw: TestGateway, clock: FakeClock, mid: number): Promise<boolean> {
  const m = gw.gateway.spoolStore.get(mid);
  if (!m) return false;
  const next = Math.min(...m.recipients.filter((r) => r.state === 'pending').map((r) => r.nextAttemptAt));
  clock.t = Math.max(clock.t, next);
  await gw.gateway.delivery!.runDue();
  return true;
}

const dsnsTo = (sink: ScriptedMta, address: string): string[] => sink.messages.filter((m) => m.rcpts.includes(`RCPT TO:<${address}>`)).map((m) => m.raw);

describe('delay warnings', () => {
  test('one Action: delayed DSN after delayWarningHours, for all queued recipients, kept across a restart; then the failure DSN at the lifetime', async () => {
    const remote = await startScriptedMta({ ehlo: ['PIPELINING', '8BITMIME'], rcpt: '451 4.3.0 Try later' });
    const sink = await startScriptedMta({ ehlo: ['PIPELINING', '8BITMIME'] });
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    const t0 = clock.t;
    let gw = await startSender(configure(remote, sink), resolver, { clock });
    try {
      const mid = await submit(gw, 'waiting@origin.test', ['a@one.test', 'b@two.test']);
      await gw.gateway.delivery!.runDue();
      assert.equal(dsnsTo(sink, 'waiting@origin.test').length, 0, 'no warning before delayWarningHours');
      // Attempts at +30 min, +90 min: still no warning.
      while (clock.t < t0 + 2 * H) {
        assert.ok(await step(gw, clock, mid));
        if (clock.t < t0 + 2 * H) assert.equal(dsnsTo(sink, 'waiting@origin.test').length, 0, `no warning at +${(clock.t - t0) / 60_000} min`);
      }
      const warnings = dsnsTo(sink, 'waiting@origin.test');
      assert.equal(warnings.length, 1, 'the first deferral after 2 h sends the warning');
      const w = warnings[0]!;
      assert.match(w, /^Subject: Delayed Mail \(still being retried\)\r$/m);
      assert.match(w, /Content-Type: multipart\/report; report-type=delivery-status;/);
      assert.match(w, /Final-Recipient: rfc822; a@one\.test\r\nAction: delayed\r\nStatus: 4\.[0-9]\.[0-9]/);
      assert.match(w, /Final-Recipient: rfc822; b@two\.test\r\nAction: delayed\r\nStatus: 4\.[0-9]\.[0-9]/);
      assert.match(w, /Will-Retry-Until: Tue, 01 Jan 2030 12:00:00 \+0000/);
      assert.equal(sink.commands.filter((c) => c === 'MAIL FROM:<>').length, 1, 'sent from the null sender');
      assert.equal(gw.gateway.delivery!.counters.delayWarnings, 1);

      // A restart: the mark is in the spool, so no second warning.
      await gw.stop();
      gw = await startTestGateway(() => {}, { home: gw.layout.root, resolver, deliver: true, clock });
      while (clock.t < t0 + 6 * H) assert.ok(await step(gw, clock, mid));
      assert.equal(dsnsTo(sink, 'waiting@origin.test').length, 1, 'still one warning after more deferrals and a restart');

      // The lifetime: the failure DSN(s) follow; no more warnings.
      while (await step(gw, clock, mid)) if (clock.t > t0 + 20 * H) assert.fail('never expired');
      const all = dsnsTo(sink, 'waiting@origin.test');
      assert.equal(all.filter((x) => /Action: delayed/.test(x)).length, 1);
      assert.ok(all.filter((x) => /Action: failed/.test(x)).length >= 1, 'the failure DSN at the lifetime');
    } finally {
      await gw.stop();
      await remote.close();
      await sink.close();
    }
  });

  test('never for the null sender, and never when delayWarningHours is 0', async () => {
    const remote = await startScriptedMta({ ehlo: ['PIPELINING', '8BITMIME'], rcpt: '451 4.3.0 Try later' });
    const sink = await startScriptedMta({ ehlo: ['PIPELINING', '8BITMIME'] });
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    const gw = await startSender(
      (c) => {
        configure(remote, sink)(c);
        c.queue.delayWarningHours = 0;
      },
      resolver,
      { clock },
    );
    const gwNull = await startSender(configure(remote, sink), resolver, { clock });
    try {
      const mid = await submit(gw, 'off@origin.test', ['a@one.test']);
      const nullMid = await submit(gwNull, '', ['a@one.test']);
      for (let i = 0; i < 6; i++) {
        await step(gw, clock, mid);
        await step(gwNull, clock, nullMid);
      }
      assert.ok(clock.t - Date.UTC(2030, 0, 1) > 2 * H);
      assert.equal(gw.gateway.delivery!.counters.dsns, 0);
      assert.equal(gwNull.gateway.delivery!.counters.dsns, 0);
      assert.equal(sink.messages.length, 0);
    } finally {
      await gw.stop();
      await gwNull.stop();
      await remote.close();
      await sink.close();
    }
  });
});
