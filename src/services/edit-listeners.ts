/**
 * Editing listeners and their recipient access tables (SPEC §4.1), as pure
 * functions over a configuration draft: the CLI runs them inside `editStaged`,
 * the GUI will too. They refuse what they can explain better than the schema
 * (unknown names, duplicates, wrong listener type) with a `UserError`; field
 * ranges (port 1-65535, host name syntax, missing certificate profiles) are
 * left to full validation, which names the field.
 */
import net from 'node:net';
import { UserError } from '../core/errors.js';
import { defaultHat } from '../config/default-hat.js';
import type { Config, Listener } from '../config/schema.js';

export type ListenerType = Listener['type'];

function names(list: readonly { name: string }[]): string {
  return list.length === 0 ? 'none' : list.map((x) => x.name).join(', ');
}

/** The listener called `name` (case-insensitive), or a refusal that lists the listeners there are. */
export function findListener(config: Config, name: string): Listener {
  const listener = config.listeners.find((l) => l.name === name) ?? config.listeners.find((l) => l.name.toLowerCase() === name.toLowerCase());
  if (listener === undefined) throw new UserError(`no listener named ${name} (listeners: ${names(config.listeners)})`);
  return listener;
}

function checkAddress(address: string): string {
  const a = address.trim();
  if (net.isIP(a) === 0) throw new UserError(`address "${address}" is not an IP address (e.g. 127.0.0.1, 0.0.0.0 or ::)`);
  return a;
}

function checkCertificates(certificates: readonly string[]): string[] {
  if (certificates.length === 0) throw new UserError('a listener needs at least one certificate profile (see certconfig list)');
  return [...certificates];
}

export interface NewListener {
  name: string;
  type: ListenerType;
  address: string;
  port: number;
  hostname?: string | undefined;
  /** Profile names, the first is the default; absent: `Demo` when it exists, else the first profile. */
  certificates?: readonly string[] | undefined;
}

/** Adds a listener with the default HAT of its type; a public listener's RAT starts empty. */
export function addListener(draft: Config, spec: NewListener): Listener {
  if (draft.listeners.some((l) => l.name.toLowerCase() === spec.name.toLowerCase())) {
    throw new UserError(`a listener named ${spec.name} already exists (use listenerconfig edit to change it)`);
  }
  const fallback = draft.certificates.find((c) => c.name === 'Demo')?.name ?? draft.certificates[0]?.name ?? 'Demo';
  const listener: Listener = {
    name: spec.name,
    type: spec.type,
    address: checkAddress(spec.address),
    port: spec.port,
    ...(spec.hostname !== undefined ? { hostname: spec.hostname.toLowerCase() } : {}),
    certificates: spec.certificates !== undefined ? checkCertificates(spec.certificates) : [fallback],
    rat: [],
    ...structuredClone(defaultHat(spec.type)),
  };
  draft.listeners.push(listener);
  return listener;
}

export interface ListenerChanges {
  address?: string | undefined;
  port?: number | undefined;
  /** `''` removes the listener's own host name (the global one applies). */
  hostname?: string | undefined;
  certificates?: readonly string[] | undefined;
}

export function editListener(draft: Config, name: string, changes: ListenerChanges): Listener {
  const listener = findListener(draft, name);
  if (changes.address !== undefined) listener.address = checkAddress(changes.address);
  if (changes.port !== undefined) listener.port = changes.port;
  if (changes.hostname !== undefined) {
    if (changes.hostname.trim() === '') delete listener.hostname;
    else listener.hostname = changes.hostname.trim().toLowerCase();
  }
  if (changes.certificates !== undefined) listener.certificates = checkCertificates(changes.certificates);
  return listener;
}

/** Removes a listener (the last one too: a gateway without listeners only delivers). */
export function deleteListener(draft: Config, name: string): Listener {
  const listener = findListener(draft, name);
  draft.listeners = draft.listeners.filter((l) => l !== listener);
  return listener;
}

const DOMAIN_LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** `example.com` or `.example.com`, lower-cased, trailing dot dropped; refuses anything else. */
export function toRatEntry(input: string): string {
  const entry = input.trim().toLowerCase().replace(/\.$/, '');
  const domain = entry.startsWith('.') ? entry.slice(1) : entry;
  if (domain === '' || domain.length > 253 || !domain.split('.').every((l) => DOMAIN_LABEL.test(l))) {
    throw new UserError(`"${input}" is not a domain: use example.com (that domain) or .example.com (its subdomains)`);
  }
  return entry;
}

function publicListener(draft: Config, name: string): Listener {
  const listener = findListener(draft, name);
  if (listener.type !== 'public') throw new UserError(`listener ${listener.name} is private: only public listeners have a recipient access table`);
  return listener;
}

export function addRatEntry(draft: Config, listenerName: string, domain: string): string {
  const listener = publicListener(draft, listenerName);
  const entry = toRatEntry(domain);
  if (listener.rat.includes(entry)) throw new UserError(`${entry} is already in the recipient access table of ${listener.name}`);
  listener.rat.push(entry);
  return entry;
}

export function deleteRatEntry(draft: Config, listenerName: string, domain: string): string {
  const listener = publicListener(draft, listenerName);
  const entry = toRatEntry(domain);
  if (!listener.rat.includes(entry)) {
    throw new UserError(`${entry} is not in the recipient access table of ${listener.name} (entries: ${listener.rat.length === 0 ? 'none' : listener.rat.join(', ')})`);
  }
  listener.rat = listener.rat.filter((d) => d !== entry);
  return entry;
}
