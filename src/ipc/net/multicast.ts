// Multicast groups for `udp listen --group ADDR [--iface IF]` and `udp send`
// to a group: what the user typed checked and turned into what the socket
// options need. Joining binds the listener to the group address itself (so
// it gets that group's datagrams and no unicast to the same port) and shares
// address and port, so that several listeners on one machine each receive
// every datagram.
import { UsageError } from '../../errors.js';
import { addressBytes } from '../../native/net/sockaddr.js';
import { type Iface, interfaceIndex, isMulticast, joinGroup, shareAddress } from '../../native/net/multicast.js';

export type { Iface };

export interface Group {
  family: 'inet' | 'inet6';
  address: string;
  iface: Iface;
}

/** --iface: an IPv4 address of the interface, its index, or its name (lo, eth0). */
export function parseIface(text: string | undefined, family: 'inet' | 'inet6'): Iface {
  if (text === undefined) return null;
  const t = text.trim();
  if (/^[0-9]+$/.test(t)) return { index: Number(t) };
  if (addressBytes('inet', t)) {
    if (family === 'inet6') throw new UsageError(`--iface ${text}: an IPv6 group needs the interface by name or index (lo, 1)`);
    return { address: t };
  }
  const index = t === '' ? 0 : interfaceIndex(t);
  if (index === 0) throw new UsageError(`--iface ${text}: no such interface (give a name like lo, an index, or an IPv4 address)`);
  return { index };
}

/** --group ADDR: a numeric multicast address of the family of the bind address. */
export function parseGroup(text: string, iface: string | undefined): Group {
  let t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  const family = addressBytes('inet', t) ? 'inet' : addressBytes('inet6', t) ? 'inet6' : null;
  if (!family) throw new UsageError(`invalid group '${text}': a numeric multicast address like 239.1.2.3 or ff02::1:3`);
  if (!isMulticast(family, t)) throw new UsageError(`invalid group '${text}': not a multicast address (224.0.0.0/4 or ff00::/8)`);
  return { family, address: t, iface: parseIface(iface, family) };
}

export function isGroupAddress(family: 'inet' | 'inet6', address: string): boolean {
  return isMulticast(family, address);
}

/** Before bind: let the other listeners of the group share address and port. */
export function prepareGroup(fd: number): void {
  shareAddress(fd);
}

export function joinGroupOf(fd: number, g: Group): void {
  joinGroup(fd, g.family, g.address, g.iface);
}
