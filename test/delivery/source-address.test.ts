/**
 * The outbound source address (SPEC §14, `destinationControls.sourceAddressV4`
 * / `sourceAddressV6`): a delivery connection binds the source address of the
 * next hop's family, the next hop sees it, and the DCID line names it as the
 * interface; an IPv6 next hop (an `[::1]` route, or AAAA with prefer-v6) uses
 * the IPv6 one; an address the machine does not have gives a Connection Error
 * naming it and a deferral, never a crash.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config/schema.js';
import type { DnsResolver } from '../../src/dns/resolver.js';
import type { FakeDns } from '../harness/fake-dns.js';
import { deliveryLines, fakeDnsResolver, startScriptedMta, startSender, submit, type ScriptedMta } from './delivery-fixture.js';

let dns: FakeDns;
let resolver: DnsResolver;

before(async () => {
  // 127.0.0.9 has no listener: a hop tried there first would show up as a Connection Error.
  ({ dns, resolver } = await fakeDnsResolver({ 'dual.remote.test': { A: ['127.0.0.9'], AAAA: ['::1'] } }));
});
after(async () => dns.close());

/** Plain delivery (no TLS, so the story is short) through one route, with the given source addresses. */
function sourced(route: string, v4: string | null, v6: string | null, extra: (c: Config) => void = () => {}) {
  return (c: Config): void => {
    c.smtpRoutes = [{ domain: 'ALL', hosts: [route] }];
    c.destinationControls.default.tls = 'no';
    c.destinationControls.sourceAddressV4 = v4;
    c.destinationControls.sourceAddressV6 = v6;
    extra(c);
  };
}

describe('outbound source address', () => {
  let mta4: ScriptedMta;
  let mta6: ScriptedMta;
  before(async () => {
    mta4 = await startScriptedMta({ ehlo: ['PIPELINING', '8BITMIME'] });
    mta6 = await startScriptedMta({ ehlo: ['PIPELINING', '8BITMIME'], host: '::1' });
  });
  after(async () => {
    await mta4.close();
    await mta6.close();
  });

  test('IPv4 next hop: the connection comes from sourceAddressV4 and the log says interface 127.0.0.2', async () => {
    const sender = await startSender(sourced(`[127.0.0.1]:${mta4.port}`, '127.0.0.2', '::1'), resolver);
    try {
      const before = mta4.peers.length;
      const mid = await submit(sender, 's@origin.test', ['r@v4.test']);
      await sender.gateway.delivery!.runDue();
      const lines = await deliveryLines(sender, mid);
      assert.ok(lines.some((l) => new RegExp(`^New SMTP DCID \\d+ interface 127\\.0\\.0\\.2 address 127\\.0\\.0\\.1 port ${mta4.port}$`).test(l)), lines.join('\n'));
      assert.ok(lines.some((l) => new RegExp(`^Message done DCID \\d+ MID ${mid} to RID \\[0\\]$`).test(l)), lines.join('\n'));
      assert.deepEqual(mta4.peers.slice(before), ['127.0.0.2'], 'the next hop saw the source address');
    } finally {
      await sender.stop();
    }
  });

  test('without a source address the OS chooses (127.0.0.1 towards 127.0.0.1)', async () => {
    const sender = await startSender(sourced(`[127.0.0.1]:${mta4.port}`, null, null), resolver);
    try {
      const before = mta4.peers.length;
      const mid = await submit(sender, 's@origin.test', ['r@os.test']);
      await sender.gateway.delivery!.runDue();
      const lines = await deliveryLines(sender, mid);
      assert.ok(lines.some((l) => /^New SMTP DCID \d+ interface 127\.0\.0\.1 address 127\.0\.0\.1 port \d+$/.test(l)), lines.join('\n'));
      assert.deepEqual(mta4.peers.slice(before), ['127.0.0.1']);
    } finally {
      await sender.stop();
    }
  });

  test('IPv6 route [::1]:port: the connection comes from sourceAddressV6, not the IPv4 one', async () => {
    const sender = await startSender(sourced(`[::1]:${mta6.port}`, '127.0.0.2', '::1'), resolver);
    try {
      const before = mta6.peers.length;
      const mid = await submit(sender, 's@origin.test', ['r@v6.test']);
      await sender.gateway.delivery!.runDue();
      const lines = await deliveryLines(sender, mid);
      assert.ok(lines.some((l) => new RegExp(`^New SMTP DCID \\d+ interface ::1 address ::1 port ${mta6.port}$`).test(l)), lines.join('\n'));
      assert.ok(lines.some((l) => new RegExp(`^Message done DCID \\d+ MID ${mid} to RID \\[0\\]$`).test(l)), lines.join('\n'));
      assert.deepEqual(mta6.peers.slice(before), ['::1']);
      assert.ok(mta6.messages.some((m) => m.rcpts.includes('RCPT TO:<r@v6.test>')));
    } finally {
      await sender.stop();
    }
  });

  test('AAAA with ipPreference prefer-v6: the IPv6 address is tried first, from the IPv6 source', async () => {
    const sender = await startSender(
      sourced(`dual.remote.test:${mta6.port}`, '127.0.0.2', '::1', (c) => {
        c.destinationControls.default.ipPreference = 'prefer-v6';
      }),
      resolver,
    );
    try {
      const mid = await submit(sender, 's@origin.test', ['r@dual.test']);
      await sender.gateway.delivery!.runDue();
      const lines = await deliveryLines(sender, mid);
      const opened = lines.filter((l) => l.startsWith('New SMTP DCID'));
      assert.equal(opened.length, 1, lines.join('\n'));
      assert.match(opened[0] ?? '', new RegExp(`^New SMTP DCID \\d+ interface ::1 address ::1 port ${mta6.port}$`));
      assert.ok(!lines.some((l) => l.startsWith('Connection Error')), lines.join('\n'));
      assert.ok(lines.some((l) => new RegExp(`^Message done DCID \\d+ MID ${mid} to RID \\[0\\]$`).test(l)), lines.join('\n'));
    } finally {
      await sender.stop();
    }
  });

  test('a source address the machine does not have: Connection Error naming it, the message defers, the gateway goes on', async () => {
    // ::2 is on no interface: the bind is refused locally (EADDRNOTAVAIL) before anything is sent.
    // (The test gateway commits without the commit-time check, which would refuse it: see test/cli/destconfig.test.ts.)
    const sender = await startSender(sourced(`[::1]:${mta6.port}`, null, '::2'), resolver);
    try {
      const before = mta6.connections;
      const mid = await submit(sender, 's@origin.test', ['r@bad.test']);
      await sender.gateway.delivery!.runDue();
      const lines = await deliveryLines(sender, mid);
      // No connection opened, so the error line has no New SMTP DCID line to hang on: read the whole log.
      const error = (await sender.mailLog()).find((l) => l.startsWith('Info: Connection Error'));
      assert.match(
        error ?? lines.join('\n'),
        new RegExp(
          `^Info: Connection Error: DCID \\d+ domain: bad\\.test IP:::1 port: ${mta6.port} details: source address ::2 cannot be used: it is not an address of this machine \\(EADDRNOTAVAIL\\) interface: ::2 reason: network error$`,
        ),
      );
      assert.ok(lines.some((l) => new RegExp(`^Delayed: DCID \\d+ MID ${mid} to RID 0 - 451 4\\.4\\.1 Connection to \\[::1\\]:${mta6.port} failed: source address ::2 cannot be used`).test(l)), lines.join('\n'));
      assert.equal(mta6.connections, before, 'nothing reached the next hop');
      const queued = sender.gateway.spoolStore.get(mid);
      assert.equal(queued?.recipients[0]?.state, 'pending');
      // Still alive: another pass runs and defers again.
      await sender.gateway.delivery!.flush();
      assert.ok(sender.gateway.spoolStore.get(mid));
    } finally {
      await sender.stop();
    }
  });
});
