/**
 * The reputation score (`SBRS`) of a connecting host, from the DNSBL zones in
 * `reputation.dnsbl` (SPEC §4.2).
 *
 * Rule: the score starts at 0; every zone that lists the address adds its
 * configured `score` (usually negative for a blocklist, positive for an
 * allowlist); the sum is clamped to [-10, 10] and rounded to 2 decimals.
 * A zone lists the address when `<reversed-ip>.<zone>` has an A record in
 * 127.0.0.0/8 (RFC 5782 §2.1), except 127.255.255.0/24, which blocklists such
 * as Spamhaus use for error answers ("query refused", "rate limited").
 * NXDOMAIN, NODATA, SERVFAIL, timeouts and any other error count as not
 * listed. Zones are queried in parallel. No zones → null (no score, so no
 * `sbrs[a:b]` member matches).
 */
import { parseIp, reversedIpLabels } from '../policy/ip-match.js';
import type { DnsResolver } from './resolver.js';

/** One configured DNSBL zone and what a listing adds to the score. */
export interface DnsblZone {
  zone: string;
  score: number;
}

export const SBRS_MIN = -10;
export const SBRS_MAX = 10;

/** Whether a DNSBL A answer means "listed" (127.0.0.0/8 but not the 127.255.255.x error codes). */
export function isDnsblListing(answer: string): boolean {
  const ip = parseIp(answer);
  if (ip === null || ip.family !== 4) return false;
  return ip.value >> 24n === 127n && ip.value >> 8n !== 0x7fffffn;
}

/** The DNSBL query name of `ip` in `zone`: `4.3.2.1.zone` for IPv4, 32 nibbles for IPv6; null for a non-address. */
export function dnsblQueryName(ip: string, zone: string): string | null {
  const labels = reversedIpLabels(ip);
  const z = zone.trim().replace(/^\.+|\.+$/g, '');
  if (labels === null || z === '') return null;
  return `${labels}.${z}`;
}

async function isListed(name: string, resolver: DnsResolver): Promise<boolean> {
  try {
    return (await resolver.resolve4(name)).some(isDnsblListing);
  } catch {
    return false;
  }
}

/**
 * The score of `ip` from the zones (see the rule above); null when `zones` is
 * empty or `ip` is not an address. Never throws.
 */
export async function lookupSbrs(ip: string, zones: readonly DnsblZone[], resolver: DnsResolver): Promise<number | null> {
  if (zones.length === 0) return null;
  if (parseIp(ip) === null) return null;
  const listed = await Promise.all(
    zones.map(async (z) => {
      const name = dnsblQueryName(ip, z.zone);
      return name !== null && Number.isFinite(z.score) && (await isListed(name, resolver)) ? z.score : 0;
    }),
  );
  const sum = listed.reduce((a, b) => a + b, 0);
  const clamped = Math.min(SBRS_MAX, Math.max(SBRS_MIN, sum));
  return Math.round(clamped * 100) / 100 + 0; // + 0 turns -0 into 0
}
