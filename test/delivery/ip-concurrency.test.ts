/**
 * The per-IP connection cap (`queue.maxConnectionsPerIp`): two destination
 * domains whose MX is the same host, each allowed more connections than the
 * cap, never hold more than the cap open to that host together; everything is
 * still delivered, exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DnsResolver } from '../../src/dns/resolver.js';
import type { FakeDns } from '../harness/fake-dns.js';
import { fakeDnsResolver, startScriptedMta, startSender, submit } from './delivery-fixture.js';

let dns: FakeDns;
let resolver: DnsResolver;

before(async () => {
  ({ dns, resolver } = await fakeDnsResolver({ 'mx.shared.test': { A: ['127.0.0.1'] } }));
});
after(async () => dns.close());

describe('per-IP connection cap across domains', () => {
  test('two domains on one MX: at most maxConnectionsPerIp sessions at once, all delivered once', async () => {
    // Dribbled replies keep each session open long enough for the workers to overlap.
    const mta = await startScriptedMta({ ehlo: ['PIPELINING', '8BITMIME'], dribble: true });
    const sender = await startSender((c) => {
      // Two domains, one next hop (routes stand in for MX records, which always mean port 25).
      c.smtpRoutes = ['one.test', 'two.test'].map((domain) => ({ domain, hosts: [`mx.shared.test:${mta.port}`] }));
      c.queue.maxConnectionsPerIp = 3;
      c.destinationControls.default.tls = 'no';
      c.destinationControls.default.maxConcurrency = 4;
      c.destinationControls.default.maxMessagesPerConnection = 1;
    }, resolver);
    try {
      const d = sender.gateway.delivery!;
      await d.stop(0);
      const n = 12;
      for (let i = 0; i < n; i++) await submit(sender, 's@origin.test', [`r${i}@${i % 2 === 0 ? 'one' : 'two'}.test`]);
      d.start();
      await d.flush();
      assert.equal(mta.messages.filter((m) => m.accepted).length, n, 'all delivered');
      for (let i = 0; i < n; i++) assert.equal(mta.messages.filter((m) => m.rcpts.includes(`RCPT TO:<r${i}@${i % 2 === 0 ? 'one' : 'two'}.test>`)).length, 1, `r${i} once`);
      assert.ok(mta.connections >= n, 'a connection per message (maxMessagesPerConnection 1)');
      assert.ok(mta.peakConnections <= 3, `peak ${mta.peakConnections} sessions at once`);
    } finally {
      await sender.stop();
      await mta.close();
    }
  });
});
