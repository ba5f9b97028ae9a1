import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { senderGroupSchema, type SenderGroup } from '../config/schema.js';
import { defaultHat } from '../config/default-hat.js';
import { matchSenderGroup, parseMember, validateMember, type ConnectingHost } from './host-access-table.js';

const group = (name: string, members: string[], policy = 'ACCEPTED'): SenderGroup => senderGroupSchema.parse({ name, policy, members });

function host(ip: string, rdns: string | null = null, verified = false, sbrs: number | null = null): ConnectingHost {
  return { ip, reverseDns: { host: rdns, verified }, sbrs };
}

function match(groups: SenderGroup[], h: ConnectingHost): string | null {
  const m = matchSenderGroup(groups, h);
  return m === null ? null : `${m.group.name} ${m.rule}`;
}

describe('parseMember', () => {
  it('recognises every member kind', () => {
    const kinds: Record<string, string> = {
      '10.1.1.1': 'ip',
      '::1': 'ip',
      '10.0.0.0/8': 'cidr',
      '2001:db8::/32': 'cidr',
      '10.1.1.1-10.1.1.50': 'range',
      '10.1.1.1-50': 'range',
      'mail.example.com': 'hostname',
      'Mail.Example.COM.': 'hostname',
      localhost: 'hostname',
      '.example.com': 'domain',
      'sbrs[-10.0:-3.0]': 'sbrs',
      'sbrs[8:10]': 'sbrs',
      'SBRS[ -1.5 : 2 ]': 'sbrs',
      ALL: 'all',
    };
    for (const [member, kind] of Object.entries(kinds)) {
      const parsed = parseMember(member);
      assert.ok(!('error' in parsed), `${member}: ${'error' in parsed ? parsed.error : ''}`);
      assert.equal(parsed.kind, kind, member);
      assert.equal(parsed.text, member);
    }
    const sbrs = parseMember('sbrs[-3.5:-1]');
    assert.deepEqual(sbrs, { kind: 'sbrs', text: 'sbrs[-3.5:-1]', min: -3.5, max: -1 });
    assert.deepEqual(parseMember('Mail.Example.COM.'), { kind: 'hostname', text: 'Mail.Example.COM.', host: 'mail.example.com' });
  });

  it('explains invalid members', () => {
    const bad: Record<string, RegExp> = {
      '': /empty/,
      '   ': /empty/,
      all: /ALL \(upper case\)/,
      'sbrs[1:]': /sbrs\[MIN:MAX\]/,
      'sbrs[none]': /sbrs\[MIN:MAX\]/,
      'sbrs[-11:0]': /from -10 to 10/,
      'sbrs[0:10.5]': /from -10 to 10/,
      'sbrs[5:1]': /ends before it starts/,
      '10.0.0.0/40': /longer than 32/,
      '10.1.1.9-3': /ends before it starts/,
      '10.1.1.': /partial addresses/,
      '300.1.1.1': /not an IP address/,
      '.': /not a domain/,
      '.bad..domain': /not a domain/,
      'bad host!': /not an IP address, CIDR block, range, host name/,
      '-leading.example.com': /not an IP address, CIDR block, range, host name/,
    };
    for (const [member, re] of Object.entries(bad)) {
      const problem = validateMember(member);
      assert.ok(problem !== null, `${JSON.stringify(member)} should be invalid`);
      assert.match(problem, re, member);
    }
    assert.equal(validateMember('10.0.0.0/8'), null);
  });

  it('accepts every member of the default tables', () => {
    for (const type of ['public', 'private'] as const) {
      for (const g of defaultHat(type).senderGroups) for (const m of g.members) assert.equal(validateMember(m), null, m);
    }
  });
});

describe('matchSenderGroup', () => {
  it('takes the first matching group in order, and reports the member that matched', () => {
    const groups = [group('FIRST', ['192.0.2.0/24']), group('SECOND', ['192.0.2.5', '10.0.0.0/8']), group('ALL', ['ALL'])];
    assert.equal(match(groups, host('192.0.2.5')), 'FIRST 192.0.2.0/24');
    assert.equal(match([...groups].reverse(), host('192.0.2.5')), 'ALL ALL');
    assert.equal(match(groups.slice(1), host('192.0.2.5')), 'SECOND 192.0.2.5');
    assert.equal(match(groups, host('10.9.9.9')), 'SECOND 10.0.0.0/8');
    assert.equal(match(groups.slice(0, 2), host('203.0.113.1')), null);
    assert.equal(matchSenderGroup([], host('10.0.0.1')), null);
  });

  it('matches IPs, CIDRs and ranges, IPv4-mapped clients as IPv4', () => {
    const groups = [group('RANGE', ['10.1.1.1-50']), group('V6', ['2001:db8::/32']), group('ONE', ['198.51.100.7'])];
    assert.equal(match(groups, host('10.1.1.50')), 'RANGE 10.1.1.1-50');
    assert.equal(match(groups, host('::ffff:10.1.1.2')), 'RANGE 10.1.1.1-50');
    assert.equal(match(groups, host('10.1.1.51')), null);
    assert.equal(match(groups, host('2001:db8::99')), 'V6 2001:db8::/32');
    assert.equal(match(groups, host('::ffff:198.51.100.7')), 'ONE 198.51.100.7');
    assert.equal(match(groups, host('not-an-ip')), null);
  });

  it('matches exact host names only on verified reverse DNS, case-insensitively', () => {
    const groups = [group('NAMED', ['Mail.Example.com'])];
    assert.equal(match(groups, host('192.0.2.1', 'mail.example.com', true)), 'NAMED Mail.Example.com');
    assert.equal(match(groups, host('192.0.2.1', 'MAIL.EXAMPLE.COM.', true)), 'NAMED Mail.Example.com');
    assert.equal(match(groups, host('192.0.2.1', 'mail.example.com', false)), null, 'unverified PTR');
    assert.equal(match(groups, host('192.0.2.1', 'x.mail.example.com', true)), null, 'exact only');
    assert.equal(match(groups, host('192.0.2.1', null, false)), null);
  });

  it('matches .domain on a verified host equal to or under the domain', () => {
    const groups = [group('PARTNER', ['.example.com'])];
    assert.equal(match(groups, host('192.0.2.1', 'mx1.example.com', true)), 'PARTNER .example.com');
    assert.equal(match(groups, host('192.0.2.1', 'a.b.example.com', true)), 'PARTNER .example.com');
    assert.equal(match(groups, host('192.0.2.1', 'example.com', true)), 'PARTNER .example.com');
    assert.equal(match(groups, host('192.0.2.1', 'mx1.example.com', false)), null, 'forged PTR');
    assert.equal(match(groups, host('192.0.2.1', 'evilexample.com', true)), null);
    assert.equal(match(groups, host('192.0.2.1', 'example.com.evil.test', true)), null);
  });

  it('matches sbrs ranges inclusively, never when no score is configured', () => {
    const groups = defaultHat('public').senderGroups;
    assert.equal(match(groups, host('192.0.2.1', null, false, null)), 'ALL ALL');
    assert.equal(match(groups, host('192.0.2.1', null, false, 9.5)), 'ALLOWLIST sbrs[8.0:10.0]');
    assert.equal(match(groups, host('192.0.2.1', null, false, 8)), 'ALLOWLIST sbrs[8.0:10.0]');
    assert.equal(match(groups, host('192.0.2.1', null, false, -10)), 'BLOCKLIST sbrs[-10.0:-3.0]');
    assert.equal(match(groups, host('192.0.2.1', null, false, -3)), 'BLOCKLIST sbrs[-10.0:-3.0]');
    assert.equal(match(groups, host('192.0.2.1', null, false, -2.5)), 'SUSPECTLIST sbrs[-3.0:-1.0]');
    assert.equal(match(groups, host('192.0.2.1', null, false, 0)), 'UNKNOWNLIST sbrs[-1.0:8.0]');
    assert.equal(match(groups, host('192.0.2.1', null, false, Number.NaN)), 'ALL ALL');
  });

  it('matches the private default table on loopback only', () => {
    const groups = defaultHat('private').senderGroups;
    assert.equal(match(groups, host('127.0.0.1')), 'RELAYLIST 127.0.0.0/8');
    assert.equal(match(groups, host('::ffff:127.0.0.1')), 'RELAYLIST 127.0.0.0/8');
    assert.equal(match(groups, host('::1')), 'RELAYLIST ::1');
    assert.equal(match(groups, host('192.0.2.1')), 'ALL ALL');
  });

  it('skips invalid members instead of matching them', () => {
    const groups = [group('BROKEN', ['10.0.0.0/99', 'sbrs[x]', 'all']), group('ALL', ['ALL'])];
    assert.equal(match(groups, host('10.0.0.1', null, false, 0)), 'ALL ALL');
  });
});
