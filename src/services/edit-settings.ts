/**
 * Editing the global settings as pure functions over a draft: the host name,
 * TLS versions and ciphers per service (`sslconfig`), DNS servers, DNSBL
 * reputation zones, and the admin GUI's address, port and certificate.
 */
import net from 'node:net';
import tls from 'node:tls';
import { UserError } from '../core/errors.js';
import type { TlsVersion } from '../core/tls-levels.js';
import type { Config } from '../config/schema.js';
import { toResolverServer } from '../dns/resolver.js';

export function setHostname(draft: Config, name: string): string {
  const hostname = name.trim().toLowerCase().replace(/\.$/, '');
  if (hostname === '') throw new UserError('the host name must not be empty (e.g. mail.example.com)');
  draft.hostname = hostname;
  return hostname;
}

/** The services whose TLS settings `sslconfig` edits. */
export type TlsService = 'inbound' | 'outbound' | 'gui';
export const TLS_SERVICES = ['inbound', 'outbound', 'gui'] as const;

/**
 * `TLSv1.2` / `TLSv1.3` (also `1.2`, `tls1.3`, any case). TLS 1.0 and 1.1 are
 * refused with the reason (RFC 8996), anything else as not a TLS version.
 */
export function toTlsVersion(input: string): TlsVersion {
  const m = /^(?:tls\s*v?|v)?\s*1[._]?([0-3])$/i.exec(input.trim());
  const minor = m?.[1];
  if (minor === '2') return 'TLSv1.2';
  if (minor === '3') return 'TLSv1.3';
  if (minor === '0' || minor === '1' || /^(ssl|tlsv?1$)/i.test(input.trim())) {
    throw new UserError(`${input} is not supported: TLS 1.0 and 1.1 are obsolete (RFC 8996); the minimum is TLSv1.2 (use --min-version TLSv1.2 or TLSv1.3)`);
  }
  throw new UserError(`"${input}" is not a TLS version: use TLSv1.2 or TLSv1.3`, 2);
}

/** Checks an OpenSSL cipher list the way Node will use it; refuses one that selects nothing. */
export function checkCipherList(ciphers: string): string {
  const list = ciphers.trim();
  if (list === '') throw new UserError('the cipher list must not be empty (e.g. ECDHE+AESGCM:ECDHE+CHACHA20)');
  try {
    tls.createSecureContext({ ciphers: list });
  } catch (err) {
    throw new UserError(`cipher list "${list}" is not usable: ${err instanceof Error ? err.message : String(err)} (see "openssl ciphers -v 'LIST'")`);
  }
  return list;
}

export interface TlsServiceChanges {
  minVersion?: TlsVersion | undefined;
  ciphers?: string | undefined;
}

export function editTlsService(draft: Config, service: TlsService, changes: TlsServiceChanges): Config['ssl'][TlsService] {
  const settings = draft.ssl[service];
  if (changes.minVersion !== undefined) settings.minVersion = changes.minVersion;
  if (changes.ciphers !== undefined) settings.ciphers = checkCipherList(changes.ciphers);
  return settings;
}

/**
 * A DNS server entry as stored: `ip`, `ip:port`, `[v6]`, `[v6]:port`
 * (`localhost` becomes 127.0.0.1). Checked with the resolver's own parser.
 */
export function toDnsServer(entry: string): string {
  let server: string;
  try {
    server = toResolverServer(entry);
  } catch (err) {
    throw new UserError(`DNS server ${(err instanceof Error ? err.message : String(err)).replace(/^dns\.servers: /, '')}; write IP[:PORT], e.g. 127.0.0.1:5353`);
  }
  return net.isIPv6(server) ? `[${server}]` : server;
}

/** Sets the DNS servers; the empty list means the system's resolver. */
export function setDnsServers(draft: Config, entries: readonly string[]): string[] {
  const servers = entries.map(toDnsServer);
  const dup = servers.find((s, i) => servers.indexOf(s) !== i);
  if (dup !== undefined) throw new UserError(`DNS server ${dup} is listed twice`);
  draft.dns.servers = servers;
  return servers;
}

export interface DnsblZone {
  zone: string;
  score: number;
}

/** Parses `ZONE=SCORE` (score -10..10, the SBRS given to a listed host). */
export function toDnsblZone(entry: string): DnsblZone {
  const m = /^\s*([^=\s]+)\s*=\s*([^=\s]+)\s*$/.exec(entry);
  const zone = m?.[1]?.toLowerCase().replace(/\.$/, '');
  const score = Number(m?.[2]);
  if (zone === undefined || m?.[2] === undefined) throw new UserError(`"${entry}": write a DNSBL as ZONE=SCORE, e.g. zen.spamhaus.org=-8`);
  if (!Number.isFinite(score) || score < -10 || score > 10) throw new UserError(`"${entry}": the score must be a number from -10 to 10`);
  return { zone, score };
}

/** Sets the DNSBL zones that give a listed host its SBRS; the empty list means SBRS None for everyone. */
export function setDnsblZones(draft: Config, entries: readonly string[]): DnsblZone[] {
  const zones = entries.map(toDnsblZone);
  const dup = zones.find((z, i) => zones.findIndex((o) => o.zone === z.zone) !== i);
  if (dup !== undefined) throw new UserError(`DNSBL zone ${dup.zone} is listed twice`);
  draft.reputation.dnsbl = zones;
  return zones;
}

export interface GuiChanges {
  address?: string | undefined;
  port?: number | undefined;
  certificate?: string | undefined;
  idleTimeoutMinutes?: number | undefined;
}

export function editGui(draft: Config, changes: GuiChanges): Config['gui'] {
  if (changes.address !== undefined) {
    const address = changes.address.trim();
    if (net.isIP(address) === 0) throw new UserError(`GUI address "${changes.address}" is not an IP address (e.g. 127.0.0.1 or 0.0.0.0)`);
    draft.gui.address = address;
  }
  if (changes.port !== undefined) draft.gui.port = changes.port;
  if (changes.certificate !== undefined) draft.gui.certificate = changes.certificate.trim();
  if (changes.idleTimeoutMinutes !== undefined) draft.gui.idleTimeoutMinutes = changes.idleTimeoutMinutes;
  return draft.gui;
}
