import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type os from 'node:os';
import { intendedInterface, localAddressProblem, sourceAddressFor } from './source-address.js';

type Interfaces = ReturnType<typeof os.networkInterfaces>;

const iface = (address: string, family: 'IPv4' | 'IPv6', internal: boolean): os.NetworkInterfaceInfo =>
  family === 'IPv4'
    ? { address, family, internal, netmask: '255.0.0.0', mac: '00:00:00:00:00:00', cidr: null }
    : { address, family, internal, netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', mac: '00:00:00:00:00:00', cidr: null, scopeid: 0 };

/** A machine with loopback and one documentation-range interface (nothing here touches the network). */
const machine: Interfaces = {
  lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)],
  eth0: [iface('192.0.2.25', 'IPv4', false), iface('2001:db8::25', 'IPv6', false)],
};

describe('sourceAddressFor', () => {
  const addresses = { sourceAddressV4: '192.0.2.25', sourceAddressV6: '2001:db8::25' };
  test('picks the address of the next hop family', () => {
    assert.equal(sourceAddressFor('198.51.100.7', addresses), '192.0.2.25');
    assert.equal(sourceAddressFor('2001:db8:1::7', addresses), '2001:db8::25');
    assert.equal(sourceAddressFor('::1', { sourceAddressV4: '127.0.0.2', sourceAddressV6: null }), null);
  });
  test('a failed connection names the address it was to come from, else the unspecified one', () => {
    assert.equal(intendedInterface('::1', '::1'), '::1');
    assert.equal(intendedInterface('::1', null), '::');
    assert.equal(intendedInterface('127.0.0.1', null), '0.0.0.0');
  });
});

describe('localAddressProblem', () => {
  test('addresses of an interface are fine, in any IPv6 spelling', () => {
    assert.equal(localAddressProblem('192.0.2.25', machine), null);
    assert.equal(localAddressProblem('2001:db8::25', machine), null);
    assert.equal(localAddressProblem('2001:0DB8:0:0:0:0:0:25', machine), null);
    assert.equal(localAddressProblem('::1', machine), null);
  });
  test('all of 127.0.0.0/8 is local while loopback is up', () => {
    assert.equal(localAddressProblem('127.0.0.2', machine), null);
    assert.match(localAddressProblem('127.0.0.2', { eth0: machine['eth0'] }) ?? '', /^127\.0\.0\.2 is not an address of this machine/);
  });
  test('anything else is refused with the addresses the machine has', () => {
    assert.equal(localAddressProblem('192.0.2.26', machine), '192.0.2.26 is not an address of this machine (its addresses: 127.0.0.1, ::1, 192.0.2.25, 2001:db8::25)');
    assert.match(localAddressProblem('2001:db8::26', machine) ?? '', /^2001:db8::26 is not an address of this machine/);
    assert.match(localAddressProblem('::2', machine) ?? '', /^::2 is not/);
  });
});
