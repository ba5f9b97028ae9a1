/** Next-hop resolution (SPEC §5.1) through the fake DNS on loopback. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { resolveNextHops, findRoute } from '../../src/smtp/outbound/next-hops.js';
import type { FakeDns } from '../harness/fake-dns.js';
import type { DnsResolver } from '../../src/dns/resolver.js';
import { fakeDnsResolver } from './delivery-fixture.js';

let dns: FakeDns;
let resolver: DnsResolver;

before(async () => {
  ({ dns, resolver } = await fakeDnsResolver({
    'mx.test': { MX: [{ exchange: 'b.mx.test', priority: 20 }, { exchange: 'a1.mx.test', priority: 10 }, { exchange: 'a2.mx.test', priority: 10 }] },
    'a1.mx.test': { A: ['192.0.2.1'] },
    'a2.mx.test': { A: ['192.0.2.2'] },
    'b.mx.test': { A: ['192.0.2.3'], AAAA: ['2001:db8::3'] },
    'nullmx.test': { MX: [{ exchange: '', priority: 0 }] },
    'amx.test': { A: ['192.0.2.9'] },
    'servfail.test': { rcode: 'SERVFAIL' },
    'relay.example': { A: ['192.0.2.50'] },
  }));
});
after(async () => dns.close());

const opts = (routes: { domain: string; hosts: string[] }[] = [], random = Math.random) => ({ routes, resolver, ipPreference: 'prefer-v4' as const, random });

test('MX by preference, random among equals, lower preference last, v4 before v6', async () => {
  const orders = new Set<string>();
  for (const seed of [0.1, 0.9]) {
    let flip = seed;
    const r = await resolveNextHops('mx.test', opts([], () => (flip = 1 - flip)));
    assert.equal(r.kind, 'hops');
    if (r.kind !== 'hops') return;
    const names = r.hops.map((h) => `${h.host}/${h.ip}`);
    assert.deepEqual(names.slice(2), ['b.mx.test/192.0.2.3', 'b.mx.test/2001:db8::3']);
    orders.add(names.slice(0, 2).join(','));
    assert.deepEqual(r.hops[0]!.identifiers.map((i) => [i.name, i.weak]), [['mx.test', false], [r.hops[0]!.host, true]]);
  }
  assert.equal(orders.size, 2, 'equal preferences are shuffled');
});

test('null MX bounces 556 5.1.10; no MX falls back to A; NXDOMAIN bounces; SERVFAIL defers', async () => {
  const nul = await resolveNextHops('nullmx.test', opts());
  assert.equal(nul.kind, 'bounce');
  if (nul.kind === 'bounce') assert.deepEqual([nul.reply.code, nul.reply.enhanced], [556, '5.1.10']);
  const a = await resolveNextHops('amx.test', opts());
  assert.ok(a.kind === 'hops' && a.hops[0]!.ip === '192.0.2.9' && a.hops[0]!.via === 'address');
  const nx = await resolveNextHops('nowhere.test', opts());
  assert.equal(nx.kind, 'bounce');
  const sf = await resolveNextHops('servfail.test', opts());
  assert.equal(sf.kind, 'defer');
  if (sf.kind === 'defer') assert.equal(sf.reply.code, 451);
});

test('SMTP routes override DNS: exact, .parent, ALL; hosts in order; IP routes have no SNI', async () => {
  const routes = [
    { domain: 'mx.test', hosts: ['relay.example:2525', '[192.0.2.77]'] },
    { domain: '.parent.test', hosts: ['192.0.2.60:26'] },
    { domain: 'ALL', hosts: ['relay.example'] },
  ];
  const exact = await resolveNextHops('mx.test', opts(routes));
  assert.ok(exact.kind === 'hops');
  if (exact.kind !== 'hops') return;
  assert.deepEqual(exact.hops.map((h) => [h.ip, h.port, h.servername]), [['192.0.2.50', 2525, 'relay.example'], ['192.0.2.77', 25, null]]);
  assert.deepEqual(exact.hops[0]!.identifiers.map((i) => i.source), ['recipient-domain', 'route-host']);
  const parent = await resolveNextHops('a.b.parent.test', opts(routes));
  assert.ok(parent.kind === 'hops' && parent.hops[0]!.port === 26 && parent.route === '.parent.test');
  assert.equal(findRoute(routes, 'parent.test')?.domain, 'ALL', '.parent covers subdomains only');
  const all = await resolveNextHops('anything.test', opts(routes));
  assert.ok(all.kind === 'hops' && all.route === 'ALL' && all.hops[0]!.ip === '192.0.2.50');
  assert.ok(!dns.queries.some((q) => q.name === 'anything.test'), 'no MX query when a route applies');
});
