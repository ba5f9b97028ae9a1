/**
 * Destination controls (SPEC §5.2) compiled to a plain lookup: an `[ip]` entry
 * for the next-hop address, else the exact domain, else the nearest `.parent`
 * entry, else `default`. The result names the entry that matched, for the log.
 */
import net from 'node:net';
import type { Config, DestinationSettings } from '../config/schema.js';

export interface DestinationPolicy {
  /** `default`, the domain, `.parent` or `[ip]` entry that matched. */
  readonly matched: string;
  readonly settings: DestinationSettings;
}

export interface DestinationControls {
  /** The policy for a recipient domain (no next-hop address known yet). */
  forDomain(domain: string): DestinationPolicy;
  /** The policy for a connection: `[ip]` entry of the address first, then the domain rules. */
  forHop(domain: string, ip: string): DestinationPolicy;
  readonly clientCertificate: string | null;
  readonly alertOnRequiredTlsFailure: boolean;
}

function settingsOf(entry: DestinationSettings): DestinationSettings {
  return {
    tls: entry.tls,
    dane: entry.dane,
    maxConcurrency: entry.maxConcurrency,
    maxMessagesPerConnection: entry.maxMessagesPerConnection,
    maxRecipientsPerPeriod: entry.maxRecipientsPerPeriod,
    periodMinutes: entry.periodMinutes,
    ipPreference: entry.ipPreference,
  };
}

function normalizeIp(ip: string): string {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return (v4mapped?.[1] ?? ip).toLowerCase();
}

export function compileDestinationControls(dc: Config['destinationControls']): DestinationControls {
  const exact = new Map<string, DestinationPolicy>();
  const parents = new Map<string, DestinationPolicy>();
  const ips = new Map<string, DestinationPolicy>();
  for (const e of dc.domains) {
    const p: DestinationPolicy = { matched: e.domain, settings: settingsOf(e) };
    const d = e.domain.toLowerCase();
    if (d.startsWith('[') && d.endsWith(']')) {
      const ip = d.slice(1, -1);
      if (net.isIP(ip) !== 0) ips.set(normalizeIp(ip), p);
    } else if (d.startsWith('.')) parents.set(d.slice(1), p);
    else exact.set(d, p);
  }
  const fallback: DestinationPolicy = { matched: 'default', settings: settingsOf(dc.default) };
  const forDomain = (domain: string): DestinationPolicy => {
    const d = domain.toLowerCase().replace(/\.$/, '');
    const hit = exact.get(d);
    if (hit) return hit;
    // `.example.com` covers every subdomain of example.com (not example.com itself); nearest wins.
    let rest = d;
    for (let dot = rest.indexOf('.'); dot >= 0; dot = rest.indexOf('.')) {
      rest = rest.slice(dot + 1);
      const p = parents.get(rest);
      if (p) return p;
    }
    return fallback;
  };
  return {
    forDomain,
    forHop: (domain, ip) => ips.get(normalizeIp(ip)) ?? forDomain(domain),
    clientCertificate: dc.certificate,
    alertOnRequiredTlsFailure: dc.alertOnRequiredTlsFailure,
  };
}
