// Datagram sockets (UDP and UNIX SOCK_DGRAM): a listener that takes
// datagrams from every peer in batches (recvmmsg), and a sender that sends
// one payload per datagram, N copies at a time with sendmmsg. Message
// boundaries are the kernel's: one send is one receive, never merged or split.
import { DatagramBatch, MAX_BATCH } from '../../native/net/mmsg.js';
import { POLLIN, POLLOUT } from '../../native/poll.js';
import { familyNumber, type SockAddr } from '../../native/net/sockaddr.js';
import * as sock from '../../native/net/socket.js';
import { AGAIN } from '../../native/net/socket.js';
import { formatAddress } from './address.js';
import { Reactor, waitReady } from './reactor.js';
import { rethrowSocketError } from './sockerr.js';
import { type Group, joinGroupOf, prepareGroup } from './multicast.js';
import { type SenderOptions, setSender } from '../../native/net/multicast.js';
import { socketInode, udpDrops } from './udp-drops.js';

export interface Datagram {
  data: Buffer;
  /** The sender, decoded only when asked (inet_ntop per datagram is not free). */
  from(): SockAddr;
  /** The sender's raw address bytes as a string: equal keys, equal senders (for caching what from() gives). */
  fromKey(): string;
  truncated: boolean;
}

export interface ListenOptions {
  op: string;
  address: SockAddr;
  reuseaddr?: boolean;
  /** Stop after this many datagrams. */
  count?: number;
  idleMs?: number;
  echo: boolean;
  /**
   * Gets each batch as it arrives. `data` views native memory and is only
   * valid during the call.
   */
  deliver: (batch: Datagram[]) => void;
  afterBind?: (local: SockAddr) => void;
  onListening?: (local: SockAddr) => void;
  /** --group: join this multicast group (the address is bound to it and shared). */
  group?: Group;
  /**
   * Called once at the end, also when a timeout, signal or error ends it:
   * what arrived, and what the kernel dropped because the receive queue was
   * full (null where it does not count them: UNIX datagram senders block).
   */
  onEnd?: (stats: ListenStats) => void;
}

export interface ListenStats {
  received: number;
  dropped: number | null;
}

/** The largest UDP payload: 65535 less the IP and UDP headers (IPv4 20 + 8, IPv6 8). */
export const MAX_DATAGRAM = { 4: 65507, 6: 65527 } as const;

/** Payload slot per datagram: a UDP datagram is at most 65507 bytes (65527 over IPv6). */
const UDP_SLOT = 65536;
/** UNIX datagrams may be larger, up to the socket send buffer. */
const UNIX_SLOT = 256 << 10;

/**
 * A datagram socket bound to `opts.address` (its --group joined): the fd and
 * the address it really got. `receiveBuffer` asks for a deeper receive queue.
 * The fd is closed again when a step fails.
 */
export function bindDatagram(
  opts: Pick<ListenOptions, 'op' | 'address' | 'reuseaddr' | 'group' | 'afterBind'>,
  receiveBuffer?: number,
): { fd: number; local: SockAddr } {
  let fd = -1;
  try {
    fd = sock.socket(familyNumber(opts.address), sock.SOCK_DGRAM);
    if (opts.reuseaddr && opts.address.family !== 'unix') sock.setIntOption(fd, sock.SOL_SOCKET, sock.SO_REUSEADDR, 1);
    if (opts.group) prepareGroup(fd);
    sock.bindTo(fd, opts.address);
    if (opts.group) joinGroupOf(fd, opts.group);
    const local = sock.localAddress(fd);
    opts.afterBind?.(local);
    if (receiveBuffer !== undefined) {
      try {
        sock.setIntOption(fd, sock.SOL_SOCKET, sock.SO_RCVBUF, receiveBuffer);
      } catch {
        /* keep the default */
      }
    }
    return { fd, local };
  } catch (e) {
    if (fd >= 0) sock.close(fd);
    return rethrowSocketError(e, opts.op, formatAddress(opts.address), opts.address);
  }
}

export async function listen(opts: ListenOptions): Promise<{ received: number; local: SockAddr }> {
  // A deeper receive queue rides out bursts; the kernel caps it at rmem_max.
  const { fd, local } = bindDatagram(opts, 4 << 20);
  // The bound address: with port 0 the kernel chose the port, and a timeout names it.
  const where = formatAddress(local);
  opts.onListening?.(local);
  const unix = opts.address.family === 'unix';
  const batch = new DatagramBatch(unix ? 16 : 64, unix ? UNIX_SLOT : UDP_SLOT);
  const reactor = new Reactor();
  let received = 0;
  const limit = opts.count ?? Infinity;
  const datagrams: Datagram[] = [];
  reactor.add({
    interests: () => (received < limit ? [[fd, POLLIN]] : []),
    ready: () => {
      for (let rounds = 0; rounds < 64 && received < limit; rounds++) {
        const n = batch.receive(fd, Math.min(batch.count, limit - received));
        if (n === AGAIN || n === 0) return;
        datagrams.length = 0;
        for (let i = 0; i < n; i++) {
          const idx = i;
          datagrams.push({
            data: batch.slot(i).subarray(0, batch.length(i)),
            truncated: batch.truncated(i),
            from: () => batch.sender(idx),
            fromKey: () => batch.senderKey(idx),
          });
        }
        received += n;
        reactor.touch();
        opts.deliver(datagrams);
        if (opts.echo) for (let i = 0; i < n; i++) batch.reply(fd, i);
        if (n < batch.count) return;
      }
    },
  });
  try {
    await reactor.run({ what: `${opts.op} ${where}`, idleMs: opts.idleMs, done: () => received >= limit });
  } catch (e) {
    rethrowSocketError(e, opts.op, where, opts.address);
  } finally {
    batch.free();
    // Read before close: /proc lists the socket only while it is open.
    const inode = unix ? null : socketInode(fd);
    const dropped = inode === null ? null : udpDrops(inode);
    sock.close(fd);
    opts.onEnd?.({ received, dropped });
  }
  return { received, local };
}

export interface SendOptions {
  op: string;
  to: SockAddr;
  /** Each payload is one datagram. */
  payloads: Iterable<Buffer>;
  /** Send each payload this many times (sendmmsg batches of up to 1024). */
  count: number;
  broadcast?: boolean;
  timeoutMs?: number;
  /** To a multicast group: --ttl, --loop, --iface. */
  multicast?: SenderOptions;
}

export async function send(opts: SendOptions): Promise<{ sent: number }> {
  const where = formatAddress(opts.to);
  let fd = -1;
  let sent = 0;
  const what = `${opts.op} ${where}`;
  try {
    fd = sock.socket(familyNumber(opts.to), sock.SOCK_DGRAM);
    if (opts.broadcast) sock.setIntOption(fd, sock.SOL_SOCKET, sock.SO_BROADCAST, 1);
    if (opts.multicast && opts.to.family !== 'unix') setSender(fd, opts.to.family, opts.multicast);
    // A bound UNIX sender can be answered (by an --echo server); the kernel picks the name.
    if (opts.to.family === 'unix') sock.autobindUnix(fd);
    for (const payload of opts.payloads) {
      if (opts.count === 1) {
        sent += await sendOne(fd, payload, opts.to, what, opts.timeoutMs);
        continue;
      }
      const batch = new DatagramBatch(Math.min(opts.count, MAX_BATCH), payload.length, true);
      try {
        payload.copy(batch.slot(0));
        batch.setDestination(opts.to);
        for (let i = 0; i < batch.count; i++) batch.setLength(i, payload.length);
        let left = opts.count;
        while (left > 0) {
          const n = batch.send(fd, 0, Math.min(left, batch.count));
          if (n === AGAIN) {
            await waitReady(fd, POLLOUT, what, opts.timeoutMs);
            continue;
          }
          left -= n;
          sent += n;
        }
      } finally {
        batch.free();
      }
    }
  } catch (e) {
    rethrowSocketError(e, opts.op, where, opts.to);
  } finally {
    if (fd >= 0) sock.close(fd);
  }
  return { sent };
}

async function sendOne(fd: number, payload: Buffer, to: SockAddr, what: string, timeoutMs?: number): Promise<number> {
  const { IoBuffer } = await import('../../native/io-buffer.js');
  const mem = new IoBuffer(payload.length);
  try {
    mem.load(payload);
    for (;;) {
      const n = sock.sendTo(fd, mem, 0, payload.length, to);
      if (n !== AGAIN) return 1;
      await waitReady(fd, POLLOUT, what, timeoutMs);
    }
  } finally {
    mem.free();
  }
}
