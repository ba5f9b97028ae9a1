/**
 * The outbound connection cache: a delivery connection whose domain has no
 * more work waits (2 s) for the next message instead of saying QUIT, so mail
 * that arrives one message at a time still shares one connection; it closes
 * when the wait is over, and at once on flush.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FakeDns } from '../harness/fake-dns.js';
import type { TestGateway } from '../harness/gateway-fixture.js';
import type { DnsResolver } from '../../src/dns/resolver.js';
import { fakeDnsResolver, startScriptedMta, startSender, submit, type ScriptedMta } from './delivery-fixture.js';

let dns: FakeDns;
let resolver: DnsResolver;
let mta: ScriptedMta;
let sender: TestGateway;

before(async () => {
  ({ dns, resolver } = await fakeDnsResolver({ 'mx.remote.test': { A: ['127.0.0.1'] } }));
  mta = await startScriptedMta({ starttls: 'refuse-454', ehlo: ['PIPELINING', '8BITMIME'] });
  sender = await startSender((c) => {
    c.smtpRoutes = [{ domain: 'ALL', hosts: [`mx.remote.test:${mta.port}`] }];
    c.destinationControls.default.tls = 'no';
  }, resolver);
});
after(async () => {
  await sender.stop();
  await mta.close();
  await dns.close();
});

const dcidOf = (line: string): number => Number(/DCID (\d+)/.exec(line)?.[1]);

test('messages arriving one by one share one connection, which closes after the idle wait', async () => {
  const first = await submit(sender, 'a@origin.test', ['one@dest.test']);
  const done1 = await sender.waitForLog(new RegExp(`Message done DCID \\d+ MID ${first} `));
  const dcid = dcidOf(done1);
  // Delivered; the connection is now waiting for work. The next message takes it.
  const second = await submit(sender, 'a@origin.test', ['two@dest.test']);
  const done2 = await sender.waitForLog(new RegExp(`Message done DCID \\d+ MID ${second} `));
  assert.equal(dcidOf(done2), dcid, 'the second message went over the same connection');
  assert.equal(mta.connections, 1);
  assert.equal(mta.messages.length, 2);
  assert.ok(!(await sender.mailLog()).some((l) => l === `Info: DCID ${dcid} close`), 'not closed between the two messages');
  // Nothing more to send: QUIT after the idle wait (2 s).
  await sender.waitForLog(new RegExp(`DCID ${dcid} close$`), 6000);
  assert.ok(mta.commands.includes('QUIT'));
});

test('flush closes a waiting connection before it resolves', async () => {
  const mid = await submit(sender, 'a@origin.test', ['three@dest.test']);
  const done = await sender.waitForLog(new RegExp(`Message done DCID \\d+ MID ${mid} `));
  await sender.gateway.delivery!.flush();
  const lines = await sender.mailLog();
  assert.ok(lines.includes(`Info: DCID ${dcidOf(done)} close`), 'closed by the time flush resolved');
});
