/** Unit tests of the listener, RAT, sender group and mail flow policy edits (pure, no home). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdit, testConfig } from '../../test/harness/edit-fixture.js';
import { defaultHat } from '../config/default-hat.js';
import { ConfigError, UserError } from '../core/errors.js';
import { addListener, addRatEntry, deleteListener, deleteRatEntry, editListener, findListener } from './edit-listeners.js';
import { addSenderGroup, addSenderGroupMember, deleteSenderGroup, deleteSenderGroupMember, editSenderGroup, moveSenderGroup } from './edit-sender-groups.js';
import { addPolicy, deletePolicy, editPolicy } from './edit-mail-flow-policies.js';
import { toTableName } from './table-name.js';

const groupNames = (c: ReturnType<typeof testConfig>, l: string): string[] => findListener(c, l).senderGroups.map((g) => g.name);

describe('listener edits', () => {
  test('a new listener gets the default HAT of its type, an empty RAT and the demo certificate', () => {
    const { config } = applyEdit(testConfig(), (d) => void addListener(d, { name: 'Extra', type: 'private', address: '127.0.0.1', port: 2600 }));
    const l = findListener(config, 'extra');
    assert.equal(l.type, 'private');
    assert.deepEqual(l.certificates, ['Demo']);
    assert.deepEqual(l.rat, []);
    assert.deepEqual({ senderGroups: l.senderGroups, policies: l.policies }, defaultHat('private'));
    const pub = findListener(applyEdit(testConfig(), (d) => void addListener(d, { name: 'P', type: 'public', address: '::', port: 25, hostname: 'MX.Example.COM' })).config, 'P');
    assert.deepEqual(pub.rat, []);
    assert.equal(pub.hostname, 'mx.example.com');
    assert.deepEqual(pub.senderGroups.map((g) => g.name), ['ALLOWLIST', 'BLOCKLIST', 'SUSPECTLIST', 'UNKNOWNLIST', 'ALL']);
  });

  test('refusals: duplicate name, bad address, port out of range, unknown certificate, unknown listener', () => {
    const c = testConfig();
    assert.throws(() => addListener(structuredClone(c), { name: 'incomingmail', type: 'public', address: '127.0.0.1', port: 2600 }), /already exists/);
    assert.throws(() => addListener(structuredClone(c), { name: 'X', type: 'public', address: 'localhost', port: 2600 }), /"localhost" is not an IP address/);
    assert.throws(
      () => applyEdit(c, (d) => void addListener(d, { name: 'X', type: 'public', address: '127.0.0.1', port: 70000 })),
      (e: unknown) => e instanceof ConfigError && e.issues.includes('listeners[2].port: must be 1-65535'),
    );
    assert.throws(
      () => applyEdit(c, (d) => void addListener(d, { name: 'X', type: 'public', address: '127.0.0.1', port: 2600, certificates: ['Nope'] })),
      (e: unknown) => e instanceof ConfigError && e.issues.some((i) => i.includes('no certificate profile named Nope')),
    );
    assert.throws(
      () => applyEdit(c, (d) => void addListener(d, { name: 'X', type: 'public', address: '127.0.0.1', port: 2525 })),
      /already used by listeners\[0\]/,
    );
    assert.throws(() => editListener(structuredClone(c), 'Nope', { port: 1 }), /no listener named Nope \(listeners: IncomingMail, OutgoingMail\)/);
  });

  test('edit changes only what is given; an empty host name falls back to the global one', () => {
    const { config } = applyEdit(testConfig(), (d) => {
      editListener(d, 'IncomingMail', { hostname: 'mx.example.com', port: 25 });
      editListener(d, 'IncomingMail', { hostname: '', certificates: ['Demo'] });
    });
    const l = findListener(config, 'IncomingMail');
    assert.equal(l.port, 25);
    assert.equal(l.address, '127.0.0.1');
    assert.equal(l.hostname, undefined);
  });

  test('delete removes a listener, the last one too', () => {
    const { config } = applyEdit(testConfig(), (d) => {
      deleteListener(d, 'incomingmail');
      deleteListener(d, 'OutgoingMail');
    });
    assert.deepEqual(config.listeners, []);
  });

  test('RAT: entries normalised, duplicates and private listeners refused', () => {
    const { config } = applyEdit(testConfig(), (d) => {
      assert.equal(addRatEntry(d, 'IncomingMail', 'Example.COM.'), 'example.com');
      addRatEntry(d, 'IncomingMail', '.example.net');
      addRatEntry(d, 'IncomingMail', 'gone.example');
      deleteRatEntry(d, 'IncomingMail', 'GONE.example');
    });
    assert.deepEqual(findListener(config, 'IncomingMail').rat, ['example.com', '.example.net']);
    const c = structuredClone(config);
    assert.throws(() => addRatEntry(c, 'IncomingMail', 'example.com'), /already in the recipient access table/);
    assert.throws(() => addRatEntry(c, 'OutgoingMail', 'example.com'), /OutgoingMail is private/);
    assert.throws(() => addRatEntry(c, 'IncomingMail', 'not a domain'), /is not a domain/);
    assert.throws(() => deleteRatEntry(c, 'IncomingMail', 'other.example'), /not in the recipient access table.*example\.com, \.example\.net/);
  });
});

describe('sender group edits', () => {
  test('names: a leading $ is stripped and lower case upper-cased', () => {
    assert.equal(toTableName('$relaylist', 'sender group'), 'RELAYLIST');
    assert.equal(toTableName('Partners_2', 'sender group'), 'PARTNERS_2');
    assert.throws(() => toTableName('bad name', 'mail flow policy'), /not a valid mail flow policy name/);
  });

  test('a new group goes before the trailing catch-all, or at --order', () => {
    const { config } = applyEdit(testConfig(), (d) => {
      addSenderGroup(d, 'IncomingMail', 'partners', { policy: '$trusted', comment: 'Partner relays' });
      addSenderGroup(d, 'IncomingMail', 'FIRST', { policy: 'ACCEPTED', order: 1 });
    });
    assert.deepEqual(groupNames(config, 'IncomingMail'), ['FIRST', 'ALLOWLIST', 'BLOCKLIST', 'SUSPECTLIST', 'UNKNOWNLIST', 'PARTNERS', 'ALL']);
    const partners = findListener(config, 'IncomingMail').senderGroups.find((g) => g.name === 'PARTNERS');
    assert.deepEqual(partners, { name: 'PARTNERS', policy: 'TRUSTED', members: [], comment: 'Partner relays' });
  });

  test('refusals: unknown policy (with the fix), duplicate group, order out of range, unknown group', () => {
    const c = testConfig();
    assert.throws(() => addSenderGroup(structuredClone(c), 'IncomingMail', 'X', { policy: 'RELAYED' }), /no mail flow policy RELAYED.*listenerconfig policy new/);
    assert.throws(() => addSenderGroup(structuredClone(c), 'IncomingMail', 'allowlist', { policy: 'TRUSTED' }), /already has a sender group ALLOWLIST/);
    assert.throws(() => addSenderGroup(structuredClone(c), 'IncomingMail', 'X', { policy: 'TRUSTED', order: 7 }), /order 7 is out of range: must be 1-6/);
    assert.throws(() => moveSenderGroup(structuredClone(c), 'OutgoingMail', 'ALL', 0), /must be 1-2/);
    assert.throws(() => deleteSenderGroup(structuredClone(c), 'OutgoingMail', 'NOPE'), /no sender group NOPE \(groups: RELAYLIST, ALL\)/);
  });

  test('move, edit and delete', () => {
    const { config } = applyEdit(testConfig(), (d) => {
      moveSenderGroup(d, 'IncomingMail', 'ALL', 1);
      editSenderGroup(d, 'IncomingMail', 'suspectlist', { policy: 'blocked', comment: 'now refused', order: 5 });
      deleteSenderGroup(d, 'IncomingMail', '$blocklist');
    });
    const l = findListener(config, 'IncomingMail');
    assert.deepEqual(groupNames(config, 'IncomingMail'), ['ALL', 'ALLOWLIST', 'UNKNOWNLIST', 'SUSPECTLIST']);
    assert.equal(l.senderGroups[3]?.policy, 'BLOCKED');
    assert.equal(l.senderGroups[3]?.comment, 'now refused');
  });

  test('members are validated with the reason, duplicates and unknown members refused', () => {
    const { config } = applyEdit(testConfig(), (d) => {
      addSenderGroupMember(d, 'OutgoingMail', 'RELAYLIST', '10.0.0.0/8');
      addSenderGroupMember(d, 'OutgoingMail', 'RELAYLIST', '.corp.example');
      deleteSenderGroupMember(d, 'OutgoingMail', 'RELAYLIST', '::1');
    });
    assert.deepEqual(findListener(config, 'OutgoingMail').senderGroups[0]?.members, ['127.0.0.0/8', '10.0.0.0/8', '.corp.example']);
    const c = structuredClone(config);
    assert.throws(() => addSenderGroupMember(c, 'OutgoingMail', 'RELAYLIST', '10.1.1.'), /bad sender group member "10\.1\.1\.": partial addresses/);
    assert.throws(() => addSenderGroupMember(c, 'OutgoingMail', 'RELAYLIST', 'sbrs[5:1]'), /bad sender group member "sbrs\[5:1\]"/);
    assert.throws(() => addSenderGroupMember(c, 'OutgoingMail', 'RELAYLIST', '10.0.0.0/8'), /already a member of RELAYLIST/);
    assert.throws(() => deleteSenderGroupMember(c, 'OutgoingMail', 'RELAYLIST', '192.0.2.1'), /not a member of RELAYLIST.*members: 127\.0\.0\.0\/8/);
  });
});

describe('mail flow policy edits', () => {
  test('a new policy starts from the defaults; edit changes only what is given', () => {
    const { config } = applyEdit(testConfig(), (d) => {
      addPolicy(d, 'IncomingMail', 'strict', { tls: 'required', maxMessageSize: 1000, maxRecipientsPerHour: null });
      editPolicy(d, 'IncomingMail', '$STRICT', { verifyClientCertificate: true, maxConnectionsPerIp: 3 });
      editPolicy(d, 'IncomingMail', 'ACCEPTED', { tlsMandatoryAddressList: ['a@b.example', '.bank.example'] });
    });
    const l = findListener(config, 'IncomingMail');
    const strict = l.policies.find((p) => p.name === 'STRICT');
    assert.equal(strict?.behavior, 'accept');
    assert.equal(strict?.tls, 'required');
    assert.equal(strict?.maxMessageSize, 1000);
    assert.equal(strict?.maxRecipientsPerMessage, 1000);
    assert.equal(strict?.maxConnectionsPerIp, 3);
    assert.equal(strict?.verifyClientCertificate, true);
    assert.equal(strict?.maxRecipientsPerHour, null);
    assert.deepEqual(l.policies.find((p) => p.name === 'ACCEPTED')?.tlsMandatoryAddressList, ['a@b.example', '.bank.example']);
  });

  test('refusals: duplicate, bad address list entry, bad number (named by validation), unknown policy', () => {
    const c = testConfig();
    assert.throws(() => addPolicy(structuredClone(c), 'IncomingMail', 'accepted', {}), /already has a mail flow policy ACCEPTED/);
    assert.throws(() => editPolicy(structuredClone(c), 'IncomingMail', 'ACCEPTED', { tlsMandatoryAddressList: ['a@@b'] }), /bad TLS-mandatory address list entry "a@@b"/);
    assert.throws(
      () => applyEdit(c, (d) => void editPolicy(d, 'IncomingMail', 'ACCEPTED', { maxMessageSize: 0 })),
      (e: unknown) => e instanceof ConfigError && e.issues.includes('listeners[0].policies[3].maxMessageSize: must be greater than 0'),
    );
    assert.throws(() => editPolicy(structuredClone(c), 'IncomingMail', 'RELAYED', { tls: 'off' }), /no mail flow policy RELAYED \(policies: TRUSTED, BLOCKED, THROTTLED, ACCEPTED\)/);
  });

  test('requiring TLS on the catch-all policy of a public listener is kept with the RFC 3207 warning', () => {
    const { warnings } = applyEdit(testConfig(), (d) => void editPolicy(d, 'IncomingMail', 'ACCEPTED', { tls: 'required' }));
    assert.ok(warnings.some((w) => w.includes('RFC 3207')));
  });

  test('a policy in use is not deleted: the refusal names the groups', () => {
    const c = testConfig();
    assert.throws(
      () => deletePolicy(structuredClone(c), 'IncomingMail', 'ACCEPTED'),
      (e: unknown) => e instanceof UserError && /used by sender groups UNKNOWNLIST, ALL on listener IncomingMail/.test(e.message),
    );
    const { config } = applyEdit(c, (d) => {
      addPolicy(d, 'IncomingMail', 'UNUSED', {});
      deletePolicy(d, 'IncomingMail', 'unused');
    });
    assert.deepEqual(findListener(config, 'IncomingMail').policies.map((p) => p.name), ['TRUSTED', 'BLOCKED', 'THROTTLED', 'ACCEPTED']);
  });
});
