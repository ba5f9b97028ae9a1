/**
 * The name half of verification for `tlsverify` and `checktls` (SPEC §5.2,
 * §7): the reference identifiers of delivery (recipient domain, MX host name
 * — weak, from unsigned DNS —, SMTP-route host name or IP), tried in order
 * against the leaf with the same RFC 6125 matcher as delivery
 * (`policy/tls-verification.ts`). A mismatch reads
 * `name mismatch (tried: a, b; presented: c, d)`, where the presented names
 * are the SAN DNS names and IP addresses, or the CN when there is no SAN.
 */
import type crypto from 'node:crypto';
import { matchesIdentifier } from '../policy/tls-verification.js';
import type { ReferenceIdentifier } from '../smtp/outbound/next-hops.js';
import { describeCertificate } from '../tls/certificate-info.js';

export type NameVerdict =
  | { ok: true; identifier: ReferenceIdentifier; tried: string[]; presented: string[] }
  | { ok: false; tried: string[]; presented: string[] };

/** SAN DNS names and IP addresses, else the CN (plain, without `DNS:`). */
export function presentedIdentities(cert: crypto.X509Certificate): string[] {
  const info = describeCertificate(cert.toString());
  const san = [...info.sanDns, ...info.sanIp];
  if (san.length > 0) return san;
  return info.commonName !== '' ? [info.commonName] : [];
}

/** The first identifier the leaf matches, in order. */
export function checkNames(leaf: crypto.X509Certificate, identifiers: readonly ReferenceIdentifier[]): NameVerdict {
  const tried = identifiers.map((i) => i.name);
  const presented = presentedIdentities(leaf);
  for (const id of identifiers) {
    if (matchesIdentifier(leaf, id.name)) return { ok: true, identifier: id, tried, presented };
  }
  return { ok: false, tried, presented };
}

export function nameMismatchText(tried: readonly string[], presented: readonly string[]): string {
  return `name mismatch (tried: ${tried.join(', ') || '(none)'}; presented: ${presented.join(', ') || '(no names)'})`;
}

/** `mx.example.com (weak: MX host name from unsigned DNS)` for a weak identifier, else the name. */
export function identifierText(id: ReferenceIdentifier): string {
  return id.weak ? `${id.name} (weak: MX host name from unsigned DNS)` : id.name;
}
