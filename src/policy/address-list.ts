/**
 * Address lists (a mail flow policy's `tlsMandatoryAddressList`, SPEC §4.2).
 * Entry forms:
 *
 * | entry              | matches                                            |
 * |--------------------|----------------------------------------------------|
 * | `user@example.com` | exactly that address                               |
 * | `@example.com`     | any user at example.com                            |
 * | `.example.com`     | any user at a subdomain of example.com (not itself) |
 * | `user@`            | that local part at any domain                      |
 * | `example.com`      | treated as `@example.com`                          |
 *
 * Domains compare case-insensitively and ignore a trailing dot. Local parts
 * also compare case-insensitively: the list names senders that must use TLS,
 * so matching more spellings is the safe side.
 */

function splitAddress(address: string): { local: string; domain: string } | null {
  let a = address.trim();
  if (a.startsWith('<') && a.endsWith('>')) a = a.slice(1, -1);
  const at = a.lastIndexOf('@');
  if (at < 0) return null;
  return { local: a.slice(0, at).toLowerCase(), domain: a.slice(at + 1).toLowerCase().replace(/\.$/, '') };
}

/** The problem with an address list entry, or null when it is one of the forms above. */
export function validateAddressListEntry(entry: string): string | null {
  const e = entry.trim();
  if (e === '') return 'empty entry';
  if (e === '@' || e === '.') return `"${e}": needs a user or a domain`;
  if ((e.match(/@/g) ?? []).length > 1 && !e.startsWith('"')) return `"${e}": more than one @`;
  if (/\s/.test(e) && !e.startsWith('"')) return `"${e}": contains spaces`;
  return null;
}

/** Whether `address` (an envelope sender, `<>` stripped or not) matches any entry of the list. */
export function matchesAddressList(list: readonly string[], address: string): boolean {
  const addr = splitAddress(address);
  if (addr === null || addr.local === '' || addr.domain === '') return false;
  for (const raw of list) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    const at = entry.lastIndexOf('@');
    if (at < 0) {
      const domain = entry.replace(/\.$/, '');
      if (domain.startsWith('.')) {
        if (domain.length > 1 && addr.domain.endsWith(domain)) return true;
      } else if (addr.domain === domain) {
        return true;
      }
      continue;
    }
    const local = entry.slice(0, at);
    const domain = entry.slice(at + 1).replace(/\.$/, '');
    if (local === '' && domain === '') continue;
    if (local !== '' && local !== addr.local) continue;
    if (domain !== '' && domain !== addr.domain) continue;
    return true;
  }
  return false;
}
