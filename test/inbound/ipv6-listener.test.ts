/**
 * IPv6 listeners end to end (SPEC §14): a listener on ::1 takes SMTP with
 * STARTTLS, logs the IPv6 addresses in the SPEC §9 form, matches IPv6 sender
 * group members (and never an IPv4 CIDR), counts per-IP connections for IPv6
 * clients, and writes an RFC 5321 IPv6 address literal in Received:. A listener
 * bound to an IPv4-mapped address shows its IPv4 clients as plain a.b.c.d (the
 * same path as IPv4 clients of a dual-stack `::` listener, without listening
 * beyond loopback).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config, Listener } from '../../src/config/schema.js';
import { freePort, startTestGateway, type TestGateway } from '../harness/gateway-fixture.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';

/** A copy of the public listener with its own name, address, port and host access table. */
function listenerLike(c: Config, name: string, address: string, port: number, senderGroups: Listener['senderGroups']): Listener {
  const copy = structuredClone(c.listeners.find((x) => x.name === 'IncomingMail')!);
  return { ...copy, name, address, port, senderGroups };
}

/** Connects, reads the greeting, QUITs when the session was accepted, and returns the lines logged for that ICID. */
async function story(gw: TestGateway, port: number, host: string, localAddress?: string): Promise<{ greeting: string; lines: string[] }> {
  const c = await SmtpTestClient.connect(port, host, localAddress);
  const greeting = (await c.read()).text;
  await c.command('QUIT');
  await c.waitClosed();
  const newest = async (): Promise<string[]> => {
    const lines = await gw.mailLog();
    const icids = lines.map((l) => /^Info: New SMTP ICID (\d+) /.exec(l)?.[1]).filter((x): x is string => x !== undefined);
    const icid = icids[icids.length - 1];
    return lines.filter((l) => icid !== undefined && new RegExp(`ICID ${icid}\\b`).test(l));
  };
  let lines = await newest();
  for (let i = 0; i < 200 && !lines.some((l) => / close$/.test(l)); i++) {
    await new Promise((r) => setTimeout(r, 10));
    lines = await newest();
  }
  return { greeting, lines };
}

describe('listeners on ::1', () => {
  let gw: TestGateway;
  let exactPort = 0;
  let mappedPort = 0;
  before(async () => {
    exactPort = await freePort();
    mappedPort = await freePort();
    gw = await startTestGateway((c) => {
      const pub = c.listeners.find((x) => x.name === 'IncomingMail')!;
      pub.address = '::1';
      pub.rat = ['example.test'];
      // IPv4 blocks first: a wrong family match would show up as REJECT.
      pub.senderGroups = [
        { name: 'BLOCKLIST', policy: 'BLOCKED', members: ['127.0.0.0/8', '0.0.0.0/0', '::ffff:0:0/96'], comment: '' },
        { name: 'ALLOWLIST', policy: 'TRUSTED', members: ['2001:db8::/32', '::1/128'], comment: '' },
      ];
      pub.policies.find((p) => p.name === 'TRUSTED')!.maxConnectionsPerIp = 2;
      c.listeners.push(
        listenerLike(c, 'ExactV6', '::1', exactPort, [
          { name: 'BLOCKLIST', policy: 'BLOCKED', members: ['127.0.0.1'], comment: '' },
          { name: 'SUSPECTLIST', policy: 'THROTTLED', members: ['::1'], comment: '' },
        ]),
        listenerLike(c, 'MappedV4', '::ffff:127.0.0.1', mappedPort, [
          { name: 'ALLOWLIST', policy: 'TRUSTED', members: ['::1'], comment: '' },
          { name: 'UNKNOWNLIST', policy: 'ACCEPTED', members: ['127.0.0.2/32'], comment: '' },
        ]),
      );
    });
  });
  after(async () => gw.stop());

  test('the SPEC §9 connection line shows the listener address and the IPv6 client; ::1/128 matches, IPv4 blocks do not', async () => {
    const { greeting, lines } = await story(gw, gw.port('IncomingMail'), '::1');
    assert.equal(greeting, '220 gw.test ESMTP');
    assert.match(lines[0] ?? '', /^Info: New SMTP ICID \d+ interface IncomingMail \(::1\) address ::1 reverse dns host localhost verified yes$/);
    assert.match(lines[1] ?? '', /^Info: ICID \d+ ACCEPT SG ALLOWLIST match ::1\/128 SBRS None$/);
  });

  test('a bare ::1 member matches; an IPv4 address member does not', async () => {
    const { lines } = await story(gw, exactPort, '::1');
    assert.match(lines[0] ?? '', /^Info: New SMTP ICID \d+ interface ExactV6 \(::1\) address ::1 reverse dns host localhost verified yes$/);
    assert.match(lines[1] ?? '', /^Info: ICID \d+ ACCEPT SG SUSPECTLIST match ::1 SBRS None$/);
  });

  test('STARTTLS and a message over IPv6; Received: carries the IPv6 address literal', async () => {
    const c = await SmtpTestClient.connect(gw.port('IncomingMail'), '::1');
    await c.read();
    assert.ok((await c.command('EHLO client.test')).lines.includes('STARTTLS'));
    const secure = await c.startTls({ servername: 'gw.test' });
    assert.match(secure.getProtocol() ?? '', /^TLSv1\.[23]$/);
    assert.equal((await c.command('EHLO client.test')).code, 250);
    const r = await c.send('a@sender.test', ['b@example.test'], 'Subject: v6\r\n\r\nover IPv6');
    assert.equal(r.code, 250, r.text);
    await c.command('QUIT');
    const mid = Number(/queued as (\d+)/.exec(r.text)?.[1]);
    const body = (await gw.gateway.spoolStore.readBody(mid)).toString('latin1');
    assert.match(body, /^Received: from client\.test \(localhost \[IPv6:::1\]\)\r\n\tby gw\.test \(Gatehouse\) with ESMTPS id \d+\r\n/);
    assert.equal(gw.gateway.spoolStore.get(mid)?.clientIp, '::1');
    await gw.waitForLog(/^Info: ICID \d+ TLS success protocol TLSv1\.[23] cipher \S+$/);
  });

  test('maxConnectionsPerIp counts IPv6 clients: the third connection from ::1 gets 421', async () => {
    const port = gw.port('IncomingMail');
    const open = [await SmtpTestClient.connect(port, '::1'), await SmtpTestClient.connect(port, '::1')];
    for (const c of open) assert.equal((await c.read()).code, 220);
    const third = await SmtpTestClient.connect(port, '::1');
    assert.equal((await third.read()).text, '421 4.7.0 gw.test Too many connections from your address, try again later');
    await third.waitClosed();
    await gw.waitForLog(/^Info: ICID \d+ limit maxConnectionsPerIp: 2$/);
    for (const c of open) {
      await c.command('QUIT');
      await c.waitClosed();
    }
    // Slots are given back: ::1 is welcome again.
    const again = await SmtpTestClient.connect(port, '::1');
    assert.equal((await again.read()).code, 220);
    again.close();
  });

  test('IPv4 clients of a mapped/dual-stack socket are plain a.b.c.d in the log and the HAT', async () => {
    const { lines } = await story(gw, mappedPort, '127.0.0.1', '127.0.0.2');
    assert.match(lines[0] ?? '', /^Info: New SMTP ICID \d+ interface MappedV4 \(::ffff:127\.0\.0\.1\) address 127\.0\.0\.2 reverse dns host localhost verified yes$/);
    assert.match(lines[1] ?? '', /^Info: ICID \d+ ACCEPT SG UNKNOWNLIST match 127\.0\.0\.2\/32 SBRS None$/);
    assert.ok(!lines.some((l) => l.includes('::ffff:127.0.0.2')), lines.join('\n'));
  });

  test('listener status reports the IPv6 addresses as configured', () => {
    const byName = new Map(gw.gateway.listenerStatus().map((l) => [l.name, l.address]));
    assert.equal(byName.get('IncomingMail'), '::1');
    assert.equal(byName.get('ExactV6'), '::1');
  });
});
