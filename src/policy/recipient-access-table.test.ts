import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRecipientDomainAccepted, isRelayProbe } from './recipient-access-table.js';

describe('isRecipientDomainAccepted', () => {
  const rat = ['example.com', '.sub.example.org'];

  it('accepts an exact domain, case-insensitively, with or without a trailing dot', () => {
    assert.ok(isRecipientDomainAccepted(rat, 'example.com'));
    assert.ok(isRecipientDomainAccepted(rat, 'EXAMPLE.Com'));
    assert.ok(isRecipientDomainAccepted(rat, 'example.com.'));
    assert.ok(isRecipientDomainAccepted(['Example.COM'], 'example.com'));
    assert.ok(!isRecipientDomainAccepted(rat, 'mail.example.com'), 'exact entries do not cover subdomains');
    assert.ok(!isRecipientDomainAccepted(rat, 'notexample.com'));
    assert.ok(!isRecipientDomainAccepted(rat, 'example.com.evil.test'));
  });

  it('accepts subdomains only for .domain entries', () => {
    assert.ok(isRecipientDomainAccepted(rat, 'a.sub.example.org'));
    assert.ok(isRecipientDomainAccepted(rat, 'x.y.SUB.example.org'));
    assert.ok(!isRecipientDomainAccepted(rat, 'sub.example.org'), 'not the domain itself');
    assert.ok(!isRecipientDomainAccepted(rat, 'evilsub.example.org'));
  });

  it('rejects by default, and never accepts literals or empty domains', () => {
    assert.ok(!isRecipientDomainAccepted([], 'example.com'));
    assert.ok(!isRecipientDomainAccepted(rat, ''));
    assert.ok(!isRecipientDomainAccepted(rat, '[192.0.2.1]'));
    assert.ok(!isRecipientDomainAccepted(['.'], 'example.com'));
    assert.ok(!isRecipientDomainAccepted(rat, '.example.com'));
  });
});

describe('isRelayProbe', () => {
  it('passes ordinary addresses', () => {
    assert.equal(isRelayProbe('user', 'example.com', false), null);
    assert.equal(isRelayProbe('first.last+tag', 'example.com', false), null);
    assert.equal(isRelayProbe('"john smith"', 'example.com', true), null);
    assert.equal(isRelayProbe('john smith', 'example.com', true), null);
  });

  it('flags the nmap smtp-open-relay forms', () => {
    const cases: [string, string, boolean, RegExp][] = [
      ['user%dom', '[127.0.0.1]', false, /percent hack/],
      ['user%dom', 'srv.test', false, /percent hack/],
      ['user@dom', 'srv.test', true, /quoted local part contains @/],
      ['"user@dom"', 'srv.test', false, /quoted local part contains @/],
      ['user%dom', 'srv.test', true, /quoted local part contains %/],
      ['user@dom', '[127.0.0.1]', false, /local part contains @/],
      ['user@dom', 'srv.test', false, /local part contains @/],
      ['@srv.test:user', 'dom', false, /local part contains @/],
      ['dom!user', 'srv.test', false, /bang path/],
      ['dom!user', '[127.0.0.1]', false, /bang path/],
      ['a!b%c', 'srv.test', true, /quoted local part contains % !/],
      ['user', '[127.0.0.1]', false, /IP-literal/],
      ['user', '[IPv6:::1]', false, /IP-literal/],
      ['user', 'a%b', false, /routing characters/],
    ];
    for (const [local, domain, quoted, re] of cases) {
      const why = isRelayProbe(local, domain, quoted);
      assert.ok(why !== null, `${local}@${domain}`);
      assert.match(why, re, `${local}@${domain}`);
    }
  });

  it('flags a source route even when it was stripped to a plain address (<@hop:user@domain>)', () => {
    assert.match(isRelayProbe('user', 'example.com', false, true) ?? '', /source route/);
    assert.equal(isRelayProbe('user', 'example.com', false, false), null);
  });
});
