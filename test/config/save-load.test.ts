/**
 * saveconfig / loadconfig: an encrypted export moves a whole configuration to a
 * fresh home (same policies, same certificate on the wire); a mask export
 * holds no secret and says what is missing; invalid files change nothing and
 * name every error path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigStore } from '../../src/config/config-store.js';
import { homeLayout } from '../../src/core/home-layout.js';
import { initHome } from '../../src/services/home-service.js';
import { editStaged, openHome } from '../../src/services/staging.js';
import { tempHome } from '../harness/gateway-fixture.js';
import { runCli, startGatewayProcess } from '../harness/gateway-process.js';
import { SmtpTestClient } from '../harness/smtp-test-client.js';
import { pemFingerprint, preparedHome, presentedCertificate, snapshotConfigState } from './config-fixture.js';

const mode = (file: string): number => fs.statSync(file).mode & 0o777;

async function freshHome(): Promise<string> {
  const home = tempHome('gatehouse-load-');
  await initHome(home, { hostname: 'fresh.test' });
  return home;
}

test('an encrypted export (non-ASCII passphrase) loads on a fresh home: same policies, same certificate on the wire', async () => {
  const passphrase = 'Grüße, 日本 🔑 pass';
  const { home: source, config } = await preparedHome((c) => {
    const l = c.listeners.find((x) => x.name === 'IncomingMail')!;
    l.rat = ['example.com'];
    l.policies.find((p) => p.name === 'ACCEPTED')!.maxRecipientsPerMessage = 2;
  });
  const dir = tempHome('gatehouse-export-');
  const passFile = path.join(dir, 'pass.txt');
  fs.writeFileSync(passFile, `${passphrase}\n`);
  const file = path.join(dir, 'export.yaml');
  const save = await runCli(['--home', source, 'saveconfig', '-o', file, '--passphrase-file', passFile]);
  assert.equal(save.code, 0, save.stderr);
  assert.match(save.stdout, new RegExp(`^Saved configuration version 2 to ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  assert.equal(mode(file), 0o600);
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(!text.includes('PRIVATE KEY'), 'keys are encrypted');
  assert.ok(!text.includes(passphrase) && !text.includes('Grüße'), 'no passphrase in the file');
  const doc = YAML.parse(text);
  assert.equal(doc.gatehouseExport, 1);
  assert.equal(doc.schemaVersion, 1);
  assert.equal(doc.passwords, 'encrypt');
  assert.equal(typeof doc.secrets.privateKeys.Demo.pkcs12, 'string');

  const target = await freshHome();
  const cli = (...args: string[]) => runCli(['--home', target, ...args]);
  const load = await cli('loadconfig', file, '--passphrase-file', passFile);
  assert.equal(load.code, 0, load.stderr);
  assert.match(load.stdout, /changes? staged/);
  const commit = await cli('commit', '-m', 'from export');
  assert.equal(commit.code, 0, commit.stderr);
  assert.match(commit.stdout, /No gateway is running; version 2 applies at the next start/);
  const loaded = new ConfigStore(homeLayout(target)).committed().config;
  assert.deepEqual(loaded, config, 'the whole configuration, users and certificates included, is the same');

  const gw = await startGatewayProcess(target);
  try {
    const port = config.listeners.find((l) => l.name === 'IncomingMail')!.port;
    const { banner, fingerprint } = await presentedCertificate(port);
    assert.equal(banner, '220 gw.test ESMTP');
    assert.equal(fingerprint, pemFingerprint(config.certificates[0]!.certificate), 'the same certificate, served with the imported key');
    const c = await SmtpTestClient.connect(port);
    await c.read();
    await c.command('EHLO client.test');
    assert.equal((await c.command('MAIL FROM:<a@sender.test>')).code, 250);
    assert.equal((await c.command('RCPT TO:<x@other.test>')).code, 550, 'RAT carried over');
    assert.equal((await c.command('RCPT TO:<a@example.com>')).code, 250);
    assert.equal((await c.command('RCPT TO:<b@example.com>')).code, 250);
    assert.equal((await c.command('RCPT TO:<c@example.com>')).code, 452, 'maxRecipientsPerMessage carried over');
    c.close();
  } finally {
    gw.child.kill('SIGTERM');
    await gw.exited;
  }
});

test('encrypt: wrong passphrase and no passphrase change nothing; default location is <home>/configuration, mode 0600', async () => {
  const { home } = await preparedHome();
  const dir = tempHome('gatehouse-export-');
  const passFile = path.join(dir, 'pass.txt');
  fs.writeFileSync(passFile, 'correct horse');
  const wrongFile = path.join(dir, 'wrong.txt');
  fs.writeFileSync(wrongFile, 'wrong horse\n');

  const noTty = await runCli(['--home', home, 'saveconfig']);
  assert.equal(noTty.code, 1);
  assert.match(noTty.stderr, /^gatehouse: saveconfig --passwords encrypt needs a passphrase: give --passphrase-file F \(there is no terminal to ask on\)\n$/);
  assert.deepEqual(fs.readdirSync(homeLayout(home).exportsDir), []);

  const save = await runCli(['--home', home, 'saveconfig', '--passphrase-file', passFile]);
  assert.equal(save.code, 0, save.stderr);
  const file = /^Saved configuration version 2 to (\S+)$/m.exec(save.stdout)?.[1];
  assert.ok(file !== undefined, save.stdout);
  assert.equal(path.dirname(file), homeLayout(home).exportsDir);
  assert.match(path.basename(file), /^config-\d{8}T\d{6}Z(-\d+)?\.yaml$/);
  assert.equal(mode(file), 0o600);

  const target = await freshHome();
  const before = snapshotConfigState(target);
  const wrong = await runCli(['--home', target, 'loadconfig', file, '--passphrase-file', wrongFile]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /secrets\.privateKeys\.Demo: the PKCS#12 could not be decrypted \(wrong passphrase/);
  assert.ok(!wrong.stderr.includes('wrong horse'));
  const none = await runCli(['--home', target, 'loadconfig', file]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /needs a passphrase: give --passphrase-file F/);
  assert.deepEqual(snapshotConfigState(target), before);
});

test('a mask export holds no private key, hash or passphrase; it loads only where the secrets exist', async () => {
  const { home } = await preparedHome();
  const dir = tempHome('gatehouse-export-');
  const passphrase = 'mask-passphrase-ünused';
  const passFile = path.join(dir, 'pass.txt');
  fs.writeFileSync(passFile, passphrase);
  const file = path.join(dir, 'mask.yaml');
  const save = await runCli(['--home', home, 'saveconfig', '-o', file, '--passwords', 'mask', '--passphrase-file', passFile]);
  assert.equal(save.code, 0, save.stderr);
  assert.match(save.stdout, /private key of certificate profile Demo/);
  assert.match(save.stdout, /password of user admin/);
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(!text.includes('PRIVATE KEY'), 'no private key');
  assert.ok(!text.includes('scrypt$'), 'no password hash');
  assert.ok(!text.includes(passphrase), 'no passphrase');
  assert.ok(!text.includes('pkcs12'), 'no PKCS#12');
  assert.match(text, /^# .*Secrets are left out/m);
  assert.deepEqual(YAML.parse(text).missingSecrets.length, 2);

  // On a fresh home the key is nowhere: refused, naming the secret, nothing changed.
  const target = await freshHome();
  const before = snapshotConfigState(target);
  const r = await runCli(['--home', target, 'loadconfig', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /leaves out secrets this home does not have/);
  assert.match(r.stderr, /certificates\[Demo\]\.key: the private key of certificate profile Demo is not in the file and not in this home's key store/);
  assert.ok(!r.stderr.includes('users[admin]'), 'the fresh home has an admin user whose password is kept');
  assert.deepEqual(snapshotConfigState(target), before);

  // On the home it came from, everything is there: it loads (identical, nothing staged).
  const same = await runCli(['--home', home, 'loadconfig', file]);
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /identical to the committed configuration; nothing staged/);
});

test('a plain export carries PEM keys and loads without a passphrase', async () => {
  const { home, config } = await preparedHome();
  const file = path.join(tempHome('gatehouse-export-'), 'plain.yaml');
  const save = await runCli(['--home', home, 'saveconfig', '-o', file, '--passwords', 'plain']);
  assert.equal(save.code, 0, save.stderr);
  assert.equal(mode(file), 0o600);
  const text = fs.readFileSync(file, 'utf8');
  assert.match(text, /BEGIN PRIVATE KEY/);
  const target = await freshHome();
  const load = await runCli(['--home', target, '--json', 'loadconfig', file]);
  assert.equal(load.code, 0, load.stderr);
  assert.equal(JSON.parse(load.stdout).staged, true);
  assert.deepEqual(new ConfigStore(homeLayout(target)).working(), config);
});

test('invalid files change nothing and report every error path', async () => {
  const { home } = await preparedHome();
  const dir = tempHome('gatehouse-bad-');
  // Staged edits already present must survive a refused load.
  editStaged(openHome(home), 'tester', 'edit', (d) => d.listeners[0]!.rat.push('staged.test'));
  const before = snapshotConfigState(home);
  const load = async (name: string, content: string): Promise<string> => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    const r = await runCli(['--home', home, 'loadconfig', file]);
    assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
    assert.deepEqual(snapshotConfigState(home), before, `${name} changed nothing`);
    return r.stderr;
  };

  assert.match(await load('syntax.yaml', 'listeners: [ {\n  name: x\n'), /syntax\.yaml: not valid YAML: .*line \d+, column \d+/);
  assert.match(await load('scalar.yaml', 'just a string\n'), /must be a YAML mapping/);

  // A bare configuration document with four kinds of error at once.
  const bare = await load(
    'bare.yaml',
    YAML.stringify({
      hostname: 'gw.test',
      bogus: true,
      smtp: { maxConnections: 'many' },
      listeners: [{ name: 'In', type: 'public', address: '127.0.0.1', port: 70000, certificates: ['Missing'], extra: 1 }],
    }),
  );
  assert.match(bare, /^  bogus: unknown setting$/m);
  assert.match(bare, /^  listeners\[0\]\.extra: unknown setting$/m);
  assert.match(bare, /^  smtp\.maxConnections: .*expected number/m);
  assert.match(bare, /^  listeners\[0\]\.port: must be 1-65535$/m);
  assert.match(bare, /^  listeners\[0\]\.certificates\[0\]: no certificate profile named Missing$/m);

  // A saved export edited by hand: wrapper and configuration errors are all reported.
  const exportFile = path.join(dir, 'good.yaml');
  assert.equal((await runCli(['--home', home, 'saveconfig', '-o', exportFile, '--passwords', 'plain'])).code, 0);
  const doc = YAML.parse(fs.readFileSync(exportFile, 'utf8'));
  doc.comment = 'not a field';
  doc.config.listeners[0].port = 70000;
  doc.config.listeners[1].certificates = ['Nowhere'];
  doc.config.smtp.maxBadCommands = 'five';
  doc.config.dns.bogus = 1;
  const edited = await load('edited.yaml', YAML.stringify(doc));
  assert.match(edited, /^  comment: unknown setting$/m);
  assert.match(edited, /^  listeners\[0\]\.port: must be 1-65535$/m);
  assert.match(edited, /^  listeners\[1\]\.certificates\[0\]: no certificate profile named Nowhere$/m);
  assert.match(edited, /^  smtp\.maxBadCommands: /m);
  assert.match(edited, /^  dns\.bogus: unknown setting$/m);

  // Only cross-reference errors (the schema passes): still refused with the path.
  const doc2 = YAML.parse(fs.readFileSync(exportFile, 'utf8'));
  doc2.config.listeners[0].certificates = ['Demo', 'Nowhere'];
  assert.match(await load('xref.yaml', YAML.stringify(doc2)), /^  listeners\[0\]\.certificates\[1\]: no certificate profile named Nowhere$/m);

  // A key that does not belong to the certificate.
  const doc3 = YAML.parse(fs.readFileSync(exportFile, 'utf8'));
  const { createSelfSigned } = await import('../../src/tls/self-signed.js');
  doc3.secrets.privateKeys.Demo.privateKey = (await createSelfSigned({ cn: 'x.test' }, { key: 'ec-p256', days: 1 })).privateKeyPem;
  assert.match(await load('mismatch.yaml', YAML.stringify(doc3)), /secrets\.privateKeys\.Demo: the private key does not match the certificate of profile Demo/);

  // A file from a newer Gatehouse.
  const doc4 = YAML.parse(fs.readFileSync(exportFile, 'utf8'));
  doc4.schemaVersion = 99;
  assert.match(await load('newer.yaml', YAML.stringify(doc4)), /^  schemaVersion: was written by a newer Gatehouse/m);

  const missing = await runCli(['--home', home, 'loadconfig', path.join(dir, 'nope.yaml')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^gatehouse: cannot read .*nope\.yaml: ENOENT\n$/);
});
