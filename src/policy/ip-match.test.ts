import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatIp,
  isIp,
  isIpInPattern,
  isLoopbackIp,
  isSameIp,
  matchIp,
  normalizeIp,
  parseIp,
  parseIpPattern,
  reversedIpLabels,
  type IpPattern,
} from './ip-match.js';

function pattern(text: string): IpPattern {
  const p = parseIpPattern(text);
  if ('error' in p) throw new Error(`${text}: ${p.error}`);
  return p;
}

describe('parseIp', () => {
  it('parses IPv4 strictly', () => {
    assert.deepEqual(parseIp('192.0.2.1'), { family: 4, value: 0xc0000201n });
    assert.deepEqual(parseIp('0.0.0.0'), { family: 4, value: 0n });
    assert.deepEqual(parseIp('255.255.255.255'), { family: 4, value: 0xffffffffn });
    for (const bad of ['256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.-4', 'a.b.c.d', '', ' ', '1..2.3']) {
      assert.equal(parseIp(bad), null, bad);
    }
  });

  it('parses IPv6 in every spelling', () => {
    assert.deepEqual(parseIp('::'), { family: 6, value: 0n });
    assert.deepEqual(parseIp('::1'), { family: 6, value: 1n });
    assert.deepEqual(parseIp('2001:DB8::1'), { family: 6, value: (0x20010db8n << 96n) | 1n });
    assert.deepEqual(parseIp('2001:db8:0:0:0:0:0:1'), parseIp('2001:db8::1'));
    assert.deepEqual(parseIp('[2001:db8::1]'), parseIp('2001:db8::1'));
    assert.deepEqual(parseIp('fe80::1%eth0'), parseIp('fe80::1'));
    assert.deepEqual(parseIp('64:ff9b::192.0.2.1'), { family: 6, value: (0x64ff9bn << 96n) | 0xc0000201n });
    assert.deepEqual(parseIp('1:2:3:4:5:6:7::'), parseIp('1:2:3:4:5:6:7:0'));
    for (const bad of ['1::2::3', '12345::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', ':::', 'g::1', '::1.2.3', '1:2:3:4:5:6:7:1.2.3.4', ':1::']) {
      assert.equal(parseIp(bad), null, bad);
    }
  });

  it('treats IPv4-mapped IPv6 as IPv4', () => {
    assert.deepEqual(parseIp('::ffff:192.0.2.1'), { family: 4, value: 0xc0000201n });
    assert.deepEqual(parseIp('::FFFF:c000:0201'), { family: 4, value: 0xc0000201n });
    assert.deepEqual(parseIp('0:0:0:0:0:ffff:192.0.2.1'), { family: 4, value: 0xc0000201n });
    assert.equal(normalizeIp('::ffff:10.1.2.3'), '10.1.2.3');
    assert.ok(isSameIp('::ffff:10.1.2.3', '10.1.2.3'));
    assert.ok(!isSameIp('::10.1.2.3', '10.1.2.3'), 'IPv4-compatible is not mapped');
  });

  it('formats canonically (RFC 5952)', () => {
    assert.equal(normalizeIp('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
    assert.equal(normalizeIp('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1');
    assert.equal(normalizeIp('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(normalizeIp('2001:db8:1:1:1:1:0:1'), '2001:db8:1:1:1:1:0:1');
    assert.equal(normalizeIp('0:0:0:0:0:0:0:0'), '::');
    assert.equal(normalizeIp('1:0:0:0:0:0:0:0'), '1::');
    assert.equal(formatIp({ family: 4, value: 0x7f000001n }), '127.0.0.1');
    assert.equal(normalizeIp('nope'), null);
    assert.ok(isIp('::1') && isIp('10.0.0.1') && !isIp('example.com'));
  });

  it('recognises loopback', () => {
    for (const ip of ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopbackIp(ip), ip);
    for (const ip of ['128.0.0.1', '::2', '::ffff:10.0.0.1', '10.127.0.1', 'localhost']) assert.ok(!isLoopbackIp(ip), ip);
  });

  it('reverses addresses for PTR and DNSBL names', () => {
    assert.equal(reversedIpLabels('192.0.2.1'), '1.2.0.192');
    assert.equal(reversedIpLabels('::ffff:192.0.2.1'), '1.2.0.192');
    assert.equal(reversedIpLabels('2001:db8::567:89ab'), 'b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2');
    assert.equal(reversedIpLabels('x'), null);
  });
});

describe('parseIpPattern', () => {
  it('parses single addresses', () => {
    assert.deepEqual(pattern('10.1.1.1'), { kind: 'ip', family: 4, start: 0x0a010101n, end: 0x0a010101n });
    assert.equal(pattern('::1').kind, 'ip');
  });

  it('parses CIDR, masking host bits', () => {
    assert.deepEqual(pattern('10.0.0.0/8'), { kind: 'cidr', family: 4, start: 0x0a000000n, end: 0x0affffffn });
    assert.deepEqual(pattern('10.1.1.5/24'), pattern('10.1.1.0/24'));
    assert.deepEqual(pattern('0.0.0.0/0'), { kind: 'cidr', family: 4, start: 0n, end: 0xffffffffn });
    assert.deepEqual(pattern('192.0.2.7/32'), { kind: 'cidr', family: 4, start: 0xc0000207n, end: 0xc0000207n });
    const v6 = pattern('2001:db8::/32');
    assert.equal(v6.family, 6);
    assert.equal(v6.start, 0x20010db8n << 96n);
    assert.equal(v6.end, (0x20010db8n << 96n) | ((1n << 96n) - 1n));
    assert.deepEqual(pattern('::ffff:10.0.0.0/104'), { kind: 'cidr', family: 4, start: 0x0a000000n, end: 0x0affffffn });
  });

  it('parses full and short ranges', () => {
    assert.deepEqual(pattern('10.1.1.1-10.1.1.50'), { kind: 'range', family: 4, start: 0x0a010101n, end: 0x0a010132n });
    assert.deepEqual(pattern('10.1.1.1-50'), pattern('10.1.1.1-10.1.1.50'));
    assert.deepEqual(pattern('10.1.1.1-2.5'), pattern('10.1.1.1-10.1.2.5'));
    assert.deepEqual(pattern('10.1.1.1 - 10.1.1.50'), pattern('10.1.1.1-10.1.1.50'));
    assert.equal(pattern('2001:db8::1-2001:db8::ff').family, 6);
    assert.deepEqual(pattern('10.1.1.7-7'), { kind: 'range', family: 4, start: 0x0a010107n, end: 0x0a010107n });
  });

  it('explains bad patterns', () => {
    const errors: Record<string, RegExp> = {
      '10.0.0.0/33': /longer than 32/,
      '2001:db8::/129': /longer than 128/,
      '10.0.0.0/x': /bad prefix/,
      '10.0.0/8': /not an IP address/,
      '10.1.1.50-10.1.1.1': /ends before it starts/,
      '10.1.1.50-1': /ends before it starts/,
      '10.1.1.1-256': /not an IP address/,
      '10.1.1.1-::1': /same IP version/,
      '1.2.3.4.5': /not an IP address/,
      '': /empty/,
    };
    for (const [text, re] of Object.entries(errors)) {
      const p = parseIpPattern(text);
      assert.ok('error' in p, text);
      assert.match(p.error, re, text);
    }
  });
});

describe('matching', () => {
  it('matches IPv4 addresses, blocks and ranges', () => {
    assert.ok(matchIp('10.0.0.0/8', '10.255.0.1'));
    assert.ok(!matchIp('10.0.0.0/8', '11.0.0.0'));
    assert.ok(matchIp('10.1.1.1-50', '10.1.1.50'));
    assert.ok(matchIp('10.1.1.1-50', '10.1.1.1'));
    assert.ok(!matchIp('10.1.1.1-50', '10.1.1.51'));
    assert.ok(!matchIp('10.1.1.1-50', '10.1.1.0'));
    assert.ok(matchIp('192.0.2.1', '192.0.2.1'));
    assert.ok(!matchIp('192.0.2.1', '192.0.2.2'));
  });

  it('matches mapped clients against IPv4 patterns, never against IPv6 ones', () => {
    assert.ok(matchIp('10.0.0.0/8', '::ffff:10.9.9.9'));
    assert.ok(matchIp('::ffff:10.0.0.0/104', '10.9.9.9'));
    assert.ok(matchIp('127.0.0.0/8', '::ffff:127.0.0.1'));
    assert.ok(!matchIp('::/0', '10.0.0.1'));
    assert.ok(!matchIp('0.0.0.0/0', '::1'));
  });

  it('matches IPv6', () => {
    assert.ok(matchIp('2001:db8::/32', '2001:db8:ffff::1'));
    assert.ok(!matchIp('2001:db8::/32', '2001:db9::1'));
    assert.ok(matchIp('::1', '0:0:0:0:0:0:0:1'));
    assert.ok(matchIp('2001:db8::1-2001:db8::ff', '2001:db8::80'));
    assert.ok(!matchIp('2001:db8::1-2001:db8::ff', '2001:db8::100'));
  });

  it('never matches junk', () => {
    assert.ok(!matchIp('garbage', '10.0.0.1'));
    assert.ok(!matchIp('10.0.0.0/8', 'garbage'));
    assert.ok(!isIpInPattern('', pattern('0.0.0.0/0')));
  });
});
