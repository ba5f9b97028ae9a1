/**
 * Syslog forwarding of the mail log (SPEC §9, `logging.mailLog.syslog`) against
 * a fake syslog server on loopback: a real gateway sends exactly the lines of
 * mail.current, with PRI, timestamp, host and tag; TCP frames are octet-counted;
 * a server that is down never holds mail up, overflow is counted and a
 * reconnect delivers later lines; a new configuration turns it on and off.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SyslogSender } from '../../src/logging/syslog-sender.js';
import { parseSyslogTarget } from '../../src/config/syslog-settings.js';
import { validateConfig } from '../../src/services/validate-config.js';
import { freePort, startTestGateway, type TestGateway } from '../harness/gateway-fixture.js';
import { testConfig } from '../harness/edit-fixture.js';
import { startTcpSyslogReceiver, startUdpSyslogReceiver } from '../harness/syslog-receiver.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';

const HEADER = /^<(\d+)>(\w{3} [ \d]\d \d\d:\d\d:\d\d) (\S+) (\S+): (.*)$/;

/** One relayed message through OutgoingMail; returns the reply to the end of DATA. */
async function relayOne(gw: TestGateway): Promise<number> {
  const c = await SmtpTestClient.connect(gw.port('OutgoingMail'));
  await c.read();
  await c.command('EHLO client.test');
  const r = await c.send('alice@corp.test', ['bob@dest.test'], 'Subject: hi\r\n\r\nhello\r\n');
  await c.command('QUIT');
  c.close();
  return r.code;
}

/** `Info: text` of each syslog message, after checking its header. */
function bodies(messages: readonly string[], pri: number, tag: string): string[] {
  return messages.map((m) => {
    const h = HEADER.exec(m);
    assert.ok(h, `syslog header: ${m}`);
    assert.equal(h[3], 'gw.test');
    assert.equal(h[4], tag);
    if (h[5]!.startsWith('Info: ')) assert.equal(Number(h[1]), pri, m);
    return h[5]!;
  });
}

describe('syslog forwarding of the mail log', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  test('UDP: a gateway sends every mail.current line, in order, as <22>Mmm dd hh:mm:ss gw.test mail_logs: Info: ...', async () => {
    const rx = await startUdpSyslogReceiver();
    cleanups.push(() => rx.close());
    const gw = await startTestGateway((c) => {
      c.logging.mailLog.syslog.target = rx.target;
    });
    assert.equal(await relayOne(gw), 250);
    const icid = await rx.waitFor(/ mail_logs: Info: New SMTP ICID \d+ interface OutgoingMail /);
    assert.match(icid, /^<22>\w{3} [ \d]\d \d\d:\d\d:\d\d gw\.test mail_logs: Info: New SMTP ICID \d+ interface OutgoingMail \(127\.0\.0\.1\) address 127\.0\.0\.1 reverse dns host /);
    await gw.waitForLog(/ICID \d+ close/);
    assert.equal(gw.gateway.syslogStats()?.target, rx.target);
    const fileLines = await gw.mailLog();
    await gw.stop();
    await rx.waitFor(/Info: Gatehouse stopped$/);
    const fileAfterStop = await gw.mailLog();
    assert.ok(fileAfterStop.length > fileLines.length);
    // Exactly the text lines of mail.current (`Info: ...` after the ctime), nothing more, same order.
    assert.deepEqual(bodies(rx.messages, 22, 'mail_logs'), fileAfterStop);
  });

  test('TCP: octet-counted frames, facility and tag from the configuration, Warning PRI', async () => {
    const rx = await startTcpSyslogReceiver();
    cleanups.push(() => rx.close());
    const gw = await startTestGateway((c) => {
      c.logging.mailLog.syslog = { target: rx.target, facility: 'local3', tag: 'gatehouse', queueLines: 100 };
    });
    cleanups.push(() => gw.stop());
    assert.equal(await relayOne(gw), 250);
    // A control character in a logged value stays escaped: one event is still one frame.
    gw.gateway.log.emit({ event: 'icid.tls.client-cert-rejected', icid: 999, reason: 'bad\r\n<13>Jan  1 00:00:00 forged: x' });
    const warning = await rx.waitFor(/ICID 999 /);
    assert.equal(warning.slice(0, 5), `<${19 * 8 + 4}>`);
    assert.match(warning, / gw\.test gatehouse: Warning: ICID 999 TLS client certificate rejected: bad\\x0D\\x0A<13>Jan {2}1 00:00:00 forged: x$/);
    const start = await rx.waitFor(/ gatehouse: Info: Start MID \d+ ICID \d+$/);
    assert.equal(start.slice(0, 5), `<${19 * 8 + 6}>`);
    await gw.waitForLog(/ICID \d+ close/);
    await rx.waitFor(/ICID \d+ close$/);
    assert.deepEqual(rx.framingErrors, []);
    assert.equal(rx.connections(), 1, 'one connection carries every line');
    const file = await gw.mailLog();
    assert.deepEqual(bodies(rx.messages, 19 * 8 + 6, 'gatehouse'), file);
    const stats = gw.gateway.syslogStats();
    assert.equal(stats?.connected, true);
    assert.equal(stats?.dropped, 0);
    assert.equal(stats?.sent, file.length);
  });

  test('TCP server down: mail still flows, overflow is dropped and counted, a reconnect delivers later lines', async () => {
    const port = await freePort(); // nothing listens here yet
    const gw = await startTestGateway(
      (c) => {
        c.logging.mailLog.syslog = { target: `tcp:127.0.0.1:${port}`, facility: 'mail', tag: 'mail_logs', queueLines: 3 };
      },
      { syslogRetryMs: { initial: 20, max: 100 } },
    );
    cleanups.push(() => gw.stop());
    assert.equal(await relayOne(gw), 250, 'the message is accepted while syslog is unreachable');
    await gw.waitForLog(/ICID \d+ close/);
    const down = gw.gateway.syslogStats();
    assert.equal(down?.connected, false);
    assert.ok((down?.errors ?? 0) > 0, 'connection refusals are counted');
    assert.equal(down?.queued, 3, 'the queue holds its maximum');
    const linesWhileDown = (await gw.mailLog()).length;
    assert.equal(down?.dropped, linesWhileDown - 3, 'every line beyond the queue was dropped and counted');
    assert.equal(down?.sent, 0);

    const rx = await startTcpSyslogReceiver(port);
    cleanups.push(() => rx.close());
    // The three newest lines waited in the queue (the oldest were dropped); the last of them is the session's close.
    await rx.waitFor(/Info: ICID \d+ close$/);
    assert.deepEqual(bodies(rx.messages.slice(0, 3), 22, 'mail_logs'), (await gw.mailLog()).slice(linesWhileDown - 3, linesWhileDown));

    assert.equal(await relayOne(gw), 250);
    await rx.waitFor(/Info: MID \d+ ready \d+ bytes from <alice@corp\.test>$/);

    // The server drops the connection: the sender reconnects and later lines arrive on a new one.
    rx.dropConnections();
    await waitUntil(() => gw.gateway.syslogStats()?.connected === false || rx.connections() > 1);
    assert.equal(await relayOne(gw), 250);
    await waitUntil(() => rx.connections() >= 2);
    gw.gateway.log.emit({ event: 'system', text: 'after reconnect' });
    await rx.waitFor(/Info: after reconnect$/);
    assert.deepEqual(rx.framingErrors, []);
    // Every line of mail.current was either sent or counted as dropped.
    const total = (await gw.mailLog()).length;
    await waitUntil(() => {
      const s = gw.gateway.syslogStats()!;
      return s.queued === 0 && s.sent + s.dropped === total;
    });
  });

  test('a new configuration (what commit applies) turns forwarding on, changes it, and turns it off', async () => {
    const udp = await startUdpSyslogReceiver();
    const tcp = await startTcpSyslogReceiver();
    cleanups.push(() => udp.close(), () => tcp.close());
    const gw = await startTestGateway();
    cleanups.push(() => gw.stop());
    assert.equal(gw.gateway.syslogStats(), null, 'off by default');

    const on = structuredClone(gw.gateway.currentConfig);
    on.logging.mailLog.syslog.target = udp.target;
    await gw.gateway.apply(on);
    await udp.waitFor(/mail_logs: Info: Configuration applied$/);
    assert.equal(await relayOne(gw), 250);
    await udp.waitFor(/Info: New SMTP ICID \d+ interface OutgoingMail/);

    const moved = structuredClone(on);
    moved.logging.mailLog.syslog.target = tcp.target;
    moved.logging.mailLog.syslog.tag = 'gh';
    await gw.gateway.apply(moved);
    await tcp.waitFor(/ gh: Info: Configuration applied$/);

    const off = structuredClone(moved);
    off.logging.mailLog.syslog.target = null;
    await gw.gateway.apply(off);
    assert.equal(gw.gateway.syslogStats(), null);
    gw.gateway.log.emit({ event: 'system', text: 'not forwarded' });
    await gw.waitForLog(/Info: not forwarded$/);
    assert.equal(udp.messages.filter((m) => m.endsWith('Configuration applied')).length, 1, 'the replaced UDP sender got no later line');
    assert.ok(!tcp.messages.some((m) => m.endsWith('not forwarded')), 'nothing after off');
    assert.ok(!udp.messages.some((m) => m.endsWith('not forwarded')), 'nothing after off');
  });

  test('a sender drops the oldest lines when its queue is full, and counts them', async () => {
    const port = await freePort();
    const sender = new SyslogSender({ target: parseSyslogTarget(`tcp:127.0.0.1:${port}`), facility: 'mail', tag: 't', hostname: 'h', queueLines: 2, retryInitialMs: 20, retryMaxMs: 50 });
    for (let i = 1; i <= 5; i++) sender.send({ time: Date.now(), level: 'Info', text: `line ${i}` });
    assert.deepEqual({ queued: sender.stats().queued, dropped: sender.stats().dropped }, { queued: 2, dropped: 3 });
    const rx = await startTcpSyslogReceiver(port);
    cleanups.push(() => rx.close());
    await rx.waitFor(/line 5$/);
    assert.deepEqual(
      rx.messages.map((m) => m.replace(/^.* t: /, '')),
      ['Info: line 4', 'Info: line 5'],
    );
    await sender.close();
    sender.send({ time: Date.now(), level: 'Info', text: 'after close' });
    assert.equal(sender.stats().dropped, 4, 'a line after close is counted as dropped');
    assert.equal(sender.stats().sent, 2);
  });

  test('configuration validation names the field and the form to write', () => {
    const base = testConfig();
    const bad = (edit: (s: Record<string, unknown>) => void): string[] => {
      const c = structuredClone(base) as unknown as { logging: { mailLog: { syslog: Record<string, unknown> } } };
      edit(c.logging.mailLog.syslog);
      const v = validateConfig(c);
      assert.equal(v.ok, false);
      return v.ok ? [] : v.errors;
    };
    assert.match(bad((s) => (s['target'] = 'udp:logs.example.com:514')).join('\n'), /^logging\.mailLog\.syslog\.target: "udp:logs\.example\.com:514": logs\.example\.com is not an IPv4 address/m);
    assert.match(bad((s) => (s['target'] = '/dev/log')).join('\n'), /^logging\.mailLog\.syslog\.target: .*\/dev\/log is not supported/m);
    assert.match(bad((s) => (s['facility'] = 'kern')).join('\n'), /^logging\.mailLog\.syslog\.facility: must be one of mail, local0, .*local7/m);
    assert.match(bad((s) => (s['tag'] = 'has space')).join('\n'), /^logging\.mailLog\.syslog\.tag: must be 1-32 letters/m);
    assert.match(bad((s) => (s['queueLines'] = 0)).join('\n'), /^logging\.mailLog\.syslog\.queueLines: must be greater than 0/m);
    assert.match(bad((s) => (s['port'] = 514)).join('\n'), /logging\.mailLog\.syslog/);
    // A configuration without the key loads with forwarding off.
    const old = structuredClone(base) as unknown as { logging: { mailLog: Record<string, unknown> } };
    delete old.logging.mailLog['syslog'];
    const v = validateConfig(old);
    assert.ok(v.ok);
    assert.deepEqual(v.config.logging.mailLog.syslog, { target: null, facility: 'mail', tag: 'mail_logs', queueLines: 10000 });
  });
});

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
