import * as ipaddr from 'ipaddr.js';

/**
 * Whether a callback may go to this address: only public unicast ones. Everything else
 * ipaddr.js names a range for (loopback, private, link-local with the cloud metadata
 * address 169.254.169.254, carrier-grade NAT, unique-local, IPv4-mapped IPv6 and other
 * tunnelling forms, multicast, reserved) is refused: a callback URL must
 * never reach into the network the service runs in.
 */
export function isPublicAddress(address: string): boolean {
  return rangeOf(address) === 'unicast';
}

/** ipaddr.js' name of the address' range ('loopback', 'private', …), or 'invalid'. */
export function rangeOf(address: string): string {
  return ipaddr.isValid(address) ? ipaddr.parse(address).range() : 'invalid';
}
