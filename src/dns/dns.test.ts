import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { Resolver } from 'node:dns/promises';
import * as dnsPacket from 'dns-packet';
import { startFakeDns, type FakeDns, type FakeZone } from '../../test/harness/fake-dns.js';
import { createResolver, toResolverServer, type DnsResolver } from './resolver.js';
import { lookupReverseDns } from './reverse-dns.js';
import { dnsblQueryName, isDnsblListing, lookupSbrs } from './dnsbl.js';

/** Long enough never to be answered within a test; the server clears it on close. */
const NEVER = 60_000;
/** The smallest useful per-try timeout: c-ares gives up after about 0.6 s in total. */
const FAST_TIMEOUT_MS = 20;

const ZONE: FakeZone = {
  // 192.0.2.10: PTR and forward confirm.
  '10.2.0.192.in-addr.arpa': { PTR: ['mail.good.test'] },
  'mail.good.test': { A: ['192.0.2.10', '192.0.2.99'] },
  // 192.0.2.20: PTR whose forward does not include the address.
  '20.2.0.192.in-addr.arpa': { PTR: ['Forged.Bad.Test.'] },
  'forged.bad.test': { A: ['198.51.100.1'] },
  // 192.0.2.30: PTR whose forward is NXDOMAIN.
  '30.2.0.192.in-addr.arpa': { PTR: ['dangling.test'] },
  // 192.0.2.40: SERVFAIL on the PTR.
  '40.2.0.192.in-addr.arpa': { rcode: 'SERVFAIL' },
  // 192.0.2.50: two PTR names, the second confirms.
  '50.2.0.192.in-addr.arpa': { PTR: ['other.test', 'second.good.test'] },
  'other.test': { A: ['203.0.113.7'] },
  'second.good.test': { A: ['192.0.2.50'] },
  // 192.0.2.60: the PTR lookup never answers.
  '60.2.0.192.in-addr.arpa': { PTR: ['slow.test'], delayMs: NEVER },
  // 2001:db8::25: IPv6 PTR + AAAA.
  '5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa': { PTR: ['v6.good.test'] },
  'v6.good.test': { AAAA: ['2001:db8:0:0::25'] },
  // Plain records.
  'host.test': { A: ['198.51.100.5'], AAAA: ['2001:db8::5'] },
  'mx.test': { MX: [{ exchange: 'mx2.mx.test', priority: 20 }, { exchange: 'mx1.mx.test', priority: 10 }] },
  'nullmx.test': { MX: [{ exchange: '.', priority: 0 }] },
  'txt-only.test': { TXT: [['v=spf1 -all']] },
  'broken.test': { rcode: 'SERVFAIL' },
  'slow.test': { A: ['198.51.100.9'], delayMs: NEVER },
  // DNSBL zones: 192.0.2.66 is listed in bl1 and bl2, 192.0.2.67 in bl1 only, 192.0.2.68 in the allowlist.
  '66.2.0.192.bl1.test': { A: ['127.0.0.2'] },
  '66.2.0.192.bl2.test': { A: ['127.0.0.4', '127.0.0.10'] },
  '67.2.0.192.bl1.test': { A: ['127.0.0.2'] },
  '68.2.0.192.wl.test': { A: ['127.0.0.2'] },
  '69.2.0.192.bl1.test': { A: ['127.255.255.254'] },
  '70.2.0.192.bl1.test': { A: ['198.51.100.1'] },
  '66.2.0.192.broken-bl.test': { rcode: 'SERVFAIL' },
  '66.2.0.192.slow-bl.test': { A: ['127.0.0.2'], delayMs: NEVER },
  '5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl1.test': { A: ['127.0.0.2'] },
};

let fake: FakeDns;
let resolver: DnsResolver;

before(async () => {
  fake = await startFakeDns(ZONE);
  resolver = createResolver({ servers: [fake.server], timeoutMs: 1000 });
});
after(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.queries.length = 0;
});

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
}

describe('createResolver', () => {
  it('reads A, AAAA, MX and PTR from the configured server', async () => {
    assert.deepEqual(await resolver.resolve4('host.test'), ['198.51.100.5']);
    assert.deepEqual(await resolver.resolve6('HOST.test'), ['2001:db8::5']);
    const mx = await resolver.resolveMx('mx.test');
    assert.deepEqual([...mx].sort((a, b) => a.priority - b.priority), [
      { exchange: 'mx1.mx.test', priority: 10 },
      { exchange: 'mx2.mx.test', priority: 20 },
    ]);
    assert.deepEqual(await resolver.resolveMx('nullmx.test'), [{ exchange: '', priority: 0 }]);
    assert.deepEqual(await resolver.reverse('192.0.2.10'), ['mail.good.test']);
    assert.deepEqual(
      fake.queries.map((q) => `${q.type} ${q.name}`),
      ['A host.test', 'AAAA host.test', 'MX mx.test', 'MX nullmx.test', 'PTR 10.2.0.192.in-addr.arpa'],
    );
  });

  it('keeps Node error codes: NXDOMAIN, NODATA, SERVFAIL', async () => {
    assert.equal(await codeOf(resolver.resolve4('nothing-here.test')), 'ENOTFOUND');
    assert.equal(await codeOf(resolver.resolve4('txt-only.test')), 'ENODATA');
    assert.equal(await codeOf(resolver.resolve4('broken.test')), 'ESERVFAIL');
    assert.equal(await codeOf(resolver.resolveMx('host.test')), 'ENODATA');
  });

  it('times out with ETIMEOUT after its tries when the server does not answer', async () => {
    const quick = createResolver({ servers: [fake.server], timeoutMs: FAST_TIMEOUT_MS });
    assert.equal(await codeOf(quick.resolve4('slow.test')), 'ETIMEOUT');
    assert.equal(fake.queries.filter((q) => q.name === 'slow.test').length, 2, 'two tries');
  });

  it('accepts host:port and [v6]:port server forms, refuses host names', () => {
    assert.equal(toResolverServer('127.0.0.1:5353'), '127.0.0.1:5353');
    assert.equal(toResolverServer('127.0.0.1'), '127.0.0.1');
    assert.equal(toResolverServer('[::1]:5353'), '[::1]:5353');
    assert.equal(toResolverServer('[::1]'), '::1');
    assert.equal(toResolverServer('::1'), '::1');
    assert.equal(toResolverServer('localhost:53'), '127.0.0.1:53');
    assert.throws(() => toResolverServer('dns.example.com:53'), /must be an IP address/);
    assert.throws(() => toResolverServer('127.0.0.1:99999'), /bad port/);
    assert.throws(() => toResolverServer('127.0.0.1:'), /bad port/);
    // Node accepts what we produce.
    assert.doesNotThrow(() => createResolver({ servers: ['[::1]:5353', '127.0.0.1:5353'], timeoutMs: 100 }));
  });
});

describe('lookupReverseDns', () => {
  it('verifies a PTR name whose A records include the address', async () => {
    assert.deepEqual(await lookupReverseDns('192.0.2.10', resolver), { host: 'mail.good.test', verified: true });
    assert.deepEqual(
      fake.queries.map((q) => `${q.type} ${q.name}`),
      ['PTR 10.2.0.192.in-addr.arpa', 'A mail.good.test'],
    );
  });

  it('normalises ::ffff:a.b.c.d to a.b.c.d', async () => {
    assert.deepEqual(await lookupReverseDns('::ffff:192.0.2.10', resolver), { host: 'mail.good.test', verified: true });
    assert.equal(fake.queries[0]?.name, '10.2.0.192.in-addr.arpa');
  });

  it('keeps an unconfirmed PTR name (lower case, no dot) with verified false', async () => {
    assert.deepEqual(await lookupReverseDns('192.0.2.20', resolver), { host: 'forged.bad.test', verified: false });
    assert.deepEqual(await lookupReverseDns('192.0.2.30', resolver), { host: 'dangling.test', verified: false });
  });

  it('tries every PTR name and takes the one that confirms', async () => {
    assert.deepEqual(await lookupReverseDns('192.0.2.50', resolver), { host: 'second.good.test', verified: true });
  });

  it('verifies IPv6 through ip6.arpa and AAAA', async () => {
    assert.deepEqual(await lookupReverseDns('2001:DB8::25', resolver), { host: 'v6.good.test', verified: true });
    assert.deepEqual(
      fake.queries.map((q) => q.type),
      ['PTR', 'AAAA'],
    );
  });

  it('answers null on NXDOMAIN, SERVFAIL and a timeout', async () => {
    assert.deepEqual(await lookupReverseDns('192.0.2.200', resolver), { host: null, verified: false });
    assert.deepEqual(await lookupReverseDns('192.0.2.40', resolver), { host: null, verified: false });
    const quick = createResolver({ servers: [fake.server], timeoutMs: FAST_TIMEOUT_MS });
    assert.deepEqual(await lookupReverseDns('192.0.2.60', quick), { host: null, verified: false });
    assert.deepEqual(await lookupReverseDns('not-an-ip', resolver), { host: null, verified: false });
  });

  it('answers loopback locally without any query', async () => {
    for (const ip of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) {
      assert.deepEqual(await lookupReverseDns(ip, resolver), { host: 'localhost', verified: true }, ip);
    }
    assert.deepEqual(fake.queries, []);
  });
});

describe('lookupSbrs', () => {
  const zones = [
    { zone: 'bl1.test', score: -4 },
    { zone: 'bl2.test', score: -3.5 },
    { zone: 'wl.test', score: 2 },
  ];

  it('is null with no zones, and sends nothing', async () => {
    assert.equal(await lookupSbrs('192.0.2.66', [], resolver), null);
    assert.deepEqual(fake.queries, []);
  });

  it('sums the scores of the zones that list the address, from 0', async () => {
    assert.equal(await lookupSbrs('192.0.2.66', zones, resolver), -7.5);
    assert.equal(await lookupSbrs('192.0.2.67', zones, resolver), -4);
    assert.equal(await lookupSbrs('192.0.2.68', zones, resolver), 2);
    assert.equal(await lookupSbrs('192.0.2.1', zones, resolver), 0);
    assert.deepEqual(
      fake.queries.slice(0, 3).map((q) => `${q.type} ${q.name}`).sort(),
      ['A 66.2.0.192.bl1.test', 'A 66.2.0.192.bl2.test', 'A 66.2.0.192.wl.test'],
    );
  });

  it('clamps the score to [-10, 10]', async () => {
    const heavy = [
      { zone: 'bl1.test', score: -8 },
      { zone: 'bl2.test', score: -8 },
    ];
    assert.equal(await lookupSbrs('192.0.2.66', heavy, resolver), -10);
    const generous = [
      { zone: 'bl1.test', score: 9 },
      { zone: 'bl2.test', score: 9 },
    ];
    assert.equal(await lookupSbrs('192.0.2.66', generous, resolver), 10);
  });

  it('counts errors, timeouts, error codes and non-127 answers as not listed', async () => {
    const quick = createResolver({ servers: [fake.server], timeoutMs: FAST_TIMEOUT_MS });
    const mixed = [
      { zone: 'bl1.test', score: -4 },
      { zone: 'broken-bl.test', score: -5 },
      { zone: 'slow-bl.test', score: -6 },
    ];
    assert.equal(await lookupSbrs('192.0.2.66', mixed, quick), -4);
    assert.equal(await lookupSbrs('192.0.2.69', zones, resolver), 0, '127.255.255.254 is an error answer');
    assert.equal(await lookupSbrs('192.0.2.70', zones, resolver), 0, 'answers outside 127/8 are not listings');
  });

  it('uses the nibble form for IPv6 and the plain form for mapped IPv4', async () => {
    assert.equal(await lookupSbrs('2001:db8::25', [{ zone: 'bl1.test', score: -4 }], resolver), -4);
    assert.equal(await lookupSbrs('::ffff:192.0.2.67', [{ zone: '.bl1.test.', score: -4 }], resolver), -4);
    assert.equal(dnsblQueryName('192.0.2.1', 'zen.example'), '1.2.0.192.zen.example');
    assert.equal(dnsblQueryName('2001:db8::1', 'zen.example'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.example');
    assert.equal(dnsblQueryName('nope', 'zen.example'), null);
    assert.equal(isDnsblListing('127.0.0.2'), true);
    assert.equal(isDnsblListing('127.255.255.255'), false);
    assert.equal(isDnsblListing('10.0.0.2'), false);
  });
});

describe('fake DNS harness', () => {
  async function udpQuery(question: dnsPacket.Question, edns = false): Promise<dnsPacket.DecodedPacket> {
    const socket = dgram.createSocket('udp4');
    try {
      const reply = new Promise<Buffer>((resolve) => socket.once('message', (msg) => resolve(msg)));
      const additionals = edns
        ? [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: dnsPacket.DNSSEC_OK, flag_do: true, options: [] } as unknown as dnsPacket.Answer]
        : [];
      const query = dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [question], additionals });
      socket.send(query, fake.port, '127.0.0.1');
      return dnsPacket.decode(await reply);
    } finally {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    }
  }

  async function tcpQuery(question: dnsPacket.Question): Promise<dnsPacket.DecodedPacket> {
    const socket = net.connect(fake.port, '127.0.0.1');
    try {
      const query = dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [question] });
      const frame = Buffer.alloc(2 + query.length);
      frame.writeUInt16BE(query.length, 0);
      query.copy(frame, 2);
      // Split the frame in two writes to exercise reassembly.
      socket.write(frame.subarray(0, 3));
      socket.write(frame.subarray(3));
      let data = Buffer.alloc(0);
      for await (const chunk of socket) {
        data = Buffer.concat([data, chunk as Buffer]);
        if (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) break;
      }
      return dnsPacket.decode(data.subarray(2, 2 + data.readUInt16BE(0)));
    } finally {
      socket.destroy();
    }
  }

  const rcodeOf = (p: dnsPacket.DecodedPacket): number => (p.flags ?? 0) & 0xf;

  it('answers TLSA and TXT, sets AA, and AD only when asked', async () => {
    const cert = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    fake.setZone({
      ...ZONE,
      '_25._tcp.mx.signed.test': { TLSA: [{ usage: 3, selector: 1, matchingType: 1, certificate: cert }], ad: true },
      '_25._tcp.mx.unsigned.test': { TLSA: [{ usage: 3, selector: 1, matchingType: 1, certificate: cert }] },
    });
    try {
      const signed = await udpQuery({ type: 'TLSA', name: '_25._tcp.mx.signed.test' }, true);
      assert.equal(signed.additionals?.[0]?.type, 'OPT', 'EDNS is answered with EDNS');
      assert.equal(signed.id, 4242);
      assert.equal(signed.flag_aa, true);
      assert.equal(signed.flag_ad, true);
      assert.equal(signed.flag_rd, true);
      const tlsa = signed.answers?.[0];
      assert.equal(tlsa?.type, 'TLSA');
      assert.deepEqual(tlsa?.type === 'TLSA' ? tlsa.data : null, { usage: 3, selector: 1, matchingType: 1, certificate: cert });
      const unsigned = await tcpQuery({ type: 'TLSA', name: '_25._tcp.mx.unsigned.test' });
      assert.equal(unsigned.flag_ad, false);
      assert.equal(unsigned.answers?.length, 1);
      assert.deepEqual(fake.queries.map((q) => q.transport), ['udp', 'tcp']);

      const txt = new Resolver({ timeout: 1000, tries: 1 });
      txt.setServers([fake.server]);
      assert.deepEqual(await txt.resolveTxt('txt-only.test'), [['v=spf1 -all']]);
    } finally {
      fake.setZone(ZONE);
    }
  });

  it('answers NXDOMAIN for unknown names, NODATA for parents of known names', async () => {
    assert.equal(rcodeOf(await udpQuery({ type: 'A', name: 'unknown.test' })), 3);
    const parent = await udpQuery({ type: 'A', name: 'good.test' }); // mail.good.test exists
    assert.equal(rcodeOf(parent), 0);
    assert.deepEqual(parent.answers, []);
    assert.equal(rcodeOf(await udpQuery({ type: 'A', name: 'broken.test' })), 2);
  });

  it('follows CNAMEs inside the zone and takes a new zone with setZone', async () => {
    fake.setZone({ 'alias.test': { CNAME: 'real.test' }, 'real.test': { A: ['198.51.100.77'] } });
    try {
      assert.deepEqual(await resolver.resolve4('alias.test'), ['198.51.100.77']);
      assert.equal(await codeOf(resolver.resolve4('host.test')), 'ENOTFOUND');
    } finally {
      fake.setZone(ZONE);
    }
    assert.deepEqual(await resolver.resolve4('host.test'), ['198.51.100.5']);
  });

  it('refuses zone data it would encode wrongly', () => {
    assert.throws(() => fake.setZone({ 'bad.test': { A: ['not-an-address'] } }), /bad\.test: A not-an-address/);
    assert.throws(() => fake.setZone({ 'bad.test': { AAAA: ['192.0.2.1'] } }), /not an IPv6 address/);
    assert.throws(() => fake.setZone({ 'bad.test': { TXT: [['x'.repeat(256)]] } }), /longer than 255/);
    assert.deepEqual(fake.errors, []);
  });

  it('sends raw bytes when asked (malformed answers), and can stay silent', async () => {
    fake.setZone({
      'garbage.test': { raw: (q) => Buffer.concat([dnsPacket.encode({ type: 'response', id: q.id ?? 0, questions: q.questions ?? [] }).subarray(0, 12), Buffer.from([0xff, 0xff])]) },
      'silent.test': { A: ['198.51.100.1'], drop: true },
    });
    try {
      const code = await codeOf(resolver.resolve4('garbage.test'));
      assert.ok(code === 'EBADRESP' || code === 'ETIMEOUT' || code === 'ECONNREFUSED', String(code));
      const quick = createResolver({ servers: [fake.server], timeoutMs: FAST_TIMEOUT_MS });
      assert.equal(await codeOf(quick.resolve4('silent.test')), 'ETIMEOUT');
    } finally {
      fake.setZone(ZONE);
    }
  });

  it('truncates large UDP answers so clients retry over TCP', async () => {
    const many = Array.from({ length: 80 }, (_, i) => `10.0.${Math.floor(i / 250)}.${i % 250}`);
    fake.setZone({ 'big.test': { A: many } });
    try {
      const udp = await udpQuery({ type: 'A', name: 'big.test' });
      assert.equal(udp.flag_tc, true);
      const edns = await udpQuery({ type: 'A', name: 'big.test' }, true);
      assert.equal(edns.flag_tc, false, 'fits in the 4096 bytes EDNS offers');
      assert.equal(edns.answers?.length, many.length);
      assert.deepEqual((await resolver.resolve4('big.test')).sort(), [...many].sort());
      assert.ok(fake.queries.some((q) => q.transport === 'tcp' && q.name === 'big.test'));
    } finally {
      fake.setZone(ZONE);
    }
  });
});
