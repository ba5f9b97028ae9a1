/**
 * Host access table (SPEC §4.2): ordered sender groups, the first group with a
 * member matching the connecting host wins. Member syntax:
 *
 * | member              | matches                                                         |
 * |---------------------|-----------------------------------------------------------------|
 * | `10.1.1.1`, `::1`   | that address (an IPv4-mapped client counts as IPv4)             |
 * | `10.0.0.0/8`        | the CIDR block                                                  |
 * | `10.1.1.1-10.1.1.50`, `10.1.1.1-50` | the inclusive range (short form: last octets) |
 * | `mail.example.com`  | a VERIFIED reverse-DNS host equal to it (case-insensitive)      |
 * | `.example.com`      | a VERIFIED reverse-DNS host equal to or under the domain        |
 * | `sbrs[-10:-3.5]`    | a reputation score a <= score <= b; never when no score (null)   |
 * | `ALL`               | everything                                                      |
 */
import type { SenderGroup } from '../config/schema.js';
import { isIpInPattern, parseIp, parseIpPattern, type IpAddress, type IpPattern } from './ip-match.js';

/** What the HAT knows about the connecting host when it picks a sender group. */
export interface ConnectingHost {
  ip: string;
  /** From `lookupReverseDns`: the PTR name, and whether it forward-confirms. */
  reverseDns: { host: string | null; verified: boolean };
  /** From `lookupSbrs`: null when no reputation source is configured. */
  sbrs: number | null;
}

/** The kinds of member a sender group can hold. */
export type MemberKind = 'ip' | 'cidr' | 'range' | 'hostname' | 'domain' | 'sbrs' | 'all';

/** A parsed member; `text` is the member as written (what the log line shows). */
export type MemberRule =
  | { kind: 'ip' | 'cidr' | 'range'; text: string; pattern: IpPattern }
  | { kind: 'hostname'; text: string; host: string }
  | { kind: 'domain'; text: string; domain: string }
  | { kind: 'sbrs'; text: string; min: number; max: number }
  | { kind: 'all'; text: string };

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;
const SBRS = /^sbrs\[\s*([+-]?\d+(?:\.\d+)?)\s*:\s*([+-]?\d+(?:\.\d+)?)\s*\]$/i;
const SBRS_MIN = -10;
const SBRS_MAX = 10;

/** Lower-cases a host name and drops one trailing dot; null when it is not a valid host name. */
function normalizeHostname(text: string): string | null {
  const host = text.toLowerCase().replace(/\.$/, '');
  if (host.length === 0 || host.length > 253) return null;
  return host.split('.').every((l) => LABEL.test(l)) ? host : null;
}

/** Looks like an attempt at an IP pattern (digits, dots, dashes, a slash or a colon) rather than a host name. */
function looksLikeIp(text: string): boolean {
  return text.includes(':') || text.includes('/') || /^[\d.\s-]+$/.test(text);
}

/** Parses one sender group member; `{ error }` says what is wrong with it. */
export function parseMember(member: string): MemberRule | { error: string } {
  const text = member.trim();
  if (text === '') return { error: 'empty member' };
  if (text === 'ALL') return { kind: 'all', text: member };
  if (/^all$/i.test(text)) return { error: `"${text}": the catch-all member is written ALL (upper case)` };

  if (/^sbrs\[/i.test(text)) {
    const m = SBRS.exec(text);
    if (m === null) return { error: `"${text}": a reputation range is written sbrs[MIN:MAX], e.g. sbrs[-10.0:-3.0]` };
    const min = Number(m[1]);
    const max = Number(m[2]);
    if (min < SBRS_MIN || max > SBRS_MAX) return { error: `"${text}": reputation scores run from ${SBRS_MIN} to ${SBRS_MAX}` };
    if (min > max) return { error: `"${text}": the range ends before it starts (${min} > ${max})` };
    return { kind: 'sbrs', text: member, min, max };
  }

  if (text.startsWith('.')) {
    const domain = normalizeHostname(text.slice(1));
    if (domain === null) return { error: `"${text}": not a domain (.example.com matches hosts under example.com)` };
    return { kind: 'domain', text: member, domain };
  }

  if (looksLikeIp(text)) {
    if (/^\d{1,3}(\.\d{1,3}){0,2}\.$/.test(text)) {
      return { error: `"${text}": partial addresses are not supported; use a CIDR block such as 10.1.1.0/24` };
    }
    const pattern = parseIpPattern(text);
    if ('error' in pattern) return { error: `"${text}": ${pattern.error} (expected an IP address, CIDR block or range)` };
    return { kind: pattern.kind, text: member, pattern };
  }

  const host = normalizeHostname(text);
  if (host === null) return { error: `"${text}": not an IP address, CIDR block, range, host name, .domain, sbrs[a:b] or ALL` };
  return { kind: 'hostname', text: member, host };
}

/** The problem with a member, or null when it is valid (config validation and the CLI). */
export function validateMember(member: string): string | null {
  const parsed = parseMember(member);
  return 'error' in parsed ? parsed.error : null;
}

const cache = new Map<string, MemberRule | { error: string }>();
const CACHE_LIMIT = 10_000;

function cachedMember(member: string): MemberRule | { error: string } {
  let parsed = cache.get(member);
  if (parsed === undefined) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    parsed = parseMember(member);
    cache.set(member, parsed);
  }
  return parsed;
}

function verifiedHost(host: ConnectingHost): string | null {
  if (!host.reverseDns.verified || host.reverseDns.host === null) return null;
  return host.reverseDns.host.toLowerCase().replace(/\.$/, '');
}

/** Whether one parsed member matches the host. `ip` may be passed pre-parsed (null: not an address). */
export function isMemberMatch(rule: MemberRule, host: ConnectingHost, ip: IpAddress | null = parseIp(host.ip)): boolean {
  switch (rule.kind) {
    case 'all':
      return true;
    case 'ip':
    case 'cidr':
    case 'range':
      return ip !== null && isIpInPattern(ip, rule.pattern);
    case 'hostname':
      return verifiedHost(host) === rule.host;
    case 'domain': {
      const name = verifiedHost(host);
      return name !== null && (name === rule.domain || name.endsWith(`.${rule.domain}`));
    }
    case 'sbrs':
      return host.sbrs !== null && Number.isFinite(host.sbrs) && host.sbrs >= rule.min && host.sbrs <= rule.max;
  }
}

/**
 * The first sender group (in order) with a member matching the host, and the
 * member text that matched (for `SG <group> match <rule>`); null when none
 * does. Invalid members never match (validation reports them).
 */
export function matchSenderGroup(groups: readonly SenderGroup[], host: ConnectingHost): { group: SenderGroup; rule: string } | null {
  const ip = parseIp(host.ip);
  for (const group of groups) {
    for (const member of group.members) {
      const rule = cachedMember(member);
      if (!('error' in rule) && isMemberMatch(rule, host, ip)) return { group, rule: member };
    }
  }
  return null;
}
