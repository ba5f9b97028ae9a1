/**
 * Recipient access table of a public listener (SPEC §4.1) and open-relay probe
 * detection (security catalogue §34: the nmap smtp-open-relay forms).
 */

/** Lower-cases a domain and drops one trailing dot. */
function normalizeDomain(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, '');
}

/**
 * Whether the RAT accepts mail for `domain`: an entry `example.com` accepts
 * that domain exactly, `.example.com` its subdomains only (not example.com
 * itself). Case-insensitive; a trailing dot is ignored. Default: reject.
 * Domain literals (`[1.2.3.4]`) are never accepted.
 */
export function isRecipientDomainAccepted(rat: readonly string[], domain: string): boolean {
  const d = normalizeDomain(domain);
  if (d === '' || d.startsWith('[') || d.startsWith('.')) return false;
  for (const raw of rat) {
    const entry = normalizeDomain(raw);
    if (entry.startsWith('.')) {
      if (entry.length > 1 && d.endsWith(entry)) return true;
    } else if (entry !== '' && d === entry) {
      return true;
    }
  }
  return false;
}

/**
 * Why a recipient address looks like an open-relay probe, or null. `local` is
 * the local part (with or without its surrounding quotes), `quoted` whether it
 * was a quoted string. Flags: a quoted local part containing `@`, `%` or `!`;
 * an `@` inside the local part (`user@dom@srv`, source routes); the percent
 * hack (`user%dom@srv`); a bang path (`dom!user@srv`); an IP-literal domain
 * (`user@[1.2.3.4]`, `user@[IPv6:...]`); a source route (`<@hop:user@domain>`,
 * which the parser strips: `hadSourceRoute` says one was given).
 */
export function isRelayProbe(local: string, domain: string, quoted: boolean, hadSourceRoute = false): string | null {
  if (hadSourceRoute) return 'source route (sender-specified routing)';
  let l = local;
  if (l.length >= 2 && l.startsWith('"') && l.endsWith('"')) {
    l = l.slice(1, -1);
    quoted = true;
  }
  if (quoted) {
    const found = ['@', '%', '!'].filter((c) => l.includes(c));
    if (found.length > 0) return `quoted local part contains ${found.join(' ')} (relay probe)`;
  }
  if (l.includes('@')) return 'local part contains @ (sender-specified routing)';
  if (l.includes('%')) return 'percent hack in local part (user%domain@host)';
  if (l.includes('!')) return 'bang path in local part (domain!user@host)';
  const d = domain.trim();
  if (d.startsWith('[') || d.endsWith(']')) return 'IP-literal recipient domain';
  if (d.includes('@') || d.includes('%') || d.includes('!')) return 'routing characters in recipient domain';
  return null;
}
