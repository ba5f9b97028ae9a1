/**
 * Editing destination controls (SPEC §5.2) as pure functions over a draft:
 * per-domain entries (`example.com`, `.example.com` for its subdomains,
 * `[192.0.2.1]` for an address), the default entry, the global settings of
 * `destconfig setup`, and export/import of the entries as YAML.
 *
 * A new entry starts as a copy of the current default entry, so raising one
 * setting for a partner never silently lowers another (its TLS level).
 */
import net from 'node:net';
import YAML from 'yaml';
import { ConfigError, UserError } from '../core/errors.js';
import type { Config, DestinationControl, DestinationSettings } from '../config/schema.js';
import { validateConfig } from './validate-config.js';

export type DestinationChanges = Partial<DestinationSettings>;

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** `example.com`, `.example.com` or `[ip]`, normalised (lower case, no trailing dot); refuses anything else. */
export function toDestinationKey(input: string): string {
  const text = input.trim();
  if (text.toLowerCase() === 'default') throw new UserError('the default entry is changed with "destconfig default", not by name');
  const bracketed = /^\[([^\]]+)\]$/.exec(text);
  if (bracketed) {
    const ip = bracketed[1] ?? '';
    if (net.isIP(ip) === 0) throw new UserError(`"${input}" is not an address in brackets (e.g. [192.0.2.1])`);
    return `[${ip.toLowerCase()}]`;
  }
  const key = text.toLowerCase().replace(/\.$/, '');
  const domain = key.startsWith('.') ? key.slice(1) : key;
  if (net.isIP(domain) !== 0) throw new UserError(`"${input}": write an address destination in brackets, e.g. [${domain}]`);
  if (domain === '' || domain.length > 253 || !domain.split('.').every((l) => LABEL.test(l))) {
    throw new UserError(`"${input}" is not a destination: use example.com, .example.com (its subdomains) or [192.0.2.1]`);
  }
  return key;
}

export function findDestination(config: Config, domain: string): DestinationControl {
  const key = toDestinationKey(domain);
  const entry = config.destinationControls.domains.find((d) => d.domain.toLowerCase() === key);
  if (entry === undefined) throw new UserError(`no destination control for ${key}: it uses the default entry (destconfig detail default; destconfig new ${key} to add one)`);
  return entry;
}

function apply(target: DestinationSettings, changes: DestinationChanges): void {
  for (const [key, value] of Object.entries(changes) as [keyof DestinationSettings, unknown][]) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
}

export function addDestination(draft: Config, domain: string, changes: DestinationChanges): DestinationControl {
  const key = toDestinationKey(domain);
  if (draft.destinationControls.domains.some((d) => d.domain.toLowerCase() === key)) {
    throw new UserError(`a destination control for ${key} already exists (use destconfig edit ${key})`);
  }
  const entry: DestinationControl = { domain: key, ...structuredClone(draft.destinationControls.default) };
  apply(entry, changes);
  draft.destinationControls.domains.push(entry);
  return entry;
}

export function editDestination(draft: Config, domain: string, changes: DestinationChanges): DestinationControl {
  const entry = findDestination(draft, domain);
  apply(entry, changes);
  return entry;
}

export function deleteDestination(draft: Config, domain: string): DestinationControl {
  const entry = findDestination(draft, domain);
  draft.destinationControls.domains = draft.destinationControls.domains.filter((d) => d !== entry);
  return entry;
}

export function editDefaultDestination(draft: Config, changes: DestinationChanges): DestinationSettings {
  apply(draft.destinationControls.default, changes);
  return draft.destinationControls.default;
}

export interface DestinationSetup {
  /** Outbound client certificate profile; null: none. */
  certificate?: string | null | undefined;
  alertOnRequiredTlsFailure?: boolean | undefined;
  /** Source address for IPv4 / IPv6 next hops; null: the OS chooses. */
  sourceAddressV4?: string | null | undefined;
  sourceAddressV6?: string | null | undefined;
}

/** A source address as typed: `none` or blank → null (the OS chooses), else the trimmed text. */
export function parseSourceAddressText(value: string): string | null {
  const text = value.trim();
  return text === '' || text.toLowerCase() === 'none' ? null : text;
}

/**
 * Checks a source address against its family, so `--source-address-v4 ::1`
 * says what is wrong in one line (the schema and commit check the rest:
 * unspecified, mapped, not on this machine).
 */
function checkSourceAddress(address: string | null, family: 4 | 6): string | null {
  if (address === null) return null;
  const found = net.isIP(address);
  if (found === 0) throw new UserError(`source address "${address}" is not an IP address (or none to let the OS choose)`);
  if (found !== family) throw new UserError(`source address ${address} is an IPv${found} address; the IPv${family} source address must be an IPv${family} address`);
  // One spelling per address, so showchanges and the diff do not see a change where there is none.
  return family === 6 ? address.toLowerCase() : address;
}

/** The global settings: outbound client certificate (must name a profile; validation checks), the required-TLS alert switch, the source addresses. */
export function setupDestinations(draft: Config, setup: DestinationSetup): void {
  const dc = draft.destinationControls;
  if (setup.certificate !== undefined) dc.certificate = setup.certificate;
  if (setup.alertOnRequiredTlsFailure !== undefined) dc.alertOnRequiredTlsFailure = setup.alertOnRequiredTlsFailure;
  if (setup.sourceAddressV4 !== undefined) dc.sourceAddressV4 = checkSourceAddress(setup.sourceAddressV4, 4);
  if (setup.sourceAddressV6 !== undefined) dc.sourceAddressV6 = checkSourceAddress(setup.sourceAddressV6, 6);
}

/** The global settings in one phrase, for the confirmation of `destconfig setup` (CLI and GUI). */
export function describeSetup(dc: Config['destinationControls']): string {
  return [
    `client certificate ${dc.certificate ?? 'none'}`,
    `alert on required TLS failure ${dc.alertOnRequiredTlsFailure ? 'on' : 'off'}`,
    `source address IPv4 ${dc.sourceAddressV4 ?? 'none'}`,
    `IPv6 ${dc.sourceAddressV6 ?? 'none'}`,
  ].join(', ');
}

/** The entries (default + domains) as a YAML document that `importDestinations` reads back. */
export function exportDestinations(config: Config): string {
  const doc = { default: config.destinationControls.default, domains: config.destinationControls.domains };
  return `# Gatehouse destination controls (destconfig export); load with: gatehouse destconfig import FILE\n${YAML.stringify(doc)}`;
}

/**
 * Replaces the default entry and every domain entry with those of a YAML
 * document (`default:` and `domains:`; a part left out takes the built-in
 * defaults / no entries). The document is validated as a whole first; every
 * error is reported with its path in the file and nothing changes.
 */
export function importDestinations(draft: Config, text: string, source: string): { domains: number } {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new ConfigError([`${source}: not valid YAML: ${(err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''}`]);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError([`${source}: must be a mapping with default: and domains:`]);
  const record = doc as Record<string, unknown>;
  const errors = Object.keys(record)
    .filter((k) => k !== 'default' && k !== 'domains')
    .map((k) => `${source}: ${k}: unknown setting (expected default and domains)`);
  const domains = record['domains'] ?? [];
  /** Keys whose error is already reported (the schema would repeat it less clearly). */
  const reported = new Set<string>();
  if (Array.isArray(domains)) {
    domains.forEach((d: unknown, i) => {
      if (d !== null && typeof d === 'object' && typeof (d as { domain?: unknown }).domain === 'string') {
        const entry = d as { domain: string };
        try {
          entry.domain = toDestinationKey(entry.domain);
        } catch (err) {
          errors.push(`${source}: domains[${i}].domain: ${err instanceof Error ? err.message : String(err)}`);
          reported.add(`domains[${i}].domain`);
        }
      }
    });
  }
  const candidate = { ...structuredClone(draft), destinationControls: { ...draft.destinationControls, default: record['default'] ?? {}, domains } };
  const v = validateConfig(candidate);
  if (!v.ok) {
    for (const e of v.errors) {
      const inFile = e.startsWith('destinationControls.') ? e.slice('destinationControls.'.length) : null;
      if (inFile !== null && reported.has(inFile.slice(0, inFile.indexOf(':')))) continue;
      if (inFile !== null) errors.push(`${source}: ${inFile}`);
      else if (e.startsWith('destinationControls:')) errors.push(`${source}:${e.slice('destinationControls:'.length)}`);
    }
    if (errors.length === 0) errors.push(...v.errors);
  }
  if (errors.length > 0) throw new ConfigError(errors);
  if (!v.ok) throw new ConfigError(v.errors);
  draft.destinationControls.default = v.config.destinationControls.default;
  draft.destinationControls.domains = v.config.destinationControls.domains;
  return { domains: v.config.destinationControls.domains.length };
}
