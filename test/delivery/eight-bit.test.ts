/**
 * 8BITMIME at the next hop (SPEC §5.3, RFC 6152): an 8-bit single-part text
 * message to a next hop without 8BITMIME is converted to quoted-printable and
 * delivered 7-bit (no BODY=8BITMIME); what cannot be converted safely
 * (multipart here) bounces with 554 5.6.3 and a DSN; a next hop with 8BITMIME
 * gets the message unchanged with BODY=8BITMIME.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DnsResolver } from '../../src/dns/resolver.js';
import type { FakeDns } from '../harness/fake-dns.js';
import type { TestGateway } from '../harness/gateway-fixture.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';
import { fakeDnsResolver, startScriptedMta, startSender, type ScriptedMta } from './delivery-fixture.js';

let dns: FakeDns;
let resolver: DnsResolver;

before(async () => {
  ({ dns, resolver } = await fakeDnsResolver({ 'mx.remote.test': { A: ['127.0.0.1'] } }));
});
after(async () => dns.close());

/** Submits with BODY=8BITMIME (raw bytes); returns the MID. */
async function submit8bit(sender: TestGateway, from: string, to: string, body: Buffer): Promise<number> {
  const c = await SmtpTestClient.connect(sender.port('OutgoingMail'));
  await c.read();
  await c.command('EHLO client.test');
  assert.equal((await c.command(`MAIL FROM:<${from}> BODY=8BITMIME`)).code, 250);
  assert.equal((await c.command(`RCPT TO:<${to}>`)).code, 250);
  assert.equal((await c.command('DATA')).code, 354);
  c.write(Buffer.concat([body, Buffer.from('.\r\n')]));
  const r = await c.read();
  await c.command('QUIT');
  c.close();
  assert.equal(r.code, 250, r.text);
  return Number(/queued as (\d+)/.exec(r.text)?.[1]);
}

const TEXT = 'Grüße aus Köln — 100 €\r\n';
const SINGLE = Buffer.concat([Buffer.from('Subject: umlauts\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'), Buffer.from(TEXT, 'utf8')]);
const MULTI = Buffer.concat([
  Buffer.from('Subject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'),
  Buffer.from(TEXT, 'utf8'),
  Buffer.from('--b--\r\n'),
]);

async function senderTo(mta: ScriptedMta): Promise<TestGateway> {
  return startSender((c) => {
    c.smtpRoutes = [{ domain: 'ALL', hosts: [`mx.remote.test:${mta.port}`] }];
    c.destinationControls.default.tls = 'no';
  }, resolver);
}

describe('8-bit messages and next hops without 8BITMIME', () => {
  test('single-part text: converted to quoted-printable, delivered 7-bit without BODY=8BITMIME', async () => {
    const mta = await startScriptedMta({ ehlo: ['PIPELINING'] });
    const sender = await senderTo(mta);
    try {
      const mid = await submit8bit(sender, 's@origin.test', 'r@dest.test', SINGLE);
      await sender.gateway.delivery!.runDue();
      const log = (await sender.mailLog()).join('\n');
      assert.match(log, new RegExp(`DCID \\d+ MID ${mid} 8-bit body converted to quoted-printable: the next hop does not support 8BITMIME`));
      assert.match(log, new RegExp(`Message done DCID \\d+ MID ${mid} to RID \\[0\\]`));
      assert.equal(mta.messages.length, 1);
      const raw = mta.messages[0]!.raw;
      assert.ok([...raw].every((ch) => ch.charCodeAt(0) < 0x80), '7-bit only on the wire');
      assert.match(raw, /\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe aus K=C3=B6ln =E2=80=94 100 =E2=82=AC\r\n$/);
      assert.doesNotMatch(raw, /Content-Transfer-Encoding: 8bit/);
      assert.match(raw, /^Received: /, 'our trace header stays');
      const mail = mta.commands.find((c) => c.startsWith('MAIL FROM:<s@origin.test>'));
      assert.ok(mail);
      assert.doesNotMatch(mail, /BODY=/);
    } finally {
      await sender.stop();
      await mta.close();
    }
  });

  test('multipart: not converted, bounced 554 5.6.3 with a DSN to the sender', async () => {
    const mta = await startScriptedMta({ ehlo: ['PIPELINING'] });
    const sender = await senderTo(mta);
    try {
      const mid = await submit8bit(sender, 's@origin.test', 'r@dest.test', MULTI);
      await sender.gateway.delivery!.runDue();
      const log = (await sender.mailLog()).join('\n');
      assert.match(log, new RegExp(`Bounced: DCID \\d+ MID ${mid} to RID 0 - 554 5\\.6\\.3 Message has 8-bit content that cannot be converted \\(multipart/mixed bodies are not converted\\)`));
      assert.ok(!mta.messages.some((m) => m.rcpts.includes('RCPT TO:<r@dest.test>')), 'nothing sent');
      const dsn = mta.messages.find((m) => m.rcpts.includes('RCPT TO:<s@origin.test>'));
      assert.ok(dsn, 'the DSN reached the sender');
      assert.match(dsn.raw, /Action: failed\r\nStatus: 5\.6\.3/);
    } finally {
      await sender.stop();
      await mta.close();
    }
  });

  test('a next hop with 8BITMIME gets the bytes unchanged, with BODY=8BITMIME', async () => {
    const mta = await startScriptedMta({ ehlo: ['PIPELINING', '8BITMIME'] });
    const sender = await senderTo(mta);
    try {
      await submit8bit(sender, 's@origin.test', 'r@dest.test', SINGLE);
      await sender.gateway.delivery!.runDue();
      assert.equal(mta.messages.length, 1);
      assert.ok(Buffer.from(mta.messages[0]!.raw, 'latin1').includes(Buffer.from(TEXT, 'utf8')), 'the UTF-8 text as it was');
      assert.match(mta.messages[0]!.raw, /Content-Transfer-Encoding: 8bit\r\n/);
      assert.match(mta.commands.find((c) => c.startsWith('MAIL FROM:<s@origin.test>')) ?? '', / BODY=8BITMIME/);
    } finally {
      await sender.stop();
      await mta.close();
    }
  });
});
