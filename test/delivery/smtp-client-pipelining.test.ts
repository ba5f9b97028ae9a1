/**
 * The SMTP client's pipelining across transactions (RFC 2920 §3.1): the next message's envelope
 * goes out with the previous end of data. What the client promises when that envelope is never
 * followed by its message: the next hop never gets a complete transaction for it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CLIENT_TIMEOUTS, SmtpClient, type MailTransaction } from '../../src/smtp/outbound/smtp-client.js';
import { startScriptedMta } from './delivery-fixture.js';

const tx = (to: string): MailTransaction => ({ from: 'a@origin.test', recipients: [to], body: Buffer.from(`Subject: ${to}\r\n\r\nhello\r\n`), bodyType: '7BIT' });

async function connectTo(port: number) {
  const client = await SmtpClient.connect({ ip: '127.0.0.1', port, timeouts: DEFAULT_CLIENT_TIMEOUTS });
  assert.equal((await client.greeting()).code, 220);
  const { caps } = await client.hello('client.test');
  return { client, caps };
}

test('a pipelined envelope that is followed by its message: both delivered on one connection, one round trip for the second', async () => {
  const mta = await startScriptedMta({ starttls: 'refuse-454', ehlo: ['PIPELINING'] });
  try {
    const { client, caps } = await connectTo(mta.port);
    const [one, two] = [tx('one@dest.test'), tx('two@dest.test')];
    const r1 = await client.transaction(one, caps, two);
    assert.equal(r1.final?.code, 250);
    assert.equal(r1.nextSent, true);
    const r2 = await client.transaction(two, caps);
    assert.equal(r2.final?.code, 250);
    assert.equal(r2.nextSent, false);
    await client.quit();
    assert.deepEqual(mta.messages.map((m) => [m.rcpts.join(), m.accepted]), [
      ['RCPT TO:<one@dest.test>', true],
      ['RCPT TO:<two@dest.test>', true],
    ]);
    assert.equal(mta.commands.filter((c) => c.startsWith('MAIL')).length, 2);
  } finally {
    await mta.close();
  }
});

test('a pipelined envelope whose message is never sent: quit closes without QUIT (it would be message data) and the next hop gets no message', async () => {
  const mta = await startScriptedMta({ starttls: 'refuse-454', ehlo: ['PIPELINING'] });
  try {
    const { client, caps } = await connectTo(mta.port);
    const r1 = await client.transaction(tx('one@dest.test'), caps, tx('two@dest.test'));
    assert.equal(r1.nextSent, true);
    await client.quit();
    await new Promise((r) => setTimeout(r, 100)); // let the close reach the server
    assert.equal(mta.messages.length, 1, 'only the first message was completed');
    assert.ok(mta.commands.includes('RCPT TO:<two@dest.test>'), 'the second envelope did go out');
    assert.ok(!mta.commands.includes('QUIT'));
  } finally {
    await mta.close();
  }
});

test('skipping the transaction whose envelope already went out is refused', async () => {
  const mta = await startScriptedMta({ starttls: 'refuse-454', ehlo: ['PIPELINING'] });
  try {
    const { client, caps } = await connectTo(mta.port);
    await client.transaction(tx('one@dest.test'), caps, tx('two@dest.test'));
    await assert.rejects(client.transaction(tx('three@dest.test'), caps), /a pipelined transaction was skipped/);
    client.destroy();
  } finally {
    await mta.close();
  }
});

test('without PIPELINING the next envelope is not sent early', async () => {
  const mta = await startScriptedMta({ starttls: 'refuse-454', ehlo: ['8BITMIME'] });
  try {
    const { client, caps } = await connectTo(mta.port);
    const r1 = await client.transaction(tx('one@dest.test'), caps, tx('two@dest.test'));
    assert.equal(r1.final?.code, 250);
    assert.equal(r1.nextSent, false);
    await client.quit();
    assert.ok(mta.commands.includes('QUIT'));
    assert.ok(!mta.commands.includes('RCPT TO:<two@dest.test>'));
  } finally {
    await mta.close();
  }
});

test('a pipelined envelope is UTF-8 like every other command (SMTPUTF8 addresses are not mangled)', async () => {
  const mta = await startScriptedMta({ starttls: 'refuse-454', ehlo: ['PIPELINING', 'SMTPUTF8'] });
  try {
    const { client, caps } = await connectTo(mta.port);
    const [one, two] = [tx('ünï@dest.test'), tx('zwëi@dest.test')];
    assert.equal((await client.transaction(one, caps, two)).nextSent, true);
    assert.equal((await client.transaction(two, caps)).final?.code, 250);
    await client.quit();
    // The scripted MTA reads bytes as latin1: UTF-8 shows as two characters per non-ASCII letter.
    const asReceived = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
    assert.ok(mta.commands.includes(asReceived('RCPT TO:<ünï@dest.test>')), mta.commands.join('\n'));
    assert.ok(mta.commands.includes(asReceived('RCPT TO:<zwëi@dest.test>')), mta.commands.join('\n'));
  } finally {
    await mta.close();
  }
});
