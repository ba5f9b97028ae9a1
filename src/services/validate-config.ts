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

export type Validation =
  | { ok: true; config: Config; warnings: string[] }
  | { ok: false; errors: string[] };

function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
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
  const endpoints = new Map<string, number>();
  config.listeners.forEach((l, li) => {
    const at = `listeners[${li}]`;
    if (config.listeners.findIndex((o) => o.name === l.name) !== li) errors.push(`${at}.name: duplicate listener name ${l.name}`);
    const endpoint = `${l.address}:${l.port}`;
    const other = endpoints.get(endpoint);
    if (other !== undefined) errors.push(`${at}.port: ${endpoint} is already used by listeners[${other}]`);
    else endpoints.set(endpoint, li);
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
  if (!profiles.has(config.gui.certificate)) errors.push(`gui.certificate: no certificate profile named ${config.gui.certificate}`);
  config.smtpRoutes.forEach((r, i) => {
    if (config.smtpRoutes.findIndex((o) => o.domain.toLowerCase() === r.domain.toLowerCase()) !== i) errors.push(`smtpRoutes[${i}].domain: duplicate route ${r.domain}`);
  });
  for (const d of duplicates(config.users.map((u) => u.name))) errors.push(`users: duplicate user ${d}`);

  return errors.length > 0 ? { ok: false, errors } : { ok: true, config, warnings };
}
