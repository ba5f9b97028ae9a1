/**
 * The change list `showchanges` prints (SPEC §3): one line per change between
 * two configurations,
 *
 *   + path: value         added (a setting, a list element, a whole named object)
 *   - path                removed; a removed list value is named: `- path[i]: value`
 *   ~ path: old -> new    changed
 *
 * Path convention: plain settings as in validation errors (`smtp.maxConnections`);
 * elements of lists of named objects by their name in brackets — listeners,
 * sender groups, mail flow policies, certificate profiles, users by `name`,
 * SMTP routes and destination controls by `domain`, alert recipients by
 * `address`, DNSBL zones by `zone` — so inserting or reordering reads naturally:
 * `~ listeners[IncomingMail].policies[THROTTLED].tls: preferred -> required`.
 * A reorder of named objects is one line `~ path: order A, B -> B, A`. Lists of
 * plain values (RAT, members, host lists) are diffed element by element
 * (`+ listeners[IncomingMail].rat[0]: example.com`, index in the new list for
 * additions, in the old list for removals); a pure reorder of them is
 * `~ path: [a, b] -> [b, a]`.
 *
 * Secrets never appear: password hashes and key references render as
 * `(secret)`; PEM certificates as `certificate <CN>, sha256 AB:CD:…`.
 */
import crypto from 'node:crypto';
import type { Config } from '../config/schema.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Segment = { kind: 'prop'; name: string } | { kind: 'index'; index: number } | { kind: 'named'; name: string };

/** Keys that identify an element of a list of objects, in order of preference. */
const IDENTITY_KEYS = ['name', 'domain', 'address', 'zone'] as const;

export const SECRET = '(secret)';

export function diffConfigs(a: Config, b: Config): string[] {
  const out: string[] = [];
  diffValue(toJson(a), toJson(b), [], out);
  return out;
}

function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value)) as Json;
}

function formatPath(path: readonly Segment[]): string {
  let s = '';
  for (const seg of path) {
    if (seg.kind === 'prop') s += s === '' ? seg.name : `.${seg.name}`;
    else if (seg.kind === 'index') s += `[${seg.index}]`;
    else s += `[${seg.name}]`;
  }
  return s === '' ? '(document)' : s;
}

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
}

function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function diffValue(a: Json, b: Json, path: Segment[], out: string[]): void {
  if (sameJson(a, b)) return;
  if (isObject(a) && isObject(b)) return diffObject(a, b, path, out);
  if (Array.isArray(a) && Array.isArray(b)) return diffArray(a, b, path, out);
  out.push(`~ ${formatPath(path)}: ${render(a, path)} -> ${render(b, path)}`);
}

function diffObject(a: { [key: string]: Json }, b: { [key: string]: Json }, path: Segment[], out: string[]): void {
  const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !(k in a))];
  for (const key of keys) {
    const child: Segment[] = [...path, { kind: 'prop', name: key }];
    const av = a[key];
    const bv = b[key];
    if (av === undefined && bv !== undefined) out.push(`+ ${formatPath(child)}: ${render(bv, child)}`);
    else if (av !== undefined && bv === undefined) out.push(`- ${formatPath(child)}`);
    else if (av !== undefined && bv !== undefined) diffValue(av, bv, child, out);
  }
}

/** The identity key shared by every element of both lists, if the elements are uniquely named objects. */
function identityKey(a: Json[], b: Json[]): string | null {
  const all = [...a, ...b];
  if (all.length === 0 || !all.every(isObject)) return null;
  for (const key of IDENTITY_KEYS) {
    const objects = all as { [key: string]: Json }[];
    if (!objects.every((o) => typeof o[key] === 'string')) continue;
    const unique = (list: Json[]): boolean => new Set(list.map((o) => (o as { [k: string]: Json })[key])).size === list.length;
    if (unique(a) && unique(b)) return key;
  }
  return null;
}

function diffArray(a: Json[], b: Json[], path: Segment[], out: string[]): void {
  const key = identityKey(a, b);
  if (key !== null) return diffNamedArray(a as { [k: string]: Json }[], b as { [k: string]: Json }[], key, path, out);
  if ([...a, ...b].every((v) => !isObject(v) && !Array.isArray(v))) return diffScalarArray(a, b, path, out);
  // Lists of unnamed objects: element by element.
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const child: Segment[] = [...path, { kind: 'index', index: i }];
    const av = a[i];
    const bv = b[i];
    if (av === undefined && bv !== undefined) out.push(`+ ${formatPath(child)}: ${render(bv, child)}`);
    else if (av !== undefined && bv === undefined) out.push(`- ${formatPath(child)}`);
    else if (av !== undefined && bv !== undefined) diffValue(av, bv, child, out);
  }
}

function diffNamedArray(a: { [k: string]: Json }[], b: { [k: string]: Json }[], key: string, path: Segment[], out: string[]): void {
  const nameOf = (o: { [k: string]: Json }): string => String(o[key]);
  const before = new Map(a.map((o) => [nameOf(o), o]));
  const after = new Map(b.map((o) => [nameOf(o), o]));
  for (const o of a) {
    if (!after.has(nameOf(o))) out.push(`- ${formatPath([...path, { kind: 'named', name: nameOf(o) }])}`);
  }
  for (const o of b) {
    const name = nameOf(o);
    const child: Segment[] = [...path, { kind: 'named', name }];
    const old = before.get(name);
    if (old === undefined) out.push(`+ ${formatPath(child)}: ${render(o, child)}`);
    else diffValue(old, o, child, out);
  }
  const commonBefore = a.map(nameOf).filter((n) => after.has(n));
  const commonAfter = b.map(nameOf).filter((n) => before.has(n));
  if (commonBefore.join('\u0000') !== commonAfter.join('\u0000')) {
    out.push(`~ ${formatPath(path)}: order ${commonBefore.join(', ')} -> ${commonAfter.join(', ')}`);
  }
}

function diffScalarArray(a: Json[], b: Json[], path: Segment[], out: string[]): void {
  const as = a.map((v) => JSON.stringify(v));
  const bs = b.map((v) => JSON.stringify(v));
  if (as.length === bs.length && [...as].sort().join('\u0000') === [...bs].sort().join('\u0000')) {
    out.push(`~ ${formatPath(path)}: ${render(a, path)} -> ${render(b, path)}`);
    return;
  }
  // Longest common subsequence: what is outside it was removed (old index) or added (new index).
  const lcs: number[][] = Array.from({ length: as.length + 1 }, () => new Array<number>(bs.length + 1).fill(0));
  for (let i = as.length - 1; i >= 0; i--) {
    for (let j = bs.length - 1; j >= 0; j--) {
      lcs[i]![j] = as[i] === bs[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < as.length || j < bs.length) {
    if (i < as.length && j < bs.length && as[i] === bs[j]) {
      i++;
      j++;
    } else if (j >= bs.length || (i < as.length && lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      const child: Segment[] = [...path, { kind: 'index', index: i }];
      removed.push(`- ${formatPath(child)}: ${render(a[i]!, child)}`);
      i++;
    } else {
      const child: Segment[] = [...path, { kind: 'index', index: j }];
      added.push(`+ ${formatPath(child)}: ${render(b[j]!, child)}`);
      j++;
    }
  }
  out.push(...removed, ...added);
}

// ---------------------------------------------------------------- rendering

/** True for values that must never be shown: password hashes and private key references. */
function isSecretPath(path: readonly Segment[]): boolean {
  const last = path[path.length - 1];
  if (last?.kind !== 'prop') return false;
  const parent = path.length >= 3 ? path[path.length - 3] : undefined;
  if (last.name === 'passwordHash') return true;
  return last.name === 'key' && parent?.kind === 'prop' && parent.name === 'certificates' && path.length === 3;
}

/** `certificate <CN>, sha256 AB:CD:EF:01…` for a PEM certificate; a short note for other PEM blocks. */
export function summarizePem(pem: string): string {
  if (pem.includes('PRIVATE KEY')) return SECRET;
  try {
    const cert = new crypto.X509Certificate(pem);
    const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? cert.subject.replace(/\n/g, ', ');
    const fp = crypto.createHash('sha256').update(cert.raw).digest('hex').toUpperCase();
    const short = (fp.match(/../g) ?? []).slice(0, 8).join(':');
    return `certificate ${cn}, sha256 ${short}…`;
  } catch {
    return `(PEM, ${pem.length} bytes)`;
  }
}

const PLAIN_STRING = /^[A-Za-z0-9_.@:/$+*=-][A-Za-z0-9_.@:/$+*=\- ]*$/;

function render(value: Json, path: readonly Segment[]): string {
  if (isSecretPath(path)) return SECRET;
  if (value === null) return 'none';
  if (typeof value === 'string') {
    if (value.includes('-----BEGIN')) return summarizePem(value);
    return PLAIN_STRING.test(value) && !value.endsWith(' ') ? value : JSON.stringify(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map((v, i) => render(v, [...path, { kind: 'index', index: i }])).join(', ')}]`;
  const fields = Object.entries(value).map(([k, v]) => `${k}: ${render(v, [...path, { kind: 'prop', name: k }])}`);
  return `{${fields.join(', ')}}`;
}
