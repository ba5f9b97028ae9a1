/** Unit tests of the global setting, alert and user edits (pure, no home). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdit, testConfig } from '../../test/harness/edit-fixture.js';
import { ConfigError, UserError } from '../core/errors.js';
import { checkCipherList, editGui, editTlsService, setDnsblZones, setDnsServers, setHostname, toTlsVersion } from './edit-settings.js';
import { addAlertRecipient, deleteAlertRecipient, setupAlerts } from './edit-alerts.js';
import { passwordFromInput, setUserPassword } from './users.js';
import { verifyPassword } from './password-hash.js';

const exitCodeOf = (fn: () => unknown): number | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof UserError ? err.exitCode : undefined;
  }
  return undefined;
};

describe('global setting edits', () => {
  test('host name is lower-cased; a bad one is named by validation', () => {
    assert.equal(applyEdit(testConfig(), (d) => void setHostname(d, 'Mail.Example.COM.')).config.hostname, 'mail.example.com');
    assert.throws(
      () => applyEdit(testConfig(), (d) => void setHostname(d, 'bad host!')),
      (e: unknown) => e instanceof ConfigError && e.issues.includes('hostname: must be a host name'),
    );
  });

  test('TLS versions: 1.2 and 1.3 in any spelling; 1.0/1.1 refused with the reason (exit 1); nonsense is a usage error', () => {
    for (const v of ['TLSv1.2', 'tlsv1.2', '1.2', 'TLS1.2']) assert.equal(toTlsVersion(v), 'TLSv1.2');
    assert.equal(toTlsVersion('TLSv1.3'), 'TLSv1.3');
    for (const v of ['TLSv1.1', 'TLSv1.0', 'TLSv1', '1.1', 'SSLv3']) {
      assert.throws(() => toTlsVersion(v), /not supported: TLS 1\.0 and 1\.1 are obsolete \(RFC 8996\); the minimum is TLSv1\.2/);
      assert.equal(exitCodeOf(() => toTlsVersion(v)), 1);
    }
    assert.equal(exitCodeOf(() => toTlsVersion('TLSv1.4')), 2);
  });

  test('cipher lists are checked by OpenSSL; the service settings change independently', () => {
    assert.throws(() => checkCipherList('NOPE'), /cipher list "NOPE" is not usable/);
    assert.throws(() => checkCipherList(' '), /must not be empty/);
    const { config } = applyEdit(testConfig(), (d) => void editTlsService(d, 'gui', { minVersion: 'TLSv1.3', ciphers: 'ECDHE+AESGCM' }));
    assert.deepEqual(config.ssl.gui, { minVersion: 'TLSv1.3', ciphers: 'ECDHE+AESGCM' });
    assert.equal(config.ssl.inbound.minVersion, 'TLSv1.2');
  });

  test('DNS servers: checked by the resolver parser, stored in a form the schema accepts; empty clears', () => {
    const { config } = applyEdit(testConfig(), (d) => void setDnsServers(d, ['127.0.0.1:5353', '::1', '[::1]:53', 'localhost']));
    assert.deepEqual(config.dns.servers, ['127.0.0.1:5353', '[::1]', '[::1]:53', '127.0.0.1']);
    assert.deepEqual(applyEdit(config, (d) => void setDnsServers(d, [])).config.dns.servers, []);
    assert.throws(() => setDnsServers(testConfig(), ['dns.example']), /DNS server "dns\.example": must be an IP address/);
    assert.throws(() => setDnsServers(testConfig(), ['1.2.3.4:0']), /bad port/);
    assert.throws(() => setDnsServers(testConfig(), ['1.2.3.4', '1.2.3.4']), /listed twice/);
  });

  test('DNSBL zones: ZONE=SCORE within -10..10; empty means SBRS None', () => {
    const { config } = applyEdit(testConfig(), (d) => void setDnsblZones(d, ['Zen.Spamhaus.org=-8', 'bl.example=-4.5']));
    assert.deepEqual(config.reputation.dnsbl, [
      { zone: 'zen.spamhaus.org', score: -8 },
      { zone: 'bl.example', score: -4.5 },
    ]);
    assert.deepEqual(applyEdit(config, (d) => void setDnsblZones(d, [])).config.reputation.dnsbl, []);
    assert.throws(() => setDnsblZones(testConfig(), ['zen.spamhaus.org']), /ZONE=SCORE/);
    assert.throws(() => setDnsblZones(testConfig(), ['zen.spamhaus.org=-11']), /from -10 to 10/);
  });

  test('GUI: address checked here, port and certificate by validation', () => {
    const { config } = applyEdit(testConfig(), (d) => void editGui(d, { address: '0.0.0.0', port: 9443 }));
    assert.deepEqual(config.gui, { address: '0.0.0.0', port: 9443, certificate: 'Demo', idleTimeoutMinutes: 30 });
    assert.equal(applyEdit(testConfig(), (d) => void editGui(d, { idleTimeoutMinutes: 10 })).config.gui.idleTimeoutMinutes, 10);
    assert.throws(
      () => applyEdit(testConfig(), (d) => void editGui(d, { idleTimeoutMinutes: 0 })),
      (e: unknown) => e instanceof ConfigError && e.issues.includes('gui.idleTimeoutMinutes: must be 1-1440'),
    );
    assert.throws(() => editGui(testConfig(), { address: 'gui.example' }), /not an IP address/);
    assert.throws(
      () => applyEdit(testConfig(), (d) => void editGui(d, { port: 70000 })),
      (e: unknown) => e instanceof ConfigError && e.issues.includes('gui.port: must be 1-65535'),
    );
    assert.throws(
      () => applyEdit(testConfig(), (d) => void editGui(d, { certificate: 'Nope' })),
      (e: unknown) => e instanceof ConfigError && e.issues.includes('gui.certificate: no certificate profile named Nope'),
    );
  });
});

describe('alert edits', () => {
  test('recipients get every class and severity unless told; "all" works; unknown names refused', () => {
    const { config } = applyEdit(testConfig(), (d) => {
      addAlertRecipient(d, 'noc@Example.COM', { classes: ['TLS', 'system'], severities: ['critical'] });
      addAlertRecipient(d, 'all@example.com', {});
      addAlertRecipient(d, 'sec@example.com', { classes: ['all'] });
      deleteAlertRecipient(d, 'SEC@example.com');
    });
    assert.deepEqual(config.alerts.recipients, [
      { address: 'noc@example.com', classes: ['system', 'tls'], severities: ['critical'] },
      { address: 'all@example.com', classes: ['system', 'tls', 'certificates', 'queue', 'security'], severities: ['critical', 'warning', 'info'] },
    ]);
    const c = structuredClone(config);
    assert.throws(() => addAlertRecipient(c, 'noc@example.com', {}), /already receives alerts/);
    assert.throws(() => addAlertRecipient(c, 'not-an-address', {}), /is not an email address/);
    assert.throws(() => addAlertRecipient(c, 'x@example.com', { classes: ['tls', 'weather'] }), /unknown alert class weather/);
    assert.throws(() => deleteAlertRecipient(c, 'nobody@example.com'), /not an alert recipient/);
  });

  test('setup: From and debounce; empty From restores the default; debounce must be positive', () => {
    const { config } = applyEdit(testConfig(), (d) => void setupAlerts(d, { from: 'gatehouse@example.com', debounceMinutes: 30 }));
    assert.equal(config.alerts.from, 'gatehouse@example.com');
    assert.equal(config.alerts.debounceMinutes, 30);
    assert.equal(applyEdit(config, (d) => void setupAlerts(d, { from: '' })).config.alerts.from, null);
    assert.throws(
      () => applyEdit(config, (d) => void setupAlerts(d, { debounceMinutes: 0 })),
      (e: unknown) => e instanceof ConfigError && e.issues.includes('alerts.debounceMinutes: must be greater than 0'),
    );
  });
});

describe('passwords', () => {
  test('input: one trailing newline stripped; empty and multi-line refused', () => {
    assert.equal(passwordFromInput('s3cret\n'), 's3cret');
    assert.equal(passwordFromInput('s3cret\r\n'), 's3cret');
    assert.equal(passwordFromInput(' spaced pass '), ' spaced pass ');
    assert.throws(() => passwordFromInput('\n'), /empty/);
    assert.throws(() => passwordFromInput(''), /empty/);
    assert.throws(() => passwordFromInput('a\n\n'), /more than one line/);
  });

  test('the hash of the user changes and verifies; unknown users are refused', () => {
    const { config } = applyEdit(testConfig(), (d) => setUserPassword(d, 'admin', 'n3w pässword'));
    const hash = config.users[0]?.passwordHash ?? '';
    assert.ok(verifyPassword('n3w pässword', hash));
    assert.ok(!hash.includes('n3w'));
    assert.throws(() => setUserPassword(testConfig(), 'root', 'x'), (e: unknown) => e instanceof UserError && e.exitCode === 1 && /no user named root \(users: admin\)/.test(e.message));
  });
});
