/**
 * The showchanges diff: one line per change, named paths for named objects,
 * secrets masked, certificates summarised.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from '../../src/config/schema.js';
import { defaultConfig } from '../../src/config/default-config.js';
import { diffConfigs } from '../../src/services/config-diff.js';
import { createSelfSigned } from '../../src/tls/self-signed.js';

const demo = await createSelfSigned({ cn: 'demo.test' }, { key: 'ec-p256', days: 30 });
const other = await createSelfSigned({ cn: 'mx.example.com' }, { key: 'ec-p256', days: 30 });

function base(): Config {
  return defaultConfig({
    hostname: 'gw.test',
    demo: { name: 'Demo', source: 'demo', certificate: demo.certificatePem, intermediates: [], key: `sha256:${'a'.repeat(64)}` },
    adminPasswordHash: 'scrypt$16384$8$1$c2FsdA==$aGFzaA==',
  });
}

function edited(edit: (c: Config) => void): Config {
  const c = structuredClone(base());
  edit(c);
  return c;
}

const incoming = (c: Config) => c.listeners.find((l) => l.name === 'IncomingMail')!;

test('identical configurations have no changes', () => {
  assert.deepEqual(diffConfigs(base(), base()), []);
});

test('list values, settings and named objects', () => {
  const b = edited((c) => {
    incoming(c).rat.push('example.com', '.example.org');
    incoming(c).policies.find((p) => p.name === 'THROTTLED')!.tls = 'required';
    incoming(c).hostname = 'mx.gw.test';
    c.smtp.maxConnections = 200;
    c.destinationControls.domains.push({ domain: 'partner.test', tls: 'required-verify', dane: 'no', maxConcurrency: 10, maxMessagesPerConnection: 100, maxRecipientsPerPeriod: null, periodMinutes: 60, ipPreference: 'prefer-v4' });
  });
  assert.deepEqual(diffConfigs(base(), b), [
    '+ listeners[IncomingMail].rat[0]: example.com',
    '+ listeners[IncomingMail].rat[1]: .example.org',
    '~ listeners[IncomingMail].policies[THROTTLED].tls: preferred -> required',
    '+ listeners[IncomingMail].hostname: mx.gw.test',
    '+ destinationControls.domains[partner.test]: {domain: partner.test, tls: required-verify, dane: no, maxConcurrency: 10, maxMessagesPerConnection: 100, maxRecipientsPerPeriod: none, periodMinutes: 60, ipPreference: prefer-v4}',
    '~ smtp.maxConnections: 1000 -> 200',
  ]);
  // and back again
  assert.deepEqual(diffConfigs(b, base()), [
    '- listeners[IncomingMail].rat[0]: example.com',
    '- listeners[IncomingMail].rat[1]: .example.org',
    '~ listeners[IncomingMail].policies[THROTTLED].tls: required -> preferred',
    '- listeners[IncomingMail].hostname',
    '- destinationControls.domains[partner.test]',
    '~ smtp.maxConnections: 200 -> 1000',
  ]);
});

test('inserting a sender group reads as one addition; a move as one order line', () => {
  const inserted = edited((c) => incoming(c).senderGroups.unshift({ name: 'PARTNERS', policy: 'TRUSTED', members: ['192.0.2.0/24'], comment: '' }));
  assert.deepEqual(diffConfigs(base(), inserted), ['+ listeners[IncomingMail].senderGroups[PARTNERS]: {name: PARTNERS, policy: TRUSTED, members: [192.0.2.0/24], comment: ""}']);
  const moved = edited((c) => {
    const groups = incoming(c).senderGroups;
    groups.unshift(groups.splice(2, 1)[0]!);
  });
  assert.deepEqual(diffConfigs(base(), moved), ['~ listeners[IncomingMail].senderGroups: order ALLOWLIST, BLOCKLIST, SUSPECTLIST, UNKNOWNLIST, ALL -> SUSPECTLIST, ALLOWLIST, BLOCKLIST, UNKNOWNLIST, ALL']);
  const removed = edited((c) => (c.listeners = c.listeners.filter((l) => l.name !== 'OutgoingMail')));
  assert.deepEqual(diffConfigs(base(), removed), ['- listeners[OutgoingMail]']);
  const reordered = edited((c) => (incoming(c).certificates = ['Demo', 'Other']));
  const swapped = structuredClone(reordered);
  incoming(swapped).certificates = ['Other', 'Demo'];
  assert.deepEqual(diffConfigs(reordered, swapped), ['~ listeners[IncomingMail].certificates: [Demo, Other] -> [Other, Demo]']);
});

test('secrets are masked and certificates summarised', () => {
  const b = edited((c) => {
    c.users[0]!.passwordHash = 'scrypt$16384$8$1$bmV3$bmV3aGFzaA==';
    c.users.push({ name: 'bob', passwordHash: 'scrypt$16384$8$1$Ym9i$Ym9i', role: 'operator' });
    c.certificates[0]!.certificate = other.certificatePem;
    c.certificates[0]!.key = `sha256:${'b'.repeat(64)}`;
  });
  const lines = diffConfigs(base(), b);
  const text = lines.join('\n');
  assert.ok(!text.includes('scrypt$'), text);
  assert.ok(!text.includes('BEGIN'), text);
  assert.ok(!text.includes('aaaaaaaa') && !text.includes('bbbbbbbb'), text);
  assert.ok(lines.includes('~ users[admin].passwordHash: (secret) -> (secret)'), text);
  assert.ok(lines.includes('+ users[bob]: {name: bob, passwordHash: (secret), role: operator}'), text);
  assert.ok(lines.includes('~ certificates[Demo].key: (secret) -> (secret)'), text);
  const cert = lines.find((l) => l.startsWith('~ certificates[Demo].certificate: '));
  assert.match(cert ?? '', /^~ certificates\[Demo\]\.certificate: certificate demo\.test, sha256 ([0-9A-F]{2}:){7}[0-9A-F]{2}… -> certificate mx\.example\.com, sha256 ([0-9A-F]{2}:){7}[0-9A-F]{2}…$/);
});
