/**
 * `gatehouse listenerconfig` round trips through the built CLI: listeners,
 * RAT, sender groups and mail flow policies are staged (not committed), list
 * commands print tables or --json, refusals are one line with exit 1 (refused)
 * or 2 (usage).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cliHome, ok, refused, type CliHome } from './cli-home.js';

describe('listenerconfig', () => {
  let h: CliHome;
  before(async () => {
    h = await cliHome();
  });
  const listener = (name: string) => h.staged().listeners.find((l) => l.name === name);

  test('refusals change nothing: unknown listener, bad port, missing flags, bad values, nothing to change', async () => {
    const before = JSON.stringify(h.staged());
    const [unknown, port, missing, notNumber, nothing] = await Promise.all([
      h.gh(['listenerconfig', 'edit', 'Nope', '--port', '25']),
      h.gh(['listenerconfig', 'new', 'Extra', '--type', 'public', '--address', '127.0.0.1', '--port', '70000']),
      h.gh(['listenerconfig', 'new', 'Extra', '--type', 'public', '--address', '127.0.0.1']),
      h.gh(['listenerconfig', 'edit', 'IncomingMail', '--port', 'abc']),
      h.gh(['listenerconfig', 'edit', 'IncomingMail']),
    ]);
    refused(unknown, 1, /no listener named Nope \(listeners: IncomingMail, OutgoingMail\)/);
    refused(port, 1, /listeners\[2\]\.port: must be 1-65535/);
    refused(missing, 2, /--port/);
    refused(notNumber, 2, /"abc" is not a whole number/);
    refused(nothing, 2, /nothing to change/);
    assert.equal(JSON.stringify(h.staged()), before);
  });

  test('new, edit, list and delete a listener', async () => {
    ok(await h.gh(['listenerconfig', 'new', 'Extra', '--type', 'private', '--address', '127.0.0.1', '--port', '2600', '--hostname', 'relay.gw.test']));
    const extra = listener('Extra');
    assert.equal(extra?.type, 'private');
    assert.deepEqual(extra?.senderGroups.map((g) => g.name), ['RELAYLIST', 'ALL']);
    assert.equal(h.staged().listeners.length, 3);

    assert.match(ok(await h.gh(['listenerconfig', 'edit', 'extra', '--port', '2601', '--certificate', 'Demo'])), /Listener Extra changed \(staged/);
    assert.equal(listener('Extra')?.port, 2601);

    const [text, jsonText] = await Promise.all([h.gh(['listenerconfig', 'list']), h.gh(['listenerconfig', 'list', '--json'])]);
    const table = ok(text);
    assert.match(table, /^Name\s+Type\s+Address\s+Port/);
    assert.match(table, /\nExtra\s+private\s+127\.0\.0\.1\s+2601\s+relay\.gw\.test/);
    const json = JSON.parse(ok(jsonText)) as { name: string; port: number }[];
    assert.deepEqual(json.map((l) => [l.name, l.port]), [['IncomingMail', 2525], ['OutgoingMail', 2587], ['Extra', 2601]]);

    ok(await h.gh(['listenerconfig', 'delete', 'Extra']));
    assert.equal(listener('Extra'), undefined);
    // Staged only: the committed version is still the initial one.
    assert.equal(h.staged().listeners.length, 2);
  });

  test('RAT add, list, delete; private listeners have none', async () => {
    ok(await h.gh(['listenerconfig', 'rat', 'add', 'IncomingMail', 'Example.COM']));
    ok(await h.gh(['listenerconfig', 'rat', 'add', 'IncomingMail', '.example.net']));
    assert.deepEqual(listener('IncomingMail')?.rat, ['example.com', '.example.net']);
    const [list, priv, missing] = await Promise.all([
      h.gh(['listenerconfig', 'rat', 'list', 'IncomingMail']),
      h.gh(['listenerconfig', 'rat', 'add', 'OutgoingMail', 'example.com']),
      h.gh(['listenerconfig', 'rat', 'add', 'IncomingMail']),
    ]);
    assert.match(ok(list), /example\.com\s+exactly this domain\n\.example\.net\s+subdomains of example\.net/);
    refused(priv, 1, /OutgoingMail is private/);
    refused(missing, 2, /missing required argument/);
    ok(await h.gh(['listenerconfig', 'rat', 'delete', 'IncomingMail', '.example.net']));
    assert.deepEqual(listener('IncomingMail')?.rat, ['example.com']);
  });

  test('sender groups: new ($ and lower case accepted), members, move, list, delete', async () => {
    const [noPolicy, badMember] = await Promise.all([
      h.gh(['listenerconfig', 'sendergroup', 'new', 'OutgoingMail', 'APPS']),
      h.gh(['listenerconfig', 'sendergroup', 'add-member', 'OutgoingMail', 'RELAYLIST', '10.1.1.']),
    ]);
    refused(noPolicy, 2, /--policy/);
    refused(badMember, 1, /bad sender group member "10\.1\.1\.": partial addresses are not supported/);

    ok(await h.gh(['listenerconfig', 'sendergroup', 'new', 'OutgoingMail', '$apps', '--policy', 'relayed', '--comment', 'Application servers']));
    ok(await h.gh(['listenerconfig', 'sendergroup', 'add-member', 'OutgoingMail', 'APPS', '10.2.0.0/16']));
    ok(await h.gh(['listenerconfig', 'sendergroup', 'move', 'OutgoingMail', 'apps', '--order', '1']));
    const groups = listener('OutgoingMail')?.senderGroups;
    assert.deepEqual(groups?.map((g) => g.name), ['APPS', 'RELAYLIST', 'ALL']);
    assert.deepEqual(groups?.[0], { name: 'APPS', policy: 'RELAYED', members: ['10.2.0.0/16'], comment: 'Application servers' });

    const table = ok(await h.gh(['listenerconfig', 'sendergroup', 'list', 'OutgoingMail']));
    assert.match(table, /^Order\s+Sender group\s+Policy\s+Behavior\s+Members/);
    assert.match(table, /\n1\s+APPS\s+RELAYED\s+relay\s+10\.2\.0\.0\/16\s+Application servers\n2\s+RELAYLIST/);

    ok(await h.gh(['listenerconfig', 'sendergroup', 'delete-member', 'OutgoingMail', 'APPS', '10.2.0.0/16']));
    ok(await h.gh(['listenerconfig', 'sendergroup', 'edit', 'OutgoingMail', 'APPS', '--policy', 'BLOCKED']));
    assert.deepEqual(listener('OutgoingMail')?.senderGroups[0], { name: 'APPS', policy: 'BLOCKED', members: [], comment: 'Application servers' });
    ok(await h.gh(['listenerconfig', 'sendergroup', 'delete', 'OutgoingMail', 'APPS']));
    assert.deepEqual(listener('OutgoingMail')?.senderGroups.map((g) => g.name), ['RELAYLIST', 'ALL']);
  });

  test('mail flow policies: new with every flag, edit, list, delete; a policy in use is refused naming its groups', async () => {
    ok(
      await h.gh([
        'listenerconfig', 'policy', 'new', 'IncomingMail', 'strict',
        '--behavior', 'accept', '--tls', 'preferred', '--verify-client-cert', 'on',
        '--tls-mandatory-address-list', 'a@b.example,.bank.example', '--max-message-size', '1048576',
        '--max-recipients-per-message', '5', '--max-messages-per-connection', '2',
        '--max-connections-per-ip', '3', '--max-recipients-per-hour', '100',
      ]),
    );
    const strict = () => listener('IncomingMail')?.policies.find((p) => p.name === 'STRICT');
    assert.deepEqual(strict(), {
      name: 'STRICT',
      behavior: 'accept',
      maxMessageSize: 1048576,
      maxRecipientsPerMessage: 5,
      maxMessagesPerConnection: 2,
      maxConnectionsPerIp: 3,
      maxRecipientsPerHour: 100,
      tls: 'preferred',
      verifyClientCertificate: true,
      tlsMandatoryAddressList: ['a@b.example', '.bank.example'],
      smtpAuth: 'off',
      requireTlsForAuth: true,
      comment: '',
    });
    const edited = ok(await h.gh(['listenerconfig', 'policy', 'edit', 'IncomingMail', '$STRICT', '--tls', 'required', '--max-recipients-per-hour', 'unlimited', '--tls-mandatory-address-list', '']));
    assert.match(edited, /Mail flow policy STRICT on IncomingMail changed/);
    assert.equal(strict()?.tls, 'required');
    assert.equal(strict()?.maxRecipientsPerHour, null);
    assert.deepEqual(strict()?.tlsMandatoryAddressList, []);

    const [listed, inUse, badSwitch] = await Promise.all([
      h.gh(['listenerconfig', 'policy', 'list', 'IncomingMail']),
      h.gh(['listenerconfig', 'policy', 'delete', 'IncomingMail', 'ACCEPTED']),
      h.gh(['listenerconfig', 'policy', 'edit', 'IncomingMail', 'STRICT', '--verify-client-cert', 'maybe']),
    ]);
    const list = ok(listed);
    assert.match(list, /\nSTRICT\s+accept\s+required\s+on\s+1 MiB\s+5\s+2\s+3\s+unlimited\s+-\s+\(unused\)/);
    assert.match(list, /\nACCEPTED\s+accept\s+preferred\s+off\s+20 MiB.*UNKNOWNLIST, ALL/);
    refused(inUse, 1, /mail flow policy ACCEPTED is used by sender groups UNKNOWNLIST, ALL on listener IncomingMail/);
    refused(badSwitch, 2, /must be on or off/);

    ok(await h.gh(['listenerconfig', 'policy', 'delete', 'IncomingMail', 'strict']));
    assert.equal(strict(), undefined);
  });

  test('requiring TLS on the catch-all of a public listener is staged with the RFC 3207 warning', async () => {
    const out = ok(await h.gh(['listenerconfig', 'policy', 'edit', 'IncomingMail', 'ACCEPTED', '--tls', 'required']));
    assert.match(out, /Warning: .*RFC 3207/);
  });
});

describe('listenerconfig with IPv6 addresses', () => {
  let h: CliHome;
  before(async () => {
    h = await cliHome();
  });

  test('new --address ::1 next to the IPv4 listener on the same port; overlaps and bad addresses refused', async () => {
    ok(await h.gh(['listenerconfig', 'new', 'IncomingV6', '--type', 'public', '--address', '::1', '--port', '2525']));
    assert.equal(h.staged().listeners.find((l) => l.name === 'IncomingV6')?.address, '::1');
    assert.match(ok(await h.gh(['listenerconfig', 'list'])), /\nIncomingV6\s+public\s+::1\s+2525/);
    const before = JSON.stringify(h.staged());
    const [wildcard, sameAddress, junk] = await Promise.all([
      h.gh(['listenerconfig', 'new', 'All', '--type', 'public', '--address', '::', '--port', '2587']),
      h.gh(['listenerconfig', 'new', 'Again', '--type', 'public', '--address', '0:0:0:0:0:0:0:1', '--port', '2525']),
      h.gh(['listenerconfig', 'new', 'Junk', '--type', 'public', '--address', '::1::2', '--port', '2600']),
    ]);
    refused(wildcard, 1, /\[::\]:2587 is already used by listeners\[1\] \(127\.0\.0\.1:2587; :: also takes IPv4 connections/);
    refused(sameAddress, 1, /\[0:0:0:0:0:0:0:1\]:2525 is already used by listeners\[2\]$/m);
    refused(junk, 1, /address "::1::2" is not an IP address/);
    assert.equal(JSON.stringify(h.staged()), before);
    assert.match(ok(await h.gh(['commit', '-m', 'IPv6 listener'])), /Committed configuration version 2\./);
  });
});
