/**
 * Where mail for a domain goes (SPEC §5.1): an SMTP route (exact domain, the
 * nearest `.parent`, then `ALL`; hosts tried in the listed order) overrides
 * DNS; otherwise the MX records by preference, random order among equals; a
 * null MX (RFC 7505) bounces `556 5.1.10`; no MX → the domain's own A/AAAA;
 * NXDOMAIN bounces; SERVFAIL, timeouts and other DNS trouble defer.
 *
 * Each hop also carries the reference identifiers for certificate verification
 * (SPEC §5.2): the recipient domain, the route host name, the MX host name
 * (weak: it came from unsigned DNS).
 */
import net from 'node:net';
import type { SmtpRoute } from '../../config/schema.js';
import { reply, type SmtpReply } from '../../core/smtp-reply.js';
import type { DnsResolver } from '../../dns/resolver.js';

export type IdentifierSource = 'recipient-domain' | 'route-host' | 'mx-host' | 'route-ip';

export interface ReferenceIdentifier {
  readonly name: string;
  readonly source: IdentifierSource;
  /** A name from unsigned DNS (MX host): a match is logged as weak. */
  readonly weak: boolean;
}

export interface NextHop {
  /** The name the hop was found by (MX exchange, route host, the domain itself for an A/AAAA fallback), or the IP of an IP route. */
  readonly host: string;
  readonly ip: string;
  readonly port: number;
  readonly via: 'route' | 'mx' | 'address';
  /** Name to send as SNI; null for an IP route (never an IP address as SNI). */
  readonly servername: string | null;
  readonly identifiers: readonly ReferenceIdentifier[];
}

export type NextHopResult =
  | { kind: 'hops'; hops: NextHop[]; route: string | null }
  | { kind: 'bounce'; reply: SmtpReply }
  | { kind: 'defer'; reply: SmtpReply };

export type IpPreference = 'prefer-v4' | 'prefer-v6' | 'require-v4' | 'require-v6';

export interface NextHopOptions {
  routes: readonly SmtpRoute[];
  resolver: DnsResolver;
  ipPreference: IpPreference;
  /** Random source for shuffling equal MX preferences (tests pass a fixed one). */
  random?: () => number;
}

const DEFAULT_PORT = 25;

/** The route for a domain: exact, nearest `.parent`, then `ALL`. */
export function findRoute(routes: readonly SmtpRoute[], domain: string): SmtpRoute | null {
  const d = domain.toLowerCase().replace(/\.$/, '');
  const byName = new Map(routes.map((r) => [r.domain.toLowerCase(), r]));
  const exact = byName.get(d);
  if (exact) return exact;
  let rest = d;
  for (let dot = rest.indexOf('.'); dot >= 0; dot = rest.indexOf('.')) {
    rest = rest.slice(dot + 1);
    const p = byName.get(`.${rest}`);
    if (p) return p;
  }
  return routes.find((r) => r.domain === 'ALL') ?? null;
}

/** `host`, `host:port`, `[ip]`, `[ip]:port`, `ip` → host and port. */
export function parseHostPort(text: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) return { host: bracketed[1] ?? '', port: bracketed[2] !== undefined ? Number(bracketed[2]) : DEFAULT_PORT };
  if (net.isIPv6(text)) return { host: text, port: DEFAULT_PORT };
  const m = /^(.*):(\d{1,5})$/.exec(text);
  if (m) return { host: m[1] ?? '', port: Number(m[2]) };
  return { host: text, port: DEFAULT_PORT };
}

function dnsCode(err: unknown): string {
  return String((err as { code?: unknown }).code ?? 'EUNKNOWN');
}

/** ENOTFOUND is NXDOMAIN; ENODATA is "exists, no record of that type". */
const isNxdomain = (err: unknown): boolean => dnsCode(err) === 'ENOTFOUND';
const isNodata = (err: unknown): boolean => dnsCode(err) === 'ENODATA';

function shuffleEqualPreferences<T extends { priority: number }>(records: T[], random: () => number): T[] {
  const decorated = records.map((r) => ({ r, k: random() }));
  decorated.sort((a, b) => a.r.priority - b.r.priority || a.k - b.k);
  return decorated.map((d) => d.r);
}

type AddressLookup = { kind: 'ok'; ips: string[] } | { kind: 'nxdomain' } | { kind: 'error'; code: string };

/** A and AAAA of a name in the order the IP preference asks for. */
async function addressesOf(name: string, resolver: DnsResolver, pref: IpPreference): Promise<AddressLookup> {
  const want4 = pref !== 'require-v6';
  const want6 = pref !== 'require-v4';
  const settle = async (f: () => Promise<string[]>, on: boolean): Promise<{ ips: string[]; err: unknown }> => {
    if (!on) return { ips: [], err: null };
    try {
      return { ips: await f(), err: null };
    } catch (err) {
      return { ips: [], err };
    }
  };
  const [v4, v6] = await Promise.all([settle(() => resolver.resolve4(name), want4), settle(() => resolver.resolve6(name), want6)]);
  const ips = pref === 'prefer-v6' || pref === 'require-v6' ? [...v6.ips, ...v4.ips] : [...v4.ips, ...v6.ips];
  if (ips.length > 0) return { kind: 'ok', ips };
  const errs = [v4.err, v6.err].filter((e) => e !== null);
  if (errs.length > 0 && errs.every(isNxdomain)) return { kind: 'nxdomain' };
  const hard = errs.find((e) => !isNxdomain(e) && !isNodata(e));
  if (hard !== undefined) return { kind: 'error', code: dnsCode(hard) };
  return { kind: 'ok', ips: [] };
}

/** Resolves the ordered list of next hops for a recipient domain. */
export async function resolveNextHops(domain: string, options: NextHopOptions): Promise<NextHopResult> {
  const d = domain.toLowerCase().replace(/\.$/, '');
  const random = options.random ?? Math.random;
  const route = findRoute(options.routes, d);
  if (route) return routeHops(d, route, options);

  let mx: { exchange: string; priority: number }[];
  try {
    mx = await options.resolver.resolveMx(d);
  } catch (err) {
    if (isNxdomain(err)) return { kind: 'bounce', reply: reply(550, '5.1.2', `Domain ${d} does not exist (NXDOMAIN)`) };
    if (isNodata(err)) mx = [];
    else return { kind: 'defer', reply: reply(451, '4.4.3', `DNS lookup of MX ${d} failed: ${dnsCode(err)}`) };
  }
  if (mx.some((r) => r.exchange === '' || r.exchange === '.')) {
    return { kind: 'bounce', reply: reply(556, '5.1.10', `Domain ${d} does not accept mail (null MX)`) };
  }
  const domainId: ReferenceIdentifier = { name: d, source: 'recipient-domain', weak: false };
  if (mx.length === 0) {
    const a = await addressesOf(d, options.resolver, options.ipPreference);
    if (a.kind === 'nxdomain') return { kind: 'bounce', reply: reply(550, '5.1.2', `Domain ${d} does not exist (NXDOMAIN)`) };
    if (a.kind === 'error') return { kind: 'defer', reply: reply(451, '4.4.3', `DNS lookup of A/AAAA ${d} failed: ${a.code}`) };
    if (a.ips.length === 0) return { kind: 'bounce', reply: reply(550, '5.1.2', `Domain ${d} has no MX and no address records`) };
    return { kind: 'hops', route: null, hops: a.ips.map((ip) => ({ host: d, ip, port: DEFAULT_PORT, via: 'address', servername: d, identifiers: [domainId] })) };
  }
  const hops: NextHop[] = [];
  let lastError: string | null = null;
  for (const rec of shuffleEqualPreferences(mx, random)) {
    const host = rec.exchange.toLowerCase().replace(/\.$/, '');
    const a = await addressesOf(host, options.resolver, options.ipPreference);
    if (a.kind !== 'ok') {
      lastError = a.kind === 'error' ? a.code : 'NXDOMAIN';
      continue;
    }
    const identifiers: ReferenceIdentifier[] = [domainId];
    if (host !== d) identifiers.push({ name: host, source: 'mx-host', weak: true });
    for (const ip of a.ips) hops.push({ host, ip, port: DEFAULT_PORT, via: 'mx', servername: host, identifiers });
  }
  if (hops.length === 0) return { kind: 'defer', reply: reply(451, '4.4.3', `No address for any MX of ${d}${lastError ? ` (${lastError})` : ''}`) };
  return { kind: 'hops', hops, route: null };
}

async function routeHops(domain: string, route: SmtpRoute, options: NextHopOptions): Promise<NextHopResult> {
  const domainId: ReferenceIdentifier = { name: domain, source: 'recipient-domain', weak: false };
  const hops: NextHop[] = [];
  let lastError: string | null = null;
  for (const entry of route.hosts) {
    const { host, port } = parseHostPort(entry);
    if (net.isIP(host) !== 0) {
      hops.push({ host, ip: host, port, via: 'route', servername: null, identifiers: [domainId, { name: host, source: 'route-ip', weak: false }] });
      continue;
    }
    const name = host.toLowerCase().replace(/\.$/, '');
    const a = await addressesOf(name, options.resolver, options.ipPreference);
    if (a.kind !== 'ok' || a.ips.length === 0) {
      lastError = a.kind === 'error' ? a.code : a.kind === 'nxdomain' ? 'NXDOMAIN' : 'no address';
      continue;
    }
    for (const ip of a.ips) {
      hops.push({ host: name, ip, port, via: 'route', servername: name, identifiers: [domainId, { name, source: 'route-host', weak: false }] });
    }
  }
  // A route is the administrator's word: a host that does not resolve is a configuration or DNS fault, never a bounce.
  if (hops.length === 0) return { kind: 'defer', reply: reply(451, '4.4.3', `No address for any host of SMTP route ${route.domain}${lastError ? ` (${lastError})` : ''}`) };
  return { kind: 'hops', hops, route: route.domain };
}
