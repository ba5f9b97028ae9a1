/**
 * IP addresses, CIDR blocks and ranges as the host access table writes them
 * (SPEC §4.2). Pure functions: addresses become bigints of their family, so a
 * pattern is always an inclusive `[start, end]` interval.
 *
 * IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are IPv4 everywhere: a mapped
 * client matches `10.0.0.0/8`, and `::ffff:10.0.0.0/104` is `10.0.0.0/8`.
 */

export type IpFamily = 4 | 6;

/** A parsed address: its family and its value (32 or 128 bits). */
export interface IpAddress {
  family: IpFamily;
  value: bigint;
}

/** What a host access table member looked like: a single address, a CIDR block or a range. */
export type IpPatternKind = 'ip' | 'cidr' | 'range';

/** A parsed IP pattern: every address from `start` to `end` inclusive, in one family. */
export interface IpPattern {
  kind: IpPatternKind;
  family: IpFamily;
  start: bigint;
  end: bigint;
}

const V4_BITS = 32;
const V6_BITS = 128;
const V4_MAX = (1n << 32n) - 1n;

function bitsOf(family: IpFamily): number {
  return family === 4 ? V4_BITS : V6_BITS;
}

/** Parses dotted-quad IPv4 strictly (four decimal octets 0-255, no leading zeros). */
function parseV4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const p of parts) {
    const octet = parseOctet(p);
    if (octet === null) return null;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseOctet(p: string): number | null {
  if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
  const n = Number(p);
  return n <= 255 ? n : null;
}

/** Parses IPv6 text (with `::` and an optional trailing dotted quad), no zone id. */
function parseV6(text: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return null;
  let head = text;
  let tailV4: bigint | null = null;
  if (text.includes('.')) {
    const cut = text.lastIndexOf(':');
    tailV4 = parseV4(text.slice(cut + 1));
    if (tailV4 === null) return null;
    // Keep the separator so "::1.2.3.4" still ends with "::".
    head = text.slice(0, cut + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const groupsWanted = tailV4 === null ? 8 : 6;
  const doubles = head.split('::').length - 1;
  if (doubles > 1) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (doubles === 1) {
    const [left = '', right = ''] = head.split('::');
    const l = parseGroups(left);
    const r = parseGroups(right);
    if (l === null || r === null) return null;
    const missing = groupsWanted - l.length - r.length;
    if (missing < 1) return null;
    groups = [...l, ...new Array<number>(missing).fill(0), ...r];
  } else {
    const g = parseGroups(head);
    if (g === null || g.length !== groupsWanted) return null;
    groups = g;
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  if (tailV4 !== null) value = (value << 32n) | tailV4;
  return value;
}

/**
 * Parses an IPv4 or IPv6 address. IPv4-mapped IPv6 (`::ffff:1.2.3.4`, also in
 * hex form) becomes IPv4; a zone id (`fe80::1%eth0`) and brackets are dropped.
 * Returns null for anything else.
 */
export function parseIp(text: string): IpAddress | null {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0 && s.includes(':')) s = s.slice(0, zone);
  if (!s.includes(':')) {
    const v4 = parseV4(s);
    return v4 === null ? null : { family: 4, value: v4 };
  }
  const v6 = parseV6(s);
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn) return { family: 4, value: v6 & V4_MAX };
  return { family: 6, value: v6 };
}

/** Whether `text` is an IPv4 or IPv6 address (mapped forms included). */
export function isIp(text: string): boolean {
  return parseIp(text) !== null;
}

/** Formats a parsed address: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    const v = ip.value;
    return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The canonical text of an address (`::ffff:1.2.3.4` → `1.2.3.4`, IPv6 compressed lower case), or null if it is not one. */
export function normalizeIp(text: string): string | null {
  const ip = parseIp(text);
  return ip === null ? null : formatIp(ip);
}

/** Whether two address texts name the same address (`::ffff:1.2.3.4` equals `1.2.3.4`). */
export function isSameIp(a: string, b: string): boolean {
  const x = parseIp(a);
  const y = parseIp(b);
  return x !== null && y !== null && x.family === y.family && x.value === y.value;
}

/** Loopback: 127.0.0.0/8, `::1`, and their mapped forms. */
export function isLoopbackIp(text: string): boolean {
  const ip = parseIp(text);
  if (ip === null) return false;
  return ip.family === 4 ? ip.value >> 24n === 127n : ip.value === 1n;
}

/**
 * The labels of an address in reverse-lookup order without a suffix:
 * `1.2.3.4` → `4.3.2.1`; IPv6 → 32 nibbles (`...0.8.b.d.0.1.0.0.2`).
 * Append `.in-addr.arpa`/`.ip6.arpa` for PTR, or a DNSBL zone.
 */
export function reversedIpLabels(text: string): string | null {
  const ip = parseIp(text);
  if (ip === null) return null;
  if (ip.family === 4) return formatIp(ip).split('.').reverse().join('.');
  const nibbles: string[] = [];
  for (let i = 0; i < 32; i++) nibbles.push(Number((ip.value >> BigInt(i * 4)) & 0xfn).toString(16));
  return nibbles.join('.');
}

function mask(family: IpFamily, prefix: number): bigint {
  const bits = bitsOf(family);
  return ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
}

/**
 * Parses `a.b.c.d/n` or `v6/n`. Host bits are ignored (`10.1.1.5/24` is
 * `10.1.1.0/24`). A mapped IPv6 block of /96 or longer becomes IPv4.
 */
function parseCidr(text: string): IpPattern | { error: string } {
  const slash = text.indexOf('/');
  const addrText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return { error: `bad prefix length "/${prefixText}"` };
  let prefix = Number(prefixText);
  const isV6Text = addrText.includes(':');
  const raw = isV6Text ? parseV6(addrText) : parseV4(addrText);
  if (raw === null) return { error: `"${addrText}" is not an IP address` };
  let family: IpFamily = isV6Text ? 6 : 4;
  let value = raw;
  if (prefix > bitsOf(family)) return { error: `prefix length /${prefix} is longer than ${bitsOf(family)}` };
  if (family === 6 && prefix >= 96 && raw >> 32n === 0xffffn) {
    family = 4;
    value = raw & V4_MAX;
    prefix -= 96;
  }
  const m = mask(family, prefix);
  const start = value & m;
  const end = start | (((1n << BigInt(bitsOf(family))) - 1n) ^ m);
  return { kind: 'cidr', family, start, end };
}

/**
 * Parses `start-end`. Both ends in full, or the appliance short form for IPv4
 * where the right side replaces the last octets of the left: `10.1.1.1-50`
 * (10.1.1.1 to 10.1.1.50), `10.1.1.1-2.50` (to 10.1.2.50).
 */
function parseRange(text: string): IpPattern | { error: string } {
  const dash = text.indexOf('-');
  const leftText = text.slice(0, dash).trim();
  let rightText = text.slice(dash + 1).trim();
  const left = parseIp(leftText);
  if (left === null) return { error: `"${leftText}" is not an IP address` };
  if (left.family === 4 && /^\d{1,3}(\.\d{1,3}){0,2}$/.test(rightText)) {
    const given = rightText.split('.');
    rightText = [...formatIp(left).split('.').slice(0, 4 - given.length), ...given].join('.');
  }
  const right = parseIp(rightText);
  if (right === null) return { error: `"${text.slice(dash + 1).trim()}" is not an IP address or a last octet` };
  if (right.family !== left.family) return { error: 'both ends of a range must be the same IP version' };
  if (right.value < left.value) return { error: 'the range ends before it starts' };
  return { kind: 'range', family: left.family, start: left.value, end: right.value };
}

/**
 * Parses an address, CIDR block or range into an interval; an error (a short
 * reason) when the text is none of these.
 */
export function parseIpPattern(text: string): IpPattern | { error: string } {
  const s = text.trim();
  if (s === '') return { error: 'empty' };
  if (s.includes('/')) return parseCidr(s);
  if (s.includes('-')) return parseRange(s);
  const ip = parseIp(s);
  if (ip === null) return { error: `"${s}" is not an IP address` };
  return { kind: 'ip', family: ip.family, start: ip.value, end: ip.value };
}

/** Whether `ip` (text or parsed) lies in `pattern`. A mapped client is compared as IPv4. */
export function isIpInPattern(ip: string | IpAddress, pattern: IpPattern): boolean {
  const addr = typeof ip === 'string' ? parseIp(ip) : ip;
  if (addr === null || addr.family !== pattern.family) return false;
  return addr.value >= pattern.start && addr.value <= pattern.end;
}

/** Whether `ip` matches the pattern text (address, CIDR or range); false when either does not parse. */
export function matchIp(patternText: string, ip: string): boolean {
  const pattern = parseIpPattern(patternText);
  return !('error' in pattern) && isIpInPattern(ip, pattern);
}
