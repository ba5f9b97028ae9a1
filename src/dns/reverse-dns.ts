/**
 * Verified reverse DNS of a connecting host (SPEC §4.2, §5.1): PTR, then
 * forward-confirm (one PTR name's A/AAAA records include the address).
 * Loopback clients are answered locally as `localhost` without a query.
 */
import { isLoopbackIp, isSameIp, normalizeIp, parseIp } from '../policy/ip-match.js';
import type { DnsResolver } from './resolver.js';

/** The outcome: the PTR host (lower case, no trailing dot) or null, and whether it forward-confirms. */
export interface ReverseDns {
  host: string | null;
  verified: boolean;
}

/** At most this many PTR names are forward-checked (bounds the queries one client can cause). */
const MAX_PTR_NAMES = 5;

function cleanName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * Looks up the verified reverse DNS of `ip` (`::ffff:a.b.c.d` is treated as
 * `a.b.c.d`). Never throws: a failed PTR lookup gives `{ host: null,
 * verified: false }`; a PTR name that does not forward-confirm (or whose
 * forward lookup fails) gives that name with `verified: false`. With several
 * PTR names, the first that confirms wins.
 */
export async function lookupReverseDns(ip: string, resolver: DnsResolver): Promise<ReverseDns> {
  const parsed = parseIp(ip);
  const address = normalizeIp(ip);
  if (parsed === null || address === null) return { host: null, verified: false };
  if (isLoopbackIp(address)) return { host: 'localhost', verified: true };

  let names: string[];
  try {
    names = (await resolver.reverse(address)).map(cleanName).filter((n) => n !== '');
  } catch {
    return { host: null, verified: false };
  }
  const candidates = [...new Set(names)].slice(0, MAX_PTR_NAMES);
  const first = candidates[0];
  if (first === undefined) return { host: null, verified: false };

  const confirmed = await Promise.all(
    candidates.map(async (name) => {
      try {
        const addresses = parsed.family === 4 ? await resolver.resolve4(name) : await resolver.resolve6(name);
        return addresses.some((a) => isSameIp(a, address));
      } catch {
        return false;
      }
    }),
  );
  const index = confirmed.indexOf(true);
  const verifiedName = index >= 0 ? candidates[index] : undefined;
  return verifiedName !== undefined ? { host: verifiedName, verified: true } : { host: first, verified: false };
}
