/**
 * Postfix -> Gatehouse -> Postfix, verified TLS on both legs, proven by the
 * logs of tools no one here wrote.
 *
 * Two private Postfix instances (own config, queue and log; loopback ports; no DNS):
 * the sender relays everything to Gatehouse with smtp_tls_security_level = verify
 * against the openssl-made test root (match=gw.test); Gatehouse relays example.test
 * with destination control required-verify (custom CA list = that root, system
 * list disabled) to the receiver, which delivers into a Maildir. Negative control:
 * mismatch.test goes to the same receiver (which would accept it) under
 * required-verify, but the receiver's certificate does not name it, so Gatehouse
 * must not deliver it.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '../../test/harness/gateway-fixture.js';
import { findTool, runTool } from './external-tools.js';
import { GATEWAY_NAME, MISMATCH_DOMAIN, RECIPIENT_DOMAIN, startInteropRig, type InteropRig } from './interop-rig.js';
import { startPostfix, type PostfixInstance } from './postfix-instance.js';

let rig: InteropRig | undefined;
let sender: PostfixInstance | undefined;

before(async () => {
  for (const tool of ['postfix', 'swaks', 'openssl'] as const) findTool(tool);
  rig = await startInteropRig({ receiver: true });
  const gw = `[127.0.0.1]:${rig.gatehouse.port}`;
  sender = await startPostfix({
    dir: path.join(rig.dir, 'sender'),
    port: await freePort(),
    hostname: 'sender.localdomain',
    mainCf: {
      default_transport: `smtp:${gw}`,
      relay_transport: `smtp:${gw}`,
      transport_maps: `inline:{ { ${RECIPIENT_DOMAIN} = smtp:${gw} } }`,
      smtp_tls_security_level: 'verify',
      smtp_tls_CAfile: rig.pki.root.certFile,
      smtp_tls_policy_maps: `inline:{ { ${gw} = verify match=${GATEWAY_NAME} } }`,
    },
  });
});

after(async () => {
  await sender?.stop();
  await rig?.close();
});

test('a message from Postfix through Gatehouse to Postfix arrives, with verified TLS on both legs', async () => {
  assert.ok(rig && sender && rig.receiver);
  const marker = `interop-postfix-${process.pid}-${Date.now()}`;
  const swaks = await runTool('swaks', [
    '--server', '127.0.0.1', '--port', String(sender.port), '--helo', 'client.localdomain',
    '--from', 'alice@source.test', '--to', `bob@${RECIPIENT_DOMAIN}`, '--header', `Subject: ${marker}`,
  ]);
  assert.equal(swaks.code, 0, swaks.output);
  assert.match(swaks.output, /<- {2}250 2\.0\.0 Ok: queued as/);

  // Leg 1: Postfix's smtp client verified Gatehouse's chain (leaf + intermediate, test root) and name.
  const verified = await sender.waitForLog(new RegExp(`postfix/smtp\\[\\d+\\]: Verified TLS connection established to 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${rig.gatehouse.port}: (TLSv1\\.[23])`));
  assert.ok(verified[1] === 'TLSv1.3' || verified[1] === 'TLSv1.2');
  await sender.waitForLog(new RegExp(`to=<bob@${RECIPIENT_DOMAIN}>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${rig.gatehouse.port}, .*status=sent`));
  assert.doesNotMatch(sender.log(), /Untrusted TLS|Anonymous TLS connection established to|certificate verification failed/);

  // Leg 2: Gatehouse verified the receiver under required-verify.
  const dcidVerified = await rig.gatehouse.waitForMailLog(/DCID (\d+) TLS certificate verified: matched (\S+)/);
  assert.equal(dcidVerified[2], RECIPIENT_DOMAIN);
  const gwLog = rig.gatehouse.mailLog();
  assert.match(gwLog, new RegExp(`DCID ${dcidVerified[1]} TLS success protocol TLSv1\\.[23]`));
  assert.match(gwLog, /ICID \d+ TLS success protocol TLSv1\.[23]/, 'Postfix used STARTTLS into Gatehouse');
  assert.doesNotMatch(gwLog, /TLS was required but could not|verification failed/);

  // The receiver accepted it over TLS and delivered it.
  await rig.receiver.waitForLog(/postfix\/smtpd\[\d+\]: \w+ TLS connection established from unknown\[127\.0\.0\.1\]: TLSv1\.[23]/);
  await rig.receiver.waitForLog(new RegExp(`to=<bob@${RECIPIENT_DOMAIN}>, relay=virtual, .*status=sent \\(delivered to maildir\\)`));
  const message = await rig.waitForDelivery(marker);
  assert.match(message, new RegExp(`^Subject: ${marker}$`, 'm'));
  // Both hops are in the trace: Gatehouse received it from the sending Postfix over ESMTPS.
  assert.match(message, /^Received: from sender\.localdomain[\s\S]*?with ESMTPS/m);
});

test('negative control: under required-verify Gatehouse does not deliver to a server whose certificate does not name the domain', async () => {
  assert.ok(rig && sender && rig.receiver);
  const marker = `interop-mismatch-${process.pid}-${Date.now()}`;
  const swaks = await runTool('swaks', [
    '--server', '127.0.0.1', '--port', String(sender.port), '--helo', 'client.localdomain',
    '--from', 'alice@source.test', '--to', `dave@${MISMATCH_DOMAIN}`, '--header', `Subject: ${marker}`,
  ]);
  assert.equal(swaks.code, 0, swaks.output);
  // Postfix hands it to Gatehouse over verified TLS as before ...
  await sender.waitForLog(new RegExp(`to=<dave@${MISMATCH_DOMAIN}>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${rig.gatehouse.port}, .*status=sent`));
  // ... but Gatehouse refuses the receiver's certificate for mismatch.test and sends nothing.
  const failed = await rig.gatehouse.waitForMailLog(/DCID (\d+) TLS certificate verification failed: (certificate name mismatch: tried [^\n]*)/);
  assert.match(failed[2]!, new RegExp(`tried ${MISMATCH_DOMAIN.replace('.', '\\.')}\\b`));
  assert.match(failed[2]!, new RegExp(`presented DNS:${RECIPIENT_DOMAIN.replace('.', '\\.')}\\b`));
  await rig.gatehouse.waitForMailLog(new RegExp(`DCID ${failed[1]} IP 127\\.0\\.0\\.1 TLS was required but could not be successfully negotiated`));
  assert.doesNotMatch(rig.receiver.log(), new RegExp(`to=<dave@${MISMATCH_DOMAIN}>`));
  await assert.rejects(rig.waitForDelivery(marker, 1_000), /timed out/);
});
