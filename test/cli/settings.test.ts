/**
 * Global settings through the built CLI: hostname, dns, reputation, gui,
 * sslconfig, alertconfig and passwd. Each edit is staged; refusals are one
 * line with exit 1 (refused) or 2 (usage).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { verifyPassword } from '../../src/services/password-hash.js';
import { cliHome, ok, refused, type CliHome } from './cli-home.js';

describe('global settings', () => {
  let h: CliHome;
  before(async () => {
    h = await cliHome();
  });

  test('hostname, dns, reputation and gui edits are staged', async () => {
    ok(await h.gh(['hostname', 'edit', 'Mail.Example.COM']));
    ok(await h.gh(['dns', 'edit', '--servers', '127.0.0.1:5353,::1']));
    ok(await h.gh(['reputation', 'edit', '--dnsbl', 'zen.spamhaus.org=-8,bl.example=-4.5']));
    ok(await h.gh(['gui', 'edit', '--address', '0.0.0.0', '--port', '9443']));
    const c = h.staged();
    assert.equal(c.hostname, 'mail.example.com');
    assert.deepEqual(c.dns.servers, ['127.0.0.1:5353', '[::1]']);
    assert.deepEqual(c.reputation.dnsbl, [
      { zone: 'zen.spamhaus.org', score: -8 },
      { zone: 'bl.example', score: -4.5 },
    ]);
    assert.deepEqual(c.gui, { address: '0.0.0.0', port: 9443, certificate: 'Demo', idleTimeoutMinutes: 30 });
    assert.match(ok(await h.gh(['reputation', 'edit', '--dnsbl', ''])), /SBRS is None/);
    assert.deepEqual(h.staged().reputation.dnsbl, []);
  });

  test('setting refusals name the problem and change nothing', async () => {
    const before = JSON.stringify(h.staged());
    const [host, dnsName, dnsMissing, guiPort] = await Promise.all([
      h.gh(['hostname', 'edit', 'bad host!']),
      h.gh(['dns', 'edit', '--servers', 'dns.example']),
      h.gh(['dns', 'edit']),
      h.gh(['gui', 'edit', '--port', '70000']),
    ]);
    refused(host, 1, /hostname: must be a host name/);
    refused(dnsName, 1, /DNS server "dns\.example": must be an IP address/);
    refused(dnsMissing, 2, /--servers/);
    refused(guiPort, 1, /gui\.port: must be 1-65535/);
    assert.equal(JSON.stringify(h.staged()), before);
  });

  test('sslconfig: minimum version and ciphers per service; TLS 1.0/1.1 refused clearly', async () => {
    ok(await h.gh(['sslconfig', 'edit', 'inbound', '--min-version', 'TLSv1.3']));
    ok(await h.gh(['sslconfig', 'edit', 'outbound', '--ciphers', 'ECDHE+AESGCM']));
    const ssl = h.staged().ssl;
    assert.equal(ssl.inbound.minVersion, 'TLSv1.3');
    assert.equal(ssl.outbound.ciphers, 'ECDHE+AESGCM');
    assert.equal(ssl.gui.minVersion, 'TLSv1.2');
    const [list, old, service] = await Promise.all([
      h.gh(['sslconfig', 'list']),
      h.gh(['sslconfig', 'edit', 'gui', '--min-version', 'TLSv1.1']),
      h.gh(['sslconfig', 'edit', 'smtp', '--min-version', 'TLSv1.2']),
    ]);
    assert.match(ok(list), /\ninbound\s+TLSv1\.3\s+/);
    refused(old, 1, /TLSv1\.1 is not supported: TLS 1\.0 and 1\.1 are obsolete \(RFC 8996\); the minimum is TLSv1\.2/);
    refused(service, 2, /inbound, outbound, gui/);
    assert.equal(h.staged().ssl.gui.minVersion, 'TLSv1.2');
  });

  test('alertconfig: new, list, setup, delete, history', async () => {
    ok(await h.gh(['alertconfig', 'new', 'noc@example.com', '--classes', 'tls,system', '--severities', 'critical,warning']));
    ok(await h.gh(['alertconfig', 'new', 'all@example.com']));
    ok(await h.gh(['alertconfig', 'setup', '--from', 'gatehouse@example.com', '--debounce-minutes', '15']));
    const alerts = h.staged().alerts;
    assert.deepEqual(alerts.recipients[0], { address: 'noc@example.com', classes: ['system', 'tls'], severities: ['critical', 'warning'] });
    assert.equal(alerts.recipients[1]?.classes.length, 5);
    assert.equal(alerts.from, 'gatehouse@example.com');
    assert.equal(alerts.debounceMinutes, 15);
    const [listed, history, dup] = await Promise.all([
      h.gh(['alertconfig', 'list']),
      h.gh(['alertconfig', 'history']),
      h.gh(['alertconfig', 'new', 'noc@example.com']),
    ]);
    const list = ok(listed);
    assert.match(list, /\nnoc@example\.com\s+system, tls\s+critical, warning\n/);
    assert.match(list, /Debounce:\s+15 minutes/);
    assert.equal(ok(history), 'No alerts sent\n');
    refused(dup, 1, /noc@example\.com already receives alerts/);
    ok(await h.gh(['alertconfig', 'delete', 'all@example.com']));
    assert.deepEqual(h.staged().alerts.recipients.map((r) => r.address), ['noc@example.com']);

    const entry = { time: '2026-01-01T00:00:00.000Z', class: 'tls', severity: 'warning', subject: 'TLS required for bank.example failed', recipients: ['noc@example.com'] };
    fs.writeFileSync(path.join(h.home, 'state', 'alert-history.jsonl'), `${JSON.stringify(entry)}\n`);
    const [text, json] = await Promise.all([h.gh(['alertconfig', 'history']), h.gh(['alertconfig', 'history', '--json'])]);
    assert.match(ok(text), /\n2026-01-01T00:00:00\.000Z\s+tls\s+warning\s+TLS required for bank\.example failed\s+noc@example\.com\n/);
    assert.deepEqual(JSON.parse(ok(json)), [entry]);
  });

  test('passwd: from a file or stdin, staged as a new hash; empty and unknown users refused', async () => {
    const file = path.join(h.home, 'pw.txt');
    fs.writeFileSync(file, 'from-file pass\n');
    const out = ok(await h.gh(['passwd', '--password-file', file]));
    assert.match(out, /Password of admin changed \(staged/);
    assert.doesNotMatch(out, /from-file/);
    assert.ok(verifyPassword('from-file pass', h.staged().users[0]?.passwordHash ?? ''));

    ok(await h.gh(['passwd', '--user', 'admin'], 'from-stdin\n'));
    assert.ok(verifyPassword('from-stdin', h.staged().users[0]?.passwordHash ?? ''));

    const [empty, unknown] = await Promise.all([h.gh(['passwd'], '\n'), h.gh(['passwd', '--user', 'nobody'], 'x\n')]);
    refused(empty, 1, /the new password is empty/);
    refused(unknown, 1, /no user named nobody/);
    assert.ok(verifyPassword('from-stdin', h.staged().users[0]?.passwordHash ?? ''));
    assert.doesNotMatch(fs.readFileSync(path.join(h.home, 'logs', 'audit'), 'utf8'), /from-stdin|from-file/);
  });
});
