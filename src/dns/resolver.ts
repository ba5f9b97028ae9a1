/**
 * The DNS client the gateway uses (SPEC §5.1): a thin interface over Node's
 * c-ares `Resolver`, so tests and later modules can inject their own. Servers
 * come from `dns.servers` (`host[:port]`, `[v6]:port`); empty means the
 * system resolver. Errors are Node's, with their codes kept: ENOTFOUND
 * (NXDOMAIN), ENODATA (no record of that type), ESERVFAIL, ETIMEOUT,
 * ECONNREFUSED, EREFUSED...
 */
import { Resolver } from 'node:dns/promises';
import net from 'node:net';

/** The lookups the gateway needs. Names are returned as the server wrote them (no trailing dot). */
export interface DnsResolver {
  /** PTR names of an address. */
  reverse(ip: string): Promise<string[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  /** MX records in answer order; a null MX (RFC 7505) has `exchange` `''`. */
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
}

export interface ResolverOptions {
  /** `ip`, `ip:port`, `v6`, `[v6]` or `[v6]:port`; `localhost` means 127.0.0.1. Empty: the system's servers. */
  servers: string[];
  /** Time for the first try; c-ares makes 2 tries and lengthens the second. */
  timeoutMs: number;
}

const TRIES = 2;

/**
 * Turns a `dns.servers` entry into the form `Resolver.setServers` takes.
 * Throws a plain Error naming the entry when it is not an IP address (the
 * resolver cannot itself resolve a server's host name).
 */
export function toResolverServer(entry: string): string {
  const text = entry.trim();
  let host = text;
  let port: string | null = null;
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? '';
    port = bracketed[2] ?? null;
  } else if (net.isIPv6(text)) {
    host = text;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0) {
      host = text.slice(0, colon);
      port = text.slice(colon + 1);
    }
  }
  if (host.toLowerCase() === 'localhost') host = '127.0.0.1';
  if (port !== null && (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)) {
    throw new Error(`dns.servers: "${entry}": bad port`);
  }
  const family = net.isIP(host);
  if (family === 0) throw new Error(`dns.servers: "${entry}": must be an IP address (with an optional :port)`);
  if (port === null) return host;
  return family === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A resolver on the given servers (the system's when empty), with a per-try timeout and 2 tries. */
export function createResolver(options: ResolverOptions): DnsResolver {
  const resolver = new Resolver({ timeout: Math.max(1, Math.round(options.timeoutMs)), tries: TRIES });
  if (options.servers.length > 0) resolver.setServers(options.servers.map(toResolverServer));
  return {
    reverse: (ip) => resolver.reverse(ip),
    resolve4: (name) => resolver.resolve4(name),
    resolve6: (name) => resolver.resolve6(name),
    resolveMx: async (name) => (await resolver.resolveMx(name)).map((r) => ({ exchange: r.exchange, priority: r.priority })),
  };
}
