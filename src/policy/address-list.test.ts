import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchesAddressList, validateAddressListEntry } from './address-list.js';

describe('matchesAddressList', () => {
  it('matches user@domain exactly, case-insensitively', () => {
    const list = ['ceo@Example.com'];
    assert.ok(matchesAddressList(list, 'ceo@example.com'));
    assert.ok(matchesAddressList(list, 'CEO@EXAMPLE.COM'));
    assert.ok(matchesAddressList(list, '<ceo@example.com>'));
    assert.ok(matchesAddressList(list, 'ceo@example.com.'));
    assert.ok(!matchesAddressList(list, 'cfo@example.com'));
    assert.ok(!matchesAddressList(list, 'ceo@sub.example.com'));
    assert.ok(!matchesAddressList(list, 'xceo@example.com'));
  });

  it('matches @domain for any user at exactly that domain', () => {
    const list = ['@bank.test'];
    assert.ok(matchesAddressList(list, 'anyone@bank.test'));
    assert.ok(matchesAddressList(list, 'anyone@BANK.test'));
    assert.ok(!matchesAddressList(list, 'anyone@mail.bank.test'));
    assert.ok(!matchesAddressList(list, 'anyone@evilbank.test'));
  });

  it('matches .domain for users at subdomains only', () => {
    const list = ['.bank.test'];
    assert.ok(matchesAddressList(list, 'a@mail.bank.test'));
    assert.ok(matchesAddressList(list, 'a@x.y.bank.test'));
    assert.ok(!matchesAddressList(list, 'a@bank.test'));
    assert.ok(!matchesAddressList(list, 'a@evilbank.test'));
  });

  it('matches user@ at any domain', () => {
    const list = ['payroll@'];
    assert.ok(matchesAddressList(list, 'payroll@a.test'));
    assert.ok(matchesAddressList(list, 'Payroll@b.test'));
    assert.ok(!matchesAddressList(list, 'payroll2@a.test'));
  });

  it('treats a bare domain as @domain', () => {
    assert.ok(matchesAddressList(['bank.test'], 'a@bank.test'));
    assert.ok(!matchesAddressList(['bank.test'], 'a@x.bank.test'));
  });

  it('never matches the null sender, junk, or empty lists', () => {
    const list = ['@bank.test', 'payroll@', '.bank.test', '', '@'];
    assert.ok(!matchesAddressList(list, ''));
    assert.ok(!matchesAddressList(list, '<>'));
    assert.ok(!matchesAddressList(list, 'no-at-sign'));
    assert.ok(!matchesAddressList(list, '@bank.test'));
    assert.ok(!matchesAddressList([], 'a@bank.test'));
    assert.ok(!matchesAddressList(['@', ''], 'a@bank.test'));
  });

  it('uses the last @ to find the domain', () => {
    assert.ok(matchesAddressList(['@bank.test'], '"a@b"@bank.test'));
  });
});

describe('validateAddressListEntry', () => {
  it('accepts the documented forms and explains the rest', () => {
    for (const ok of ['a@b.test', '@b.test', '.b.test', 'a@', 'b.test']) assert.equal(validateAddressListEntry(ok), null, ok);
    assert.match(validateAddressListEntry('') ?? '', /empty/);
    assert.match(validateAddressListEntry('@') ?? '', /needs a user or a domain/);
    assert.match(validateAddressListEntry('a@b@c') ?? '', /more than one @/);
    assert.match(validateAddressListEntry('a b@c') ?? '', /spaces/);
  });
});
