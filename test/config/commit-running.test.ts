/**
 * Commit reaches the running gateway through the control socket: a session
 * opened before the commit finishes under the old settings, the next session
 * gets the new ones; rollback brings the old behaviour back; status, reload
 * and stop talk to the same socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { homeLayout } from '../../src/core/home-layout.js';
import { editStaged, openHome } from '../../src/services/staging.js';
import { KeyStore } from '../../src/tls/key-store.js';
import { createSelfSigned } from '../../src/tls/self-signed.js';
import { runCli, startGatewayProcess } from '../harness/gateway-process.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';
import { pemFingerprint, preparedHome, presentedCertificate } from './config-fixture.js';

test('status exits 1 when no gateway runs', async () => {
  const { home } = await preparedHome();
  const r = await runCli(['--home', home, 'status']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^gatehouse: no gateway is running on /);
  const j = await runCli(['--home', home, 'status', '--json']);
  assert.equal(j.code, 1);
  assert.equal(JSON.parse(j.stdout).running, false);
  assert.equal((await runCli(['--home', home, 'reload'])).code, 1);
  assert.equal((await runCli(['--home', home, 'stop'])).code, 1);
});

test('commit applies to the running gateway without dropping open sessions; rollback restores the old behaviour', async () => {
  const { home, config } = await preparedHome((c) => {
    c.listeners.find((l) => l.name === 'IncomingMail')!.rat = ['old.test'];
  });
  const port = config.listeners.find((l) => l.name === 'IncomingMail')!.port;
  const oldCert = config.certificates[0]!.certificate;
  const cli = (...args: string[]) => runCli(['--home', home, ...args]);
  const gw = await startGatewayProcess(home);
  try {
    // status: running, version 2, listeners, --json parses.
    const status = await cli('status', '--json');
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout);
    assert.equal(s.running, true);
    assert.equal(s.pid, gw.child.pid);
    assert.equal(s.version, 2);
    assert.deepEqual(
      s.listeners.map((l: { name: string; port: number }) => [l.name, l.port]),
      config.listeners.map((l) => [l.name, l.port]),
    );
    assert.equal(typeof s.spool.messages, 'number');
    const text = await cli('status');
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^Gatehouse running \(pid \d+, up /);
    assert.match(text.stdout, /^Configuration version 2$/m);
    assert.equal(fs.statSync(homeLayout(home).controlSocket).mode & 0o777, 0o600);
    assert.equal((await presentedCertificate(port)).fingerprint, pemFingerprint(oldCert));

    // A session opened (and EHLO'd) before the commit.
    const before = await SmtpTestClient.connect(port);
    assert.equal((await before.read()).text, '220 gw.test ESMTP');
    assert.equal((await before.command('EHLO early.test')).code, 250);

    // Stage: new banner host name, one more RAT domain, a new certificate; commit.
    const replacement = await createSelfSigned({ cn: 'new.gw.test' }, { key: 'ec-p256', days: 30 });
    const ref = await new KeyStore(homeLayout(home).keysDir).put(replacement.privateKeyPem);
    editStaged(openHome(home), 'tester', 'edit', (d) => {
      const l = d.listeners.find((x) => x.name === 'IncomingMail')!;
      l.hostname = 'new.gw.test';
      l.rat.push('new.test');
      d.certificates[0]!.certificate = replacement.certificatePem;
      d.certificates[0]!.key = ref;
    });
    const commit = await cli('commit', '-m', 'new host name, new.test, new certificate');
    assert.equal(commit.code, 0, commit.stderr);
    assert.match(commit.stdout, /^Committed configuration version 3\.$/m);
    assert.match(commit.stdout, new RegExp(`^Applied to the running gateway \\(pid ${gw.child.pid}\\)`, 'm'));

    // The old session still works, under the old settings (RAT without new.test), and completes a message.
    assert.equal((await before.command('MAIL FROM:<a@sender.test>')).code, 250);
    assert.equal((await before.command('RCPT TO:<u@new.test>')).code, 550);
    assert.equal((await before.command('RCPT TO:<u@old.test>')).code, 250);
    assert.equal((await before.command('DATA')).code, 354);
    before.write('Subject: across a commit\r\n\r\nstill here\r\n.\r\n');
    const queued = await before.read();
    assert.equal(queued.code, 250, queued.text);
    assert.equal((await before.command('QUIT')).code, 221);
    before.close();

    // A new session gets the new settings: banner, RAT, certificate.
    const after = await SmtpTestClient.connect(port);
    assert.equal((await after.read()).text, '220 new.gw.test ESMTP');
    await after.command('EHLO late.test');
    assert.equal((await after.command('MAIL FROM:<a@sender.test>')).code, 250);
    assert.equal((await after.command('RCPT TO:<u@new.test>')).code, 250);
    after.close();
    assert.equal((await presentedCertificate(port)).fingerprint, pemFingerprint(replacement.certificatePem));
    assert.equal(JSON.parse((await cli('status', '--json')).stdout).version, 3);

    // rollbackconfig 2 + commit: the earlier behaviour and certificate are back.
    assert.equal((await cli('rollbackconfig', '2')).code, 0);
    const back = await cli('commit', '-m', 'roll back');
    assert.equal(back.code, 0, back.stderr);
    const third = await SmtpTestClient.connect(port);
    assert.equal((await third.read()).text, '220 gw.test ESMTP');
    await third.command('EHLO again.test');
    await third.command('MAIL FROM:<a@sender.test>');
    assert.equal((await third.command('RCPT TO:<u@new.test>')).code, 550);
    third.close();
    assert.equal((await presentedCertificate(port)).fingerprint, pemFingerprint(oldCert));

    // reload answers with the running version.
    const reload = await cli('reload');
    assert.equal(reload.code, 0, reload.stderr);
    assert.match(reload.stdout, /configuration version 4/);

    // stop through the control socket: exit 0, pidfile and socket gone.
    const stop = await cli('stop');
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /^Gateway stopped \(pid \d+\)\.$/m);
    assert.equal(await gw.exited, 0);
    assert.equal(fs.existsSync(homeLayout(home).controlSocket), false);
    assert.equal(fs.existsSync(homeLayout(home).pidFile), false);
    assert.equal((await cli('status')).code, 1);
  } finally {
    if (gw.child.exitCode === null) gw.child.kill('SIGKILL');
  }
});

test('a commit that the running gateway cannot apply is stored, reported, and exit 1', async () => {
  const { home, config } = await preparedHome();
  const gw = await startGatewayProcess(home);
  try {
    // A new listener on an address and port that another program holds: the gateway cannot bind it.
    const busyPort = config.listeners[1]!.port;
    editStaged(openHome(home), 'tester', 'edit', (d) => {
      d.listeners.push({ ...structuredClone(d.listeners[1]!), name: 'Clash', address: '127.0.0.2', port: busyPort });
    });
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(busyPort, '127.0.0.2', resolve));
    try {
      const r = await runCli(['--home', home, 'commit', '-m', 'clash']);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^Committed configuration version 3\.$/m);
      assert.match(r.stderr, /^gatehouse: the running gateway did not apply version 3: configuration version 3 could not be applied: .*EADDRINUSE/);
      const s = JSON.parse((await runCli(['--home', home, 'status', '--json'])).stdout);
      assert.equal(s.committedVersion, 3);
      assert.equal(s.version, 2);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  } finally {
    gw.child.kill('SIGTERM');
    await gw.exited;
  }
});
