/**
 * Open-relay probes on the public listener (security catalogue §34): the 12
 * recipient forms of nmap's smtp-open-relay script (percent hack, bang paths,
 * quoted local parts, source routes, unqualified recipients, IP literals),
 * each from the three sender forms nmap uses (`<>`, a local sender, an
 * IP-literal sender), plus IPv6 literals, case variants and look-alike
 * domains. Every probe gets its exact refusal; the only accepted recipients
 * are the controls (a RAT domain and bare `postmaster`), and a transaction of
 * probes alone stores nothing. (test/inbound/access-policy.test.ts has the
 * short RAT checks; src/policy/recipient-access-table.test.ts the pure rules.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../harness/gateway-fixture.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';

const PROBE = '550 5.7.1 Recipient address rejected: address form not accepted';
const NOT_OURS = '550 5.7.1 Recipient address rejected';
const UNQUALIFIED = '501 5.1.3 Bad recipient address syntax: address must be fully qualified';
const BAD_LOCAL = '501 5.1.3 Bad recipient address syntax: invalid local part';

/** RCPT forward-path → the exact reply. `rcpt.test` is the listener's RAT domain, outside.test is not ours. */
const PROBES: [string, string][] = [
  // nmap smtp-open-relay.nse, with srv = our own accepted domain (the dangerous case) and IP = 127.0.0.1
  ['user%outside.test@[127.0.0.1]', PROBE],
  ['user%outside.test@rcpt.test', PROBE],
  ['"user@outside.test"', UNQUALIFIED],
  ['"user%outside.test"', UNQUALIFIED],
  ['user@outside.test@[127.0.0.1]', BAD_LOCAL],
  ['"user@outside.test"@[127.0.0.1]', PROBE],
  ['user@outside.test@rcpt.test', BAD_LOCAL],
  ['@[127.0.0.1]:user@outside.test', PROBE],
  ['@rcpt.test:user@outside.test', PROBE],
  ['outside.test!user', UNQUALIFIED],
  ['outside.test!user@[127.0.0.1]', PROBE],
  ['outside.test!user@rcpt.test', PROBE],
  // quoted local parts that hide routing, aimed at our own domain
  ['"user@outside.test"@rcpt.test', PROBE],
  ['"user%outside.test"@rcpt.test', PROBE],
  ['"outside.test!user"@rcpt.test', PROBE],
  // source routes that end in our own domain (the route is sender-specified routing: refused)
  ['@outside.test:user@rcpt.test', PROBE],
  ['@outside.test,@rcpt.test:user@rcpt.test', PROBE],
  // case variants
  ['USER%OUTSIDE.TEST@RCPT.TEST', PROBE],
  ['Outside.Test!User@Rcpt.Test', PROBE],
  // unqualified
  ['user', UNQUALIFIED],
  // IP literals (v4, v6, v4-mapped v6)
  ['user@[127.0.0.1]', PROBE],
  ['user@[IPv6:::1]', PROBE],
  ['user@[IPv6:::ffff:127.0.0.1]', PROBE],
  // plain third-party and look-alike domains
  ['user@outside.test', NOT_OURS],
  ['user@sub.rcpt.test', NOT_OURS],
  ['user@rcpt.test.outside.test', NOT_OURS],
  ['user@rcpt-test.outside.test', NOT_OURS],
];

const SENDERS = ['<>', '<nmap@rcpt.test>', '<nmap@[127.0.0.1]>'];

describe('open-relay probes on the public listener', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway((c) => {
      c.listeners.find((x) => x.name === 'IncomingMail')!.rat = ['rcpt.test'];
      // Every probe below is answered on one connection; the bad-command budget is tested elsewhere.
      c.smtp.maxBadCommands = 1000;
    });
  });
  after(async () => gw.stop());

  for (const sender of SENDERS) {
    test(`MAIL FROM:${sender}: every probe refused with its exact reply, nothing stored`, async () => {
      const stored = gw.gateway.spoolStore.size();
      const c = await SmtpTestClient.connect(gw.port('IncomingMail'));
      try {
        assert.equal((await c.read()).code, 220);
        await c.command('EHLO probe.test');
        assert.equal((await c.command(`MAIL FROM:${sender}`)).code, 250);
        const wrong: string[] = [];
        for (const [probe, expected] of PROBES) {
          const r = await c.command(`RCPT TO:<${probe}>`);
          if (r.text !== expected) wrong.push(`<${probe}> -> ${r.text} (expected ${expected})`);
        }
        assert.deepEqual(wrong, []);
        // No recipient was taken: DATA has nothing to deliver to.
        assert.equal((await c.command('DATA')).text, '554 5.5.1 No valid recipients');
        assert.equal((await c.command('RSET')).code, 250);
        // Controls on the same connection: our own domain and bare postmaster are accepted.
        assert.equal((await c.command(`MAIL FROM:${sender}`)).code, 250);
        assert.equal((await c.command('RCPT TO:<user@rcpt.test>')).text, '250 2.1.5 Recipient ok');
        assert.equal((await c.command('RCPT TO:<postmaster>')).text, '250 2.1.5 Recipient ok');
        assert.equal((await c.command('RSET')).code, 250);
        assert.equal(gw.gateway.spoolStore.size(), stored);
      } finally {
        c.close();
      }
    });
  }
});
