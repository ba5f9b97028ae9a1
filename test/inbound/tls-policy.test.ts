/**
 * Every cell of the inbound TLS policy: tls off / preferred / required, with a
 * client that does or does not STARTTLS; replies and mail-log lines as SPEC §4.2.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from '../../src/config/schema.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';
import { startTestGateway, type TestGateway } from '../harness/gateway-fixture.js';

function setAcceptedTls(level: 'off' | 'preferred' | 'required') {
  return (c: Config): void => {
    const l = c.listeners.find((x) => x.name === 'IncomingMail')!;
    l.rat = ['example.test'];
    l.policies.find((p) => p.name === 'ACCEPTED')!.tls = level;
  };
}

async function greet(gw: TestGateway): Promise<{ client: SmtpTestClient; ehlo: string[] }> {
  const client = await SmtpTestClient.connect(gw.port('IncomingMail'));
  const banner = await client.read();
  assert.equal(banner.code, 220);
  assert.equal(banner.text, '220 gw.test ESMTP');
  const ehlo = await client.command('EHLO client.test');
  assert.equal(ehlo.code, 250);
  return { client, ehlo: ehlo.lines };
}

describe('tls: off', () => {
  let gw: TestGateway;
  before(async () => (gw = await startTestGateway(setAcceptedTls('off'))));
  after(async () => gw.stop());

  test('STARTTLS is not offered and refused; plaintext mail is accepted', async () => {
    const { client, ehlo } = await greet(gw);
    assert.ok(!ehlo.includes('STARTTLS'));
    assert.deepEqual(ehlo.slice(1), ['PIPELINING', `SIZE ${20 * 1024 * 1024}`, '8BITMIME', 'ENHANCEDSTATUSCODES']);
    assert.equal((await client.command('STARTTLS')).code, 502);
    const r = await client.send('a@sender.test', ['b@example.test'], 'Subject: t\r\n\r\nhello');
    assert.equal(r.code, 250);
    client.close();
  });
});

describe('tls: preferred', () => {
  let gw: TestGateway;
  before(async () => (gw = await startTestGateway(setAcceptedTls('preferred'))));
  after(async () => gw.stop());

  test('client without STARTTLS delivers in plaintext', async () => {
    const { client, ehlo } = await greet(gw);
    assert.ok(ehlo.includes('STARTTLS'));
    assert.equal((await client.send('a@sender.test', ['b@example.test'], 'Subject: plain\r\n\r\nhi')).code, 250);
    assert.equal((await client.command('QUIT')).code, 221);
  });

  test('client with STARTTLS: session restarts, STARTTLS no longer offered, Received says ESMTPS with cipher', async () => {
    const { client } = await greet(gw);
    const secure = await client.startTls({ servername: 'gw.test' });
    assert.match(secure.getProtocol() ?? '', /^TLSv1\.[23]$/);
    // RFC 3207 §4.2: state is reset, MAIL before a new EHLO is out of sequence.
    assert.equal((await client.command('MAIL FROM:<a@sender.test>')).code, 503);
    const ehlo = await client.command('EHLO client.test');
    assert.ok(!ehlo.lines.includes('STARTTLS'));
    const r = await client.send('a@sender.test', ['b@example.test'], 'Subject: tls\r\n\r\nsecret');
    assert.equal(r.code, 250);
    const mid = Number(/queued as (\d+)/.exec(r.text)?.[1]);
    const body = (await gw.gateway.spoolStore.readBody(mid)).toString('latin1');
    assert.match(body, /^Received: from client\.test \(localhost \[127\.0\.0\.1\]\)\r\n\tby gw\.test \(Gatehouse\) with ESMTPS id \d+\r\n\t\(version=TLSv1\.[23] cipher=TLS_\w+\)\r\n\tfor <b@example\.test>;\r\n\t\w{3}, /);
    const log = await gw.mailLog();
    assert.ok(log.some((l) => /^Info: ICID \d+ TLS success protocol TLSv1\.[23] cipher \S+$/.test(l)), log.join('\n'));
    client.close();
  });
});

describe('tls: required', () => {
  let gw: TestGateway;
  before(async () => (gw = await startTestGateway(setAcceptedTls('required'))));
  after(async () => gw.stop());

  test('without STARTTLS every command but EHLO/HELO/NOOP/RSET/QUIT/STARTTLS gets 530, and the log says so', async () => {
    const { client } = await greet(gw);
    for (const allowed of ['NOOP', 'RSET', 'HELO client.test', 'EHLO client.test']) assert.equal((await client.command(allowed)).code, 250, allowed);
    for (const refused of ['MAIL FROM:<a@sender.test>', 'RCPT TO:<b@example.test>', 'DATA', 'VRFY bob', 'HELP']) {
      const r = await client.command(refused);
      assert.equal(r.text, '530 5.7.0 Must issue a STARTTLS command first', refused);
    }
    assert.equal((await client.command('QUIT')).code, 221);
    const log = await gw.mailLog();
    assert.ok(log.some((l) => /^Info: ICID \d+ TLS was required but remote host did not initiate it$/.test(l)), log.join('\n'));
    assert.equal(gw.gateway.spoolStore.size(), 0);
  });

  test('with STARTTLS the message is accepted', async () => {
    const { client } = await greet(gw);
    await client.startTls();
    await client.command('EHLO client.test');
    assert.equal((await client.send('a@sender.test', ['b@example.test'], 'Subject: x\r\n\r\ny')).code, 250);
    client.close();
  });

  test('a failed handshake is logged with the TLS library reason', async () => {
    const { client } = await greet(gw);
    assert.equal((await client.command('STARTTLS')).code, 220);
    await assert.rejects(client.upgrade({ maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA256' }));
    client.close();
    await gw.waitForLog(/^Info: ICID \d+ TLS failed: .*no shared cipher/);
  });
});
