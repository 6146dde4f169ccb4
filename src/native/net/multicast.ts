// Multicast socket options: joining a group (IP_ADD_MEMBERSHIP with struct
// ip_mreqn, IPV6_JOIN_GROUP with struct ipv6_mreq), and the sender's TTL or
// hop limit, loopback and outgoing interface. Several listeners on one
// group and port need SO_REUSEADDR (and SO_REUSEPORT) before bind.
import { IpcError } from '../../errors.js';
import { bind } from '../bind.js';
import { C } from '../library.js';
import { NativeMemory } from '../memory.js';
import { addressBytes } from './sockaddr.js';
import { setIntOption, SOL_SOCKET, SO_REUSEADDR } from './socket.js';

const IPPROTO_IP = 0;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
const IPPROTO_IPV6 = 41;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;
const IPV6_JOIN_GROUP = 20;
const SO_REUSEPORT = 15;

const setsockopt = bind('setsockopt', C.int, [C.int, C.int, C.int, C.ptr, C.uint]);
const ifNameToIndex = bind('if_nametoindex', C.uint, [C.string]);
const mem = new NativeMemory(32);

/** How a user names an interface: an IPv4 address of it, its index, or its name. */
export type Iface = { address: string } | { index: number } | null;

/** Interface index of `name` (lo, eth0), or 0 when there is none. */
export function interfaceIndex(name: string): number {
  return ifNameToIndex.call(name).value;
}

function set(fd: number, level: number, name: number, len: number, what: string): void {
  const r = setsockopt.call(fd, level, name, mem.addr, len);
  if (r.value === -1) throw new IpcError(r.errno, `setsockopt ${what}`, '');
}

/** Is `address` (numeric) a multicast group address? */
export function isMulticast(family: 'inet' | 'inet6', address: string): boolean {
  const b = addressBytes(family, address);
  if (!b) return false;
  return family === 'inet' ? (b[0]! & 0xf0) === 0xe0 : b[0] === 0xff;
}

/** Let several sockets bind the same address and port (every one gets each multicast datagram). */
export function shareAddress(fd: number): void {
  setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  setIntOption(fd, SOL_SOCKET, SO_REUSEPORT, 1);
}

export function joinGroup(fd: number, family: 'inet' | 'inet6', group: string, iface: Iface): void {
  mem.buf.fill(0);
  const g = addressBytes(family, group)!;
  if (family === 'inet') {
    // struct ip_mreqn { in_addr imr_multiaddr; in_addr imr_address; int imr_ifindex; }
    g.copy(mem.buf, 0);
    if (iface && 'address' in iface) addressBytes('inet', iface.address)!.copy(mem.buf, 4);
    if (iface && 'index' in iface) mem.buf.writeInt32LE(iface.index, 8);
    return set(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, 12, 'IP_ADD_MEMBERSHIP');
  }
  // struct ipv6_mreq { in6_addr ipv6mr_multiaddr; unsigned ipv6mr_interface; }
  g.copy(mem.buf, 0);
  mem.buf.writeUInt32LE(iface && 'index' in iface ? iface.index : 0, 16);
  set(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, 20, 'IPV6_JOIN_GROUP');
}

export interface SenderOptions {
  ttl?: number;
  loop?: boolean;
  iface?: Iface;
}

export function setSender(fd: number, family: 'inet' | 'inet6', o: SenderOptions): void {
  const v4 = family === 'inet';
  if (o.ttl !== undefined) setIntOption(fd, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_MULTICAST_TTL : IPV6_MULTICAST_HOPS, o.ttl);
  if (o.loop !== undefined) setIntOption(fd, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_MULTICAST_LOOP : IPV6_MULTICAST_LOOP, o.loop ? 1 : 0);
  if (o.iface) {
    if (v4) {
      mem.buf.fill(0);
      if ('address' in o.iface) addressBytes('inet', o.iface.address)!.copy(mem.buf, 4);
      else mem.buf.writeInt32LE(o.iface.index, 8);
      set(fd, IPPROTO_IP, IP_MULTICAST_IF, 12, 'IP_MULTICAST_IF');
    } else {
      // The layer above gives IPv6 interfaces by index only.
      setIntOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, 'index' in o.iface ? o.iface.index : 0);
    }
  }
}
