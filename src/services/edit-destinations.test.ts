/** Unit tests of the destination control and SMTP route edits (pure, no home). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdit, testConfig } from '../../test/harness/edit-fixture.js';
import { ConfigError } from '../core/errors.js';
import {
  addDestination,
  deleteDestination,
  editDefaultDestination,
  editDestination,
  exportDestinations,
  importDestinations,
  setupDestinations,
  toDestinationKey,
} from './edit-destinations.js';
import { addRoute, deleteRoute, toRouteHost } from './edit-routes.js';

describe('destination control edits', () => {
  test('keys: domain, .domain and [ip], normalised; default and bare addresses refused', () => {
    assert.equal(toDestinationKey('Example.COM.'), 'example.com');
    assert.equal(toDestinationKey('.Partner.example'), '.partner.example');
    assert.equal(toDestinationKey('[192.0.2.1]'), '[192.0.2.1]');
    assert.equal(toDestinationKey('[2001:DB8::1]'), '[2001:db8::1]');
    assert.throws(() => toDestinationKey('default'), /destconfig default/);
    assert.throws(() => toDestinationKey('192.0.2.1'), /in brackets, e\.g\. \[192\.0\.2\.1\]/);
    assert.throws(() => toDestinationKey('[999.1.1.1]'), /not an address in brackets/);
    assert.throws(() => toDestinationKey('bad domain'), /is not a destination/);
  });

  test('a new entry copies the default entry, then applies its flags', () => {
    const { config } = applyEdit(testConfig(), (d) => {
      editDefaultDestination(d, { tls: 'required', maxConcurrency: 20 });
      addDestination(d, 'Bank.example', { maxRecipientsPerPeriod: 100, periodMinutes: 30 });
      addDestination(d, '[192.0.2.1]', { tls: 'no' });
    });
    const [bank, ip] = config.destinationControls.domains;
    assert.equal(config.destinationControls.default.tls, 'required');
    assert.deepEqual(bank, {
      domain: 'bank.example',
      tls: 'required',
      dane: 'no',
      maxConcurrency: 20,
      maxMessagesPerConnection: 100,
      maxRecipientsPerPeriod: 100,
      periodMinutes: 30,
      ipPreference: 'prefer-v4',
    });
    assert.equal(ip?.tls, 'no');
  });

  test('edit, delete and their refusals', () => {
    const { config } = applyEdit(testConfig(), (d) => {
      addDestination(d, 'a.example', {});
      addDestination(d, 'b.example', {});
      editDestination(d, 'A.example', { tls: 'required-verify-hosted', ipPreference: 'require-v6' });
      deleteDestination(d, 'b.example');
    });
    assert.deepEqual(config.destinationControls.domains.map((x) => [x.domain, x.tls, x.ipPreference]), [['a.example', 'required-verify-hosted', 'require-v6']]);
    const c = structuredClone(config);
    assert.throws(() => addDestination(c, 'a.example', {}), /already exists \(use destconfig edit a\.example\)/);
    assert.throws(() => editDestination(c, 'z.example', { tls: 'no' }), /no destination control for z\.example: it uses the default entry/);
    assert.throws(
      () => applyEdit(c, (d) => void editDestination(d, 'a.example', { maxConcurrency: 0 })),
      (e: unknown) => e instanceof ConfigError && e.issues.includes('destinationControls.domains[0].maxConcurrency: must be greater than 0'),
    );
  });

  test('setup: the client certificate must name a profile; none clears it', () => {
    const { config } = applyEdit(testConfig(), (d) => setupDestinations(d, { certificate: 'Demo', alertOnRequiredTlsFailure: false }));
    assert.equal(config.destinationControls.certificate, 'Demo');
    assert.equal(config.destinationControls.alertOnRequiredTlsFailure, false);
    assert.equal(applyEdit(config, (d) => setupDestinations(d, { certificate: null })).config.destinationControls.certificate, null);
    assert.throws(
      () => applyEdit(config, (d) => setupDestinations(d, { certificate: 'Nope' })),
      (e: unknown) => e instanceof ConfigError && e.issues.includes('destinationControls.certificate: no certificate profile named Nope'),
    );
  });

  test('export then import reproduces the entries; import replaces them', () => {
    const source = applyEdit(testConfig(), (d) => {
      editDefaultDestination(d, { tls: 'preferred-verify' });
      addDestination(d, 'bank.example', { tls: 'required-verify', maxRecipientsPerPeriod: 10 });
      addDestination(d, '[192.0.2.1]', { tls: 'required' });
    }).config;
    const yaml = exportDestinations(source);
    const target = applyEdit(testConfig(), (d) => {
      addDestination(d, 'old.example', {});
      assert.deepEqual(importDestinations(d, yaml, 'dest.yaml'), { domains: 2 });
    }).config;
    assert.deepEqual(target.destinationControls.default, source.destinationControls.default);
    assert.deepEqual(target.destinationControls.domains, source.destinationControls.domains);
    assert.equal(target.destinationControls.certificate, null);
  });

  test('an invalid import changes nothing and reports every error with its path in the file', () => {
    const draft = testConfig();
    const before = structuredClone(draft);
    const yaml = 'default:\n  tls: sometimes\ndomains:\n  - domain: bad domain\n  - domain: x.example\n    bogus: 1\nextra: 1\n';
    assert.throws(
      () => importDestinations(draft, yaml, 'dest.yaml'),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.ok(e.issues.includes('dest.yaml: extra: unknown setting (expected default and domains)'), e.issues.join('\n'));
        assert.ok(e.issues.some((i) => i.startsWith('dest.yaml: default.tls: ')));
        assert.ok(e.issues.some((i) => i.startsWith('dest.yaml: domains[0].domain: "bad domain" is not a destination')));
        assert.equal(e.issues.filter((i) => i.startsWith('dest.yaml: domains[0].domain')).length, 1);
        assert.ok(e.issues.includes('dest.yaml: domains[1].bogus: unknown setting'));
        return true;
      },
    );
    assert.throws(
      () => importDestinations(draft, 'domains:\n  - domain: x.example\n  - domain: X.example.\n', 'dest.yaml'),
      (e: unknown) => e instanceof ConfigError && e.issues.includes('dest.yaml: domains[1].domain: duplicate entry x.example'),
    );
    assert.deepEqual(draft, before);
    assert.throws(() => importDestinations(draft, 'a: [', 'dest.yaml'), /dest\.yaml: not valid YAML/);
    assert.throws(() => importDestinations(draft, '- 1', 'dest.yaml'), /must be a mapping/);
  });
});

describe('SMTP route edits', () => {
  test('hosts are normalised; bad hosts and ports are refused naming them', () => {
    assert.equal(toRouteHost('MX1.Internal:25'), 'mx1.internal:25');
    assert.equal(toRouteHost('2001:db8::1'), '[2001:db8::1]');
    assert.equal(toRouteHost('[2001:db8::1]:2525'), '[2001:db8::1]:2525');
    assert.equal(toRouteHost('10.0.0.7'), '10.0.0.7');
    assert.throws(() => toRouteHost('smarthost:99999'), /route host "smarthost:99999": port must be 1-65535/);
    assert.throws(() => toRouteHost('bad host'), /route host "bad host": not a host name/);
  });

  test('add, the catch-all ALL, duplicates and delete', () => {
    const { config } = applyEdit(testConfig(), (d) => {
      addRoute(d, 'Example.com', ['mx1.internal:25', '10.0.0.7']);
      addRoute(d, 'all', ['smarthost:587']);
      addRoute(d, '.sub.example', ['relay.internal']);
      deleteRoute(d, '.SUB.example');
    });
    assert.deepEqual(config.smtpRoutes, [
      { domain: 'example.com', hosts: ['mx1.internal:25', '10.0.0.7'] },
      { domain: 'ALL', hosts: ['smarthost:587'] },
    ]);
    const c = structuredClone(config);
    assert.throws(() => addRoute(c, 'EXAMPLE.com', ['x']), /already exists: delete it first/);
    assert.throws(() => addRoute(c, 'new.example', []), /at least one HOST/);
    assert.throws(() => deleteRoute(c, 'none.example'), /no SMTP route for none\.example \(routes: example\.com, ALL\)/);
    assert.throws(() => addRoute(c, 'bad_domain!', ['x']), /not a route domain/);
  });
});
