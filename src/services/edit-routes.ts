/**
 * Editing SMTP routes (SPEC §5.1): `domain → host[:port] list`, tried in
 * order, overriding DNS. Keys: `example.com`, `.example.com` (its
 * subdomains) or `ALL` (the catch-all). Pure functions over a draft.
 */
import net from 'node:net';
import { UserError } from '../core/errors.js';
import type { Config, SmtpRoute } from '../config/schema.js';

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

function isHostname(name: string): boolean {
  return name.length > 0 && name.length <= 253 && name.split('.').every((l) => LABEL.test(l));
}

/** `ALL`, `example.com` or `.example.com` (lower-cased, trailing dot dropped). */
export function toRouteDomain(input: string): string {
  const text = input.trim().replace(/\.$/, '');
  if (text.toUpperCase() === 'ALL') return 'ALL';
  const domain = text.toLowerCase();
  if (!isHostname(domain.startsWith('.') ? domain.slice(1) : domain)) {
    throw new UserError(`"${input}" is not a route domain: use example.com, .example.com (its subdomains) or ALL (every other domain)`);
  }
  return domain;
}

/** `host`, `host:port`, `1.2.3.4:25`, `[2001:db8::1]:25`; refuses anything else, naming it. */
export function toRouteHost(input: string): string {
  const text = input.trim();
  const bad = (why: string): UserError => new UserError(`route host "${input}": ${why} (use HOST or HOST:PORT, e.g. mx.example.com:25 or [2001:db8::1]:25)`);
  if (net.isIPv6(text)) return `[${text}]`;
  const m = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d+))?$/.exec(text);
  const host = m?.[1];
  const port = m?.[2];
  if (host === undefined) throw bad('not a host name or address');
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw bad('port must be 1-65535');
  if (host.startsWith('[')) {
    if (!net.isIPv6(host.slice(1, -1))) throw bad('not an IPv6 address in brackets');
  } else if (!net.isIPv4(host) && !isHostname(host.toLowerCase())) {
    throw bad('not a host name or address');
  }
  return `${host.startsWith('[') ? host : host.toLowerCase()}${port !== undefined ? `:${Number(port)}` : ''}`;
}

export function findRoute(config: Config, domain: string): SmtpRoute {
  const key = toRouteDomain(domain);
  const route = config.smtpRoutes.find((r) => r.domain.toLowerCase() === key.toLowerCase());
  if (route === undefined) throw new UserError(`no SMTP route for ${key} (routes: ${config.smtpRoutes.map((r) => r.domain).join(', ') || 'none'})`);
  return route;
}

export function addRoute(draft: Config, domain: string, hosts: readonly string[]): SmtpRoute {
  const key = toRouteDomain(domain);
  if (hosts.length === 0) throw new UserError(`a route needs at least one HOST[:PORT]`);
  if (draft.smtpRoutes.some((r) => r.domain.toLowerCase() === key.toLowerCase())) {
    throw new UserError(`a route for ${key} already exists: delete it first (smtproutes delete ${key})`);
  }
  const route: SmtpRoute = { domain: key, hosts: hosts.map(toRouteHost) };
  draft.smtpRoutes.push(route);
  return route;
}

export function deleteRoute(draft: Config, domain: string): SmtpRoute {
  const route = findRoute(draft, domain);
  draft.smtpRoutes = draft.smtpRoutes.filter((r) => r !== route);
  return route;
}
