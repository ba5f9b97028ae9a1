/** `gatehouse destconfig` and `smtproutes` round trips through the built CLI. */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { cliHome, ok, refused, type CliHome } from './cli-home.js';

describe('smtproutes', () => {
  let h: CliHome;
  before(async () => {
    h = await cliHome();
  });

  test('new, list, delete; bad hosts and duplicates refused', async () => {
    ok(await h.gh(['smtproutes', 'new', 'Example.com', 'mx1.internal:25', '[2001:db8::1]:2525']));
    ok(await h.gh(['smtproutes', 'new', 'ALL', 'smarthost.example.net:587']));
    assert.deepEqual(h.staged().smtpRoutes, [
      { domain: 'example.com', hosts: ['mx1.internal:25', '[2001:db8::1]:2525'] },
      { domain: 'ALL', hosts: ['smarthost.example.net:587'] },
    ]);
    const [list, port, noHost] = await Promise.all([
      h.gh(['smtproutes', 'list']),
      h.gh(['smtproutes', 'new', 'other.example', 'mx:99999']),
      h.gh(['smtproutes', 'new', 'other.example']),
    ]);
    assert.match(ok(list), /^Domain\s+Hosts \(in order\)\n-+\s+-+\nexample\.com\s+mx1\.internal:25, \[2001:db8::1\]:2525\nALL\s+smarthost\.example\.net:587\n$/);
    refused(port, 1, /route host "mx:99999": port must be 1-65535/);
    refused(noHost, 2, /missing required argument/);
    ok(await h.gh(['smtproutes', 'delete', 'example.com']));
    assert.deepEqual(h.staged().smtpRoutes, [{ domain: 'ALL', hosts: ['smarthost.example.net:587'] }]);
  });
});

describe('destconfig', () => {
  let h: CliHome;
  before(async () => {
    h = await cliHome();
  });
  const controls = () => h.staged().destinationControls;

  test('new, edit, default, detail, list, delete', async () => {
    ok(await h.gh(['destconfig', 'default', '--tls', 'preferred-verify', '--max-concurrency', '20']));
    ok(await h.gh(['destconfig', 'new', 'Bank.example', '--tls', 'required-verify', '--max-recipients-per-period', '500', '--period-minutes', '30']));
    ok(await h.gh(['destconfig', 'new', '[192.0.2.1]', '--tls', 'required', '--ip-preference', 'require-v4', '--max-messages-per-connection', '5']));
    ok(await h.gh(['destconfig', 'edit', 'bank.example', '--tls', 'required-verify-hosted']));
    const c = controls();
    assert.deepEqual(c.default, { tls: 'preferred-verify', dane: 'no', maxConcurrency: 20, maxMessagesPerConnection: 100, maxRecipientsPerPeriod: null, periodMinutes: 60, ipPreference: 'prefer-v4' });
    assert.deepEqual(c.domains[0], {
      domain: 'bank.example',
      tls: 'required-verify-hosted',
      dane: 'no',
      maxConcurrency: 20,
      maxMessagesPerConnection: 100,
      maxRecipientsPerPeriod: 500,
      periodMinutes: 30,
      ipPreference: 'prefer-v4',
    });
    assert.equal(c.domains[1]?.domain, '[192.0.2.1]');

    const [listText, listJson, detail, detailDefault] = await Promise.all([
      h.gh(['destconfig', 'list']),
      h.gh(['destconfig', 'list', '--json']),
      h.gh(['destconfig', 'detail', 'BANK.example']),
      h.gh(['destconfig', 'detail', 'default', '--json']),
    ]);
    const list = ok(listText);
    assert.match(list, /^Destination\s+TLS\s+DANE/);
    assert.match(list, /\nDefault\s+preferred-verify\s+no\s+20\s+100\s+unlimited\s+prefer-v4\n/);
    assert.match(list, /\nbank\.example\s+required-verify-hosted\s+no\s+20\s+100\s+500 per 30 min\s+prefer-v4\n/);
    assert.match(list, /Outbound client certificate:\s+none/);
    assert.deepEqual((JSON.parse(ok(listJson)) as typeof c).domains.map((d) => d.domain), ['bank.example', '[192.0.2.1]']);
    assert.match(ok(detail), /Destination:\s+bank\.example\nTLS:\s+required-verify-hosted\n/);
    assert.equal((JSON.parse(ok(detailDefault)) as { tls: string }).tls, 'preferred-verify');

    ok(await h.gh(['destconfig', 'delete', '[192.0.2.1]']));
    assert.deepEqual(controls().domains.map((d) => d.domain), ['bank.example']);
  });

  test('refusals: bad TLS level (usage), unknown entry, nothing to change, unknown certificate profile', async () => {
    const before = JSON.stringify(h.staged());
    const [tls, unknown, nothing, cert] = await Promise.all([
      h.gh(['destconfig', 'new', 'x.example', '--tls', 'sometimes']),
      h.gh(['destconfig', 'detail', 'nowhere.example']),
      h.gh(['destconfig', 'edit', 'bank.example']),
      h.gh(['destconfig', 'setup', '--certificate', 'Nope']),
    ]);
    refused(tls, 2, /--tls/);
    refused(unknown, 1, /no destination control for nowhere\.example: it uses the default entry/);
    refused(nothing, 2, /nothing to change/);
    refused(cert, 1, /destinationControls\.certificate: no certificate profile named Nope/);
    assert.equal(JSON.stringify(h.staged()), before);
  });

  test('setup sets the client certificate and the alert switch', async () => {
    ok(await h.gh(['destconfig', 'setup', '--certificate', 'Demo', '--alert-on-required-tls-failure', 'off']));
    assert.equal(controls().certificate, 'Demo');
    assert.equal(controls().alertOnRequiredTlsFailure, false);
  });

  test('export then import on another home reproduces the entries; an invalid file changes nothing', async () => {
    const file = path.join(h.home, 'destinations.yaml');
    const [toFile, toStdout, other] = await Promise.all([h.gh(['destconfig', 'export', '-o', file]), h.gh(['destconfig', 'export']), cliHome()]);
    assert.match(ok(toFile), /written to/);
    assert.match(fs.readFileSync(file, 'utf8'), /^default:\n {2}tls: preferred-verify\n/m);
    assert.equal(ok(toStdout), fs.readFileSync(file, 'utf8'));

    ok(await other.gh(['destconfig', 'import', file]));
    const imported = other.staged().destinationControls;
    assert.deepEqual({ default: imported.default, domains: imported.domains }, { default: controls().default, domains: controls().domains });

    const bad = path.join(h.home, 'bad.yaml');
    fs.writeFileSync(bad, 'default:\n  tls: sometimes\ndomains:\n  - domain: ok.example\n    maxConcurrency: 0\n');
    const beforeImport = JSON.stringify(other.staged());
    const r = await other.gh(['destconfig', 'import', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.yaml: default\.tls: /);
    assert.match(r.stderr, /bad\.yaml: domains\[0\]\.maxConcurrency: must be greater than 0/);
    assert.equal(JSON.stringify(other.staged()), beforeImport);
  });
});

describe('destconfig setup: outbound source addresses', () => {
  let h: CliHome;
  before(async () => {
    h = await cliHome();
  });
  const controls = () => h.staged().destinationControls;

  test('the family, the unspecified and mapped addresses and non-addresses are refused; nothing changes', async () => {
    const before = JSON.stringify(h.staged());
    const [v6InV4, v4InV6, unspecified, mapped, junk, nothing] = await Promise.all([
      h.gh(['destconfig', 'setup', '--source-address-v4', '::1']),
      h.gh(['destconfig', 'setup', '--source-address-v6', '127.0.0.2']),
      h.gh(['destconfig', 'setup', '--source-address-v4', '0.0.0.0']),
      h.gh(['destconfig', 'setup', '--source-address-v6', '::ffff:127.0.0.2']),
      h.gh(['destconfig', 'setup', '--source-address-v4', 'mail.example']),
      h.gh(['destconfig', 'setup']),
    ]);
    refused(v6InV4, 1, /source address ::1 is an IPv6 address; the IPv4 source address must be an IPv4 address/);
    refused(v4InV6, 1, /source address 127\.0\.0\.2 is an IPv4 address; the IPv6 source address must be an IPv6 address/);
    refused(unspecified, 1, /destinationControls\.sourceAddressV4: 0\.0\.0\.0 is the unspecified address; use null \(none\) to let the OS choose/);
    refused(mapped, 1, /destinationControls\.sourceAddressV6: ::ffff:127\.0\.0\.2 is an IPv4-mapped address/);
    refused(junk, 1, /source address "mail\.example" is not an IP address/);
    refused(nothing, 2, /nothing to change.*--source-address-v4/);
    assert.equal(JSON.stringify(h.staged()), before);
  });

  test('staged, shown in showchanges and list, committed; none goes back to the OS choice', async () => {
    assert.match(ok(await h.gh(['destconfig', 'setup', '--source-address-v4', '127.0.0.2', '--source-address-v6', '::1'])), /source address IPv4 127\.0\.0\.2, IPv6 ::1/);
    assert.equal(controls().sourceAddressV4, '127.0.0.2');
    assert.equal(controls().sourceAddressV6, '::1');
    const changes = ok(await h.gh(['showchanges']));
    assert.match(changes, /^~ destinationControls\.sourceAddressV4: none -> 127\.0\.0\.2$/m);
    assert.match(changes, /^~ destinationControls\.sourceAddressV6: none -> ::1$/m);
    assert.match(ok(await h.gh(['destconfig', 'list'])), /Source address IPv4:\s+127\.0\.0\.2\nSource address IPv6:\s+::1\n/);
    assert.match(ok(await h.gh(['commit', '-m', 'source addresses'])), /Committed configuration version 2\./);

    ok(await h.gh(['destconfig', 'setup', '--source-address-v4', 'none']));
    assert.equal(controls().sourceAddressV4, null);
    assert.match(ok(await h.gh(['showchanges'])), /^~ destinationControls\.sourceAddressV4: 127\.0\.0\.2 -> none$/m);
    assert.match(ok(await h.gh(['destconfig', 'list'])), /Source address IPv4:\s+none \(the OS chooses\)/);
  });

  test('an address this machine does not have is refused at commit, in one line; the staged change stays', async () => {
    // ::2 is on no interface of any machine's loopback; the check reads the interfaces, nothing is sent.
    ok(await h.gh(['destconfig', 'setup', '--source-address-v6', '::2']));
    refused(await h.gh(['commit', '-m', 'bad source']), 1, /cannot commit: destinationControls\.sourceAddressV6: ::2 is not an address of this machine \(its addresses: .*::1/);
    assert.equal(controls().sourceAddressV6, '::2');
    ok(await h.gh(['destconfig', 'setup', '--source-address-v6', '::1']));
    assert.match(ok(await h.gh(['commit', '-m', 'v4 back to the OS'])), /Committed configuration version 3\./);
  });
});
