/**
 * Full validation of a configuration: the schema, then the cross references
 * a schema cannot see (a sender group naming a missing policy, a listener naming
 * a missing certificate, duplicate names and ports, member syntax). Errors refuse
 * the document; warnings are shown and kept (SPEC §4.2: requiring TLS on a
 * public MX).
 */
import { parseConfig } from '../config/parse-config.js';
import type { Config } from '../config/schema.js';
import { validateMember } from '../policy/host-access-table.js';
import { normalizeIp, parseIp } from '../policy/ip-match.js';

export type Validation =
  | { ok: true; config: Config; warnings: string[] }
  | { ok: false; errors: string[] };

function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
}

/** `a:port`, with IPv6 in brackets. */
function endpointText(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Whether two listener addresses would take the same connections on one port.
 * `0.0.0.0` takes every IPv4 address; `::` every IPv6 address and, because
 * Node binds it dual-stack, every IPv4 address too (a second bind fails with
 * EADDRINUSE on Linux).
 */
function addressesOverlap(a: string, b: string): boolean {
  const x = normalizeIp(a) ?? a;
  const y = normalizeIp(b) ?? b;
  if (x === y) return true;
  const v4 = (ip: string): boolean => parseIp(ip)?.family === 4;
  if (x === '::' || y === '::') return true;
  if (x === '0.0.0.0') return v4(y);
  if (y === '0.0.0.0') return v4(x);
  return false;
}

/** Why a source address cannot be used, or null: it must not be the unspecified address, nor an IPv4-mapped IPv6 one. */
function sourceAddressProblem(address: string | null, family: 4 | 6): string | null {
  if (address === null) return null;
  const ip = parseIp(address);
  if (ip === null) return null; // the schema already said why
  if (family === 6 && ip.family === 4) return `${address} is an IPv4-mapped address; set the IPv4 address in sourceAddressV4`;
  if (ip.value === 0n) return `${address} is the unspecified address; use null (none) to let the OS choose`;
  return null;
}

export function validateConfig(input: unknown): Validation {
  const parsed = parseConfig(input);
  if (!parsed.ok) return parsed;
  const config = parsed.config;
  const errors: string[] = [];
  const warnings: string[] = [];
  const profiles = new Set(config.certificates.map((c) => c.name));

  config.certificates.forEach((c, i) => {
    if (config.certificates.findIndex((o) => o.name === c.name) !== i) errors.push(`certificates[${i}].name: duplicate profile name ${c.name}`);
  });
  config.listeners.forEach((l, li) => {
    const at = `listeners[${li}]`;
    if (config.listeners.findIndex((o) => o.name === l.name) !== li) errors.push(`${at}.name: duplicate listener name ${l.name}`);
    const endpoint = endpointText(l.address, l.port);
    const other = config.listeners.findIndex((o, oi) => oi < li && o.port === l.port && addressesOverlap(o.address, l.address));
    if (other >= 0) {
      const o = config.listeners[other]!;
      const same = normalizeIp(o.address) === normalizeIp(l.address);
      errors.push(`${at}.port: ${endpoint} is already used by listeners[${other}]${same ? '' : ` (${endpointText(o.address, o.port)}; :: also takes IPv4 connections, 0.0.0.0 every IPv4 address)`}`);
    }
    if (l.certificates.length === 0) errors.push(`${at}.certificates: needs at least one certificate profile`);
    l.certificates.forEach((c, ci) => {
      if (!profiles.has(c)) errors.push(`${at}.certificates[${ci}]: no certificate profile named ${c}`);
    });
    if (l.type === 'private' && l.rat.length > 0) errors.push(`${at}.rat: only public listeners have a recipient access table`);
    for (const d of duplicates(l.policies.map((p) => p.name))) errors.push(`${at}.policies: duplicate policy name ${d}`);
    for (const d of duplicates(l.senderGroups.map((g) => g.name))) errors.push(`${at}.senderGroups: duplicate sender group name ${d}`);
    const policyNames = new Set(l.policies.map((p) => p.name));
    l.senderGroups.forEach((g, gi) => {
      if (!policyNames.has(g.policy)) errors.push(`${at}.senderGroups[${gi}].policy: no mail flow policy named ${g.policy} on listener ${l.name}`);
      g.members.forEach((m, mi) => {
        const problem = validateMember(m);
        if (problem !== null) errors.push(`${at}.senderGroups[${gi}].members[${mi}]: ${problem}`);
      });
    });
    l.policies.forEach((p, pi) => {
      if (p.tlsMandatoryAddressList.length > 0 && p.tls !== 'preferred') {
        warnings.push(`${at}.policies[${pi}].tlsMandatoryAddressList: only applies when tls is preferred (it is ${p.tls})`);
      }
    });
    if (l.type === 'public') {
      const catchAll = [...l.senderGroups].reverse().find((g) => g.members.includes('ALL'));
      const policy = catchAll && l.policies.find((p) => p.name === catchAll.policy);
      if (policy?.tls === 'required' && (policy.behavior === 'accept' || policy.behavior === 'relay')) {
        warnings.push(
          `${at}: the catch-all policy ${policy.name} requires TLS on public listener ${l.name}; RFC 3207 §4 forbids requiring STARTTLS on a publicly referenced MX`,
        );
      }
    }
  });
  config.destinationControls.domains.forEach((d, i) => {
    if (config.destinationControls.domains.findIndex((o) => o.domain.toLowerCase() === d.domain.toLowerCase()) !== i) {
      errors.push(`destinationControls.domains[${i}].domain: duplicate entry ${d.domain}`);
    }
  });
  const outboundCert = config.destinationControls.certificate;
  if (outboundCert !== null && !profiles.has(outboundCert)) errors.push(`destinationControls.certificate: no certificate profile named ${outboundCert}`);
  const v4Problem = sourceAddressProblem(config.destinationControls.sourceAddressV4, 4);
  if (v4Problem !== null) errors.push(`destinationControls.sourceAddressV4: ${v4Problem}`);
  const v6Problem = sourceAddressProblem(config.destinationControls.sourceAddressV6, 6);
  if (v6Problem !== null) errors.push(`destinationControls.sourceAddressV6: ${v6Problem}`);
  if (!profiles.has(config.gui.certificate)) errors.push(`gui.certificate: no certificate profile named ${config.gui.certificate}`);
  config.smtpRoutes.forEach((r, i) => {
    if (config.smtpRoutes.findIndex((o) => o.domain.toLowerCase() === r.domain.toLowerCase()) !== i) errors.push(`smtpRoutes[${i}].domain: duplicate route ${r.domain}`);
  });
  for (const d of duplicates(config.users.map((u) => u.name))) errors.push(`users: duplicate user ${d}`);

  return errors.length > 0 ? { ok: false, errors } : { ok: true, config, warnings };
}
