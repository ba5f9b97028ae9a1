/**
 * The outbound source address (SPEC §14): delivery connections to an IPv4
 * next hop are made from `destinationControls.sourceAddressV4`, to an IPv6 one
 * from `sourceAddressV6`; null lets the OS choose. Also the cheap check, made
 * at commit, that an address really belongs to this machine.
 */
import net from 'node:net';
import os from 'node:os';
import type { Config } from '../../config/schema.js';

export type SourceAddresses = Pick<Config['destinationControls'], 'sourceAddressV4' | 'sourceAddressV6'>;

/** The configured source address of the next hop's family, or null (the OS chooses). */
export function sourceAddressFor(hopIp: string, addresses: SourceAddresses): string | null {
  return net.isIPv6(hopIp) ? addresses.sourceAddressV6 : addresses.sourceAddressV4;
}

/**
 * What a connection that never opened shows as its interface: the address it
 * was to be made from, else the unspecified address of the hop's family.
 */
export function intendedInterface(hopIp: string, source: string | null): string {
  return source ?? (net.isIPv6(hopIp) ? '::' : '0.0.0.0');
}

type Interfaces = ReturnType<typeof os.networkInterfaces>;

/** 127.0.0.0/8: Linux routes the whole block to `lo`, so any of it can be bound although `lo` lists only 127.0.0.1. */
function isIpv4Loopback(address: string): boolean {
  return net.isIPv4(address) && address.startsWith('127.');
}

/**
 * Why `address` cannot be a source address of this machine, or null when it
 * can: it must be assigned to one of the interfaces (`os.networkInterfaces()`,
 * passed in by tests), or lie in 127.0.0.0/8 while a loopback interface is up.
 * Synchronous and cheap, so commit can refuse a typo before delivery defers on
 * it; an address that disappears later gives a Connection Error and a deferral.
 */
export function localAddressProblem(address: string, interfaces: Interfaces = os.networkInterfaces()): string | null {
  const assigned = Object.values(interfaces).flatMap((list) => list ?? []);
  const wanted = net.isIPv6(address) ? address.toLowerCase().replace(/%.*$/, '') : address;
  const sameAddress = (a: string): boolean => {
    if (!net.isIPv6(wanted)) return a === wanted;
    // Compare IPv6 through a BlockList: it understands every textual form (`::1` = `0:0:0:0:0:0:0:1`).
    if (!net.isIPv6(a)) return false;
    const list = new net.BlockList();
    list.addAddress(a.replace(/%.*$/, ''), 'ipv6');
    return list.check(wanted, 'ipv6');
  };
  if (assigned.some((i) => sameAddress(i.address))) return null;
  if (isIpv4Loopback(wanted) && assigned.some((i) => i.internal && isIpv4Loopback(i.address))) return null;
  const names = [...new Set(assigned.map((i) => i.address))].join(', ');
  return `${address} is not an address of this machine (its addresses: ${names || 'none'})`;
}
