/**
 * The real program: init on an empty home, start refusing an invalid config
 * file with path-qualified errors, and a graceful SIGTERM — idle sessions get
 * 421 at once, a message in progress still completes, then exit 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import { homeLayout } from '../../src/core/home-layout.js';
import { ConfigStore } from '../../src/config/config-store.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';
import { tempHome } from '../harness/gateway-fixture.js';
import { relayHome, runCli, startGatewayProcess } from '../harness/gateway-process.js';

test('init creates the home once, prints the admin password, and is idempotent', async () => {
  const home = tempHome();
  const first = await runCli(['init', '--home', home, '--hostname', 'gw.test']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^Admin password: \S{16,}$/m);
  const layout = homeLayout(home);
  const config = new ConfigStore(layout).committed();
  assert.equal(config.version, 1);
  assert.deepEqual(
    config.config.listeners.map((l) => [l.name, l.type, l.address, l.port]),
    [
      ['IncomingMail', 'public', '127.0.0.1', 2525],
      ['OutgoingMail', 'private', '127.0.0.1', 2587],
    ],
  );
  assert.equal(config.config.certificates[0]?.source, 'demo');
  assert.ok(!JSON.stringify(config).includes(first.stdout.match(/Admin password: (\S+)/)![1]!), 'the password is stored only as a hash');
  for (const key of fs.readdirSync(layout.keysDir)) assert.equal(fs.statSync(path.join(layout.keysDir, key)).mode & 0o777, 0o600);
  const second = await runCli(['--home', home, 'init']);
  assert.equal(second.code, 0);
  assert.match(second.stdout, /already initialised; nothing changed/);
  assert.equal(new ConfigStore(layout).versionNumbers().length, 1);
  const json = await runCli(['--home', tempHome(), '--json', 'init']);
  assert.equal(typeof JSON.parse(json.stdout).adminPassword, 'string');
});

test('start --config refuses an invalid file, naming every error path, and commits nothing', async () => {
  const home = tempHome();
  await runCli(['--home', home, 'init', '--hostname', 'gw.test']);
  const file = path.join(home, 'bad.yaml');
  fs.writeFileSync(
    file,
    YAML.stringify({
      hostname: 'gw.test',
      listeners: [{ name: 'In', type: 'public', address: '127.0.0.1', port: 70000, certificates: ['Missing'], bogus: true }],
    }),
  );
  const r = await runCli(['--home', home, 'start', '--config', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /listeners\[0\]\.port: must be 1-65535/);
  assert.match(r.stderr, /listeners\[0\]\.bogus: unknown setting/);
  assert.ok(!r.stderr.includes('    at '), 'no stack trace');
  assert.equal(new ConfigStore(homeLayout(home)).versionNumbers().length, 1);

  fs.writeFileSync(file, 'listeners: [ {');
  const yaml = await runCli(['--home', home, 'start', '--config', file]);
  assert.equal(yaml.code, 1);
  assert.match(yaml.stderr, /not valid YAML/);
});

test('SIGTERM: stop accepting, idle sessions get 421, a message in progress completes, exit 0', async () => {
  const { home, port, configFile: file } = await relayHome({ smtp: { shutdownGraceSeconds: 10 } });
  const gw = await startGatewayProcess(home, ['--config', file]);
  const idle = await SmtpTestClient.connect(port);
  await idle.read();
  await idle.command('EHLO idle.test');
  const busy = await SmtpTestClient.connect(port);
  await busy.read();
  await busy.command('EHLO busy.test');
  await busy.command('MAIL FROM:<a@sender.test>');
  await busy.command('RCPT TO:<b@dest.test>');
  assert.equal((await busy.command('DATA')).code, 354);
  busy.write('Subject: in flight\r\n\r\nfirst half\r\n');

  gw.child.kill('SIGTERM');
  assert.equal((await idle.read()).text, '421 4.3.2 gw.test Service shutting down, closing connection');
  await idle.waitClosed();
  // New connections are no longer accepted.
  await assert.rejects(
    new Promise<void>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', reject);
    }),
  );
  busy.write('second half\r\n.\r\n');
  const done = await busy.read();
  assert.equal(done.code, 250, done.text);
  assert.equal((await busy.read()).code, 421);
  assert.equal(await gw.exited, 0);
  assert.ok(!fs.existsSync(homeLayout(home).pidFile), 'pidfile removed');
});
