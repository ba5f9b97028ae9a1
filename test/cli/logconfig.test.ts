/**
 * `gatehouse logconfig`: syslog forwarding edits are staged (visible in
 * showchanges), refused with one clear line, and applied by commit — to a
 * running gateway at once, which then forwards its mail log to a fake syslog
 * server and shows the counters in `status`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, startGatewayProcess } from '../harness/gateway-process.js';
import { freePort } from '../harness/gateway-fixture.js';
import { startUdpSyslogReceiver } from '../harness/syslog-receiver.js';
import { preparedHome } from '../config/config-fixture.js';
import { cliHome, ok, refused, type CliHome } from './cli-home.js';

describe('logconfig', () => {
  let h: CliHome;
  before(async () => {
    h = await cliHome();
  });

  test('edit is staged, shown by showchanges and list, committed by commit', async () => {
    assert.match(ok(await h.gh(['logconfig', 'edit', '--syslog', 'TCP:[::1]:6514', '--syslog-facility', 'local3', '--syslog-tag', 'gatehouse'])), /^Mail log lines go to syslog tcp:\[::1\]:6514 \(facility local3, tag gatehouse\) \(staged; "gatehouse commit" applies it\)\.\n$/);
    assert.deepEqual(h.staged().logging.mailLog.syslog, { target: 'tcp:[::1]:6514', facility: 'local3', tag: 'gatehouse', queueLines: 10000 });
    const changes = ok(await h.gh(['showchanges']));
    assert.match(changes, /^~ logging\.mailLog\.syslog\.target: none -> "tcp:\[::1\]:6514"$/m);
    assert.match(changes, /^~ logging\.mailLog\.syslog\.facility: mail -> local3$/m);
    assert.match(changes, /^~ logging\.mailLog\.syslog\.tag: mail_logs -> gatehouse$/m);
    assert.match(ok(await h.gh(['logconfig', 'list'])), /^Syslog:\s+tcp:\[::1\]:6514$/m);
    assert.match(ok(await h.gh(['commit', '-m', 'syslog on'])), /No gateway is running; version 2 applies at the next start/);
    assert.equal(ok(await h.gh(['showchanges'])), 'No changes\n');
    assert.deepEqual(JSON.parse(ok(await h.gh(['logconfig', 'list', '--json']))).syslog, { target: 'tcp:[::1]:6514', facility: 'local3', tag: 'gatehouse', queueLines: 10000 });

    ok(await h.gh(['logconfig', 'edit', '--syslog', 'off']));
    assert.equal(h.staged().logging.mailLog.syslog.target, null);
    assert.match(ok(await h.gh(['showchanges'])), /^~ logging\.mailLog\.syslog\.target: "tcp:\[::1\]:6514" -> none$/m);
    ok(await h.gh(['clearchanges']));
  });

  test('refusals are one line and change nothing', async () => {
    const before = JSON.stringify(h.staged());
    const [name, v6, unix, facility, tag, queue, nothing] = await Promise.all([
      h.gh(['logconfig', 'edit', '--syslog', 'udp:logs.example.com:514']),
      h.gh(['logconfig', 'edit', '--syslog', 'udp:::1:514']),
      h.gh(['logconfig', 'edit', '--syslog', '/dev/log']),
      h.gh(['logconfig', 'edit', '--syslog-facility', 'kern']),
      h.gh(['logconfig', 'edit', '--syslog-tag', 'two words']),
      h.gh(['logconfig', 'edit', '--syslog-queue-lines', '0']),
      h.gh(['logconfig', 'edit']),
    ]);
    refused(name, 1, /syslog target "udp:logs\.example\.com:514": logs\.example\.com is not an IPv4 address \(host names are not accepted\); write udp:HOST:PORT or tcp:HOST:PORT/);
    refused(v6, 1, /an IPv6 address must be in brackets/);
    refused(unix, 1, /a Unix socket such as \/dev\/log is not supported/);
    refused(facility, 1, /syslog facility "kern" is not one of mail, local0, .*, local7/);
    refused(tag, 1, /syslog tag "two words" must be 1-32 letters/);
    refused(queue, 1, /logging\.mailLog\.syslog\.queueLines: must be greater than 0/);
    refused(nothing, 2, /nothing to change: give at least one of --syslog/);
    assert.equal(JSON.stringify(h.staged()), before);
  });
});

describe('logconfig with a running gateway', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  test('commit turns forwarding on in the running gateway; status shows the counters', async () => {
    const rx = await startUdpSyslogReceiver();
    cleanups.push(() => rx.close());
    const guiPort = await freePort();
    const { home } = await preparedHome((c) => {
      c.gui.port = guiPort;
    });
    const cli = (...args: string[]) => runCli(['--home', home, ...args]);
    const gw = await startGatewayProcess(home);
    cleanups.push(async () => {
      if (gw.child.exitCode === null) gw.child.kill('SIGKILL');
    });
    ok(await cli('logconfig', 'edit', '--syslog', rx.target, '--syslog-tag', 'gw_mail'));
    assert.match(ok(await cli('showchanges')), new RegExp(`^~ logging\\.mailLog\\.syslog\\.target: none -> ${rx.target}$`, 'm'));
    assert.match(ok(await cli('commit', '-m', 'forward the mail log')), /version 3/);
    const applied = await rx.waitFor(/ gw_mail: Info: Configuration applied$/);
    assert.match(applied, /^<22>\w{3} [ \d]\d \d\d:\d\d:\d\d gw\.test gw_mail: Info: Configuration applied$/);

    const status = JSON.parse(ok(await cli('status', '--json')));
    assert.equal(status.syslog.target, rx.target);
    assert.equal(status.syslog.connected, true);
    assert.ok(status.syslog.sent >= 1);
    assert.equal(status.syslog.dropped, 0);
    assert.match(ok(await cli('status')), new RegExp(`^Syslog: ${rx.target}, \\d+ sent, 0 dropped, 0 queued, 0 errors$`, 'm'));

    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0);
    await rx.waitFor(/ gw_mail: Info: Gatehouse stopped$/);
  });
});
