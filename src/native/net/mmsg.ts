// sendmmsg(2) / recvmmsg(2): many datagrams per system call. A batch is one
// block of native memory laid out as
//   [struct mmsghdr x count][struct iovec x count][sockaddr_storage x count][slot x count]
// so each message has its own iovec, address and payload slot, and the
// kernel fills or reads them all in one call.
import { errnoNumber, IpcError } from '../../errors.js';
import { bind } from '../bind.js';
import { C } from '../library.js';
import { NativeMemory } from '../memory.js';
import { iovec, mmsghdr, msghdr, sockaddr_storage } from '../layouts.js';
import { decodeSockAddr, encodeSockAddr, type SockAddr } from './sockaddr.js';
import { AGAIN, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_TRUNC, sendtoFn } from './socket.js';

const EINTR = errnoNumber('EINTR');
const EAGAIN = errnoNumber('EAGAIN');

const sendmmsg = bind('sendmmsg', C.int, [C.int, C.ptr, C.uint, C.int]);
const recvmmsg = bind('recvmmsg', C.int, [C.int, C.ptr, C.uint, C.int, C.ptr]);

/** The kernel takes at most UIO_MAXIOV messages per call. */
export const MAX_BATCH = 1024;

export class DatagramBatch {
  private readonly mem: NativeMemory;
  private readonly iovAt: number;
  private readonly nameAt: number;
  private readonly slotAt: number;

  /**
   * `count` messages with payload slots of `slotSize` bytes each. With
   * `sharedSlot` every message points at slot 0 (N copies of one payload),
   * and only one slot is allocated.
   */
  constructor(
    readonly count: number,
    readonly slotSize: number,
    sharedSlot = false,
  ) {
    this.iovAt = count * mmsghdr.size;
    this.nameAt = this.iovAt + count * iovec.size;
    this.slotAt = this.nameAt + count * sockaddr_storage.size;
    this.mem = new NativeMemory(this.slotAt + (sharedSlot ? 1 : count) * slotSize);
    const b = this.mem.buf;
    b.fill(0, 0, this.slotAt);
    for (let i = 0; i < count; i++) {
      const h = i * mmsghdr.size + mmsghdr.fields.msg_hdr;
      const iov = this.iovAt + i * iovec.size;
      b.writeBigUInt64LE(BigInt(this.mem.addr + this.slotAt + (sharedSlot ? 0 : i) * slotSize), iov + iovec.fields.iov_base);
      b.writeBigUInt64LE(BigInt(slotSize), iov + iovec.fields.iov_len);
      b.writeBigUInt64LE(BigInt(this.mem.addr + this.nameAt + i * sockaddr_storage.size), h + msghdr.fields.msg_name);
      b.writeUInt32LE(sockaddr_storage.size, h + msghdr.fields.msg_namelen);
      b.writeBigUInt64LE(BigInt(this.mem.addr + iov), h + msghdr.fields.msg_iov);
      b.writeBigUInt64LE(1n, h + msghdr.fields.msg_iovlen);
    }
  }

  /** Payload slot `i` (its full size), aliasing native memory. */
  slot(i: number): Buffer {
    const at = this.slotAt + i * this.slotSize;
    return this.mem.buf.subarray(at, at + this.slotSize);
  }

  /** Size of message `i` after recvmmsg (the bytes in its slot). */
  length(i: number): number {
    return this.mem.buf.readUInt32LE(i * mmsghdr.size + mmsghdr.fields.msg_len);
  }

  /** Was message `i` longer than its slot (cut by the kernel)? */
  truncated(i: number): boolean {
    return (this.mem.buf.readInt32LE(i * mmsghdr.size + msghdr.fields.msg_flags) & MSG_TRUNC) !== 0;
  }

  sender(i: number): SockAddr {
    const h = i * mmsghdr.size;
    return decodeSockAddr(this.mem, this.nameAt + i * sockaddr_storage.size, this.mem.buf.readUInt32LE(h + msghdr.fields.msg_namelen));
  }

  /** Message `i`'s sender as its raw sockaddr bytes: a cheap key to cache the decoded address by. */
  senderKey(i: number): string {
    const at = this.nameAt + i * sockaddr_storage.size;
    return this.mem.buf.toString('latin1', at, at + this.mem.buf.readUInt32LE(i * mmsghdr.size + msghdr.fields.msg_namelen));
  }

  /**
   * Send message `i`'s payload back to its sender (--echo), straight from
   * the slot and the address the kernel wrote: false when the sender has no
   * address to answer (an unbound UNIX socket) or the reply would block.
   */
  reply(fd: number, i: number): boolean {
    const h = i * mmsghdr.size;
    const nameLen = this.mem.buf.readUInt32LE(h + msghdr.fields.msg_namelen);
    if (nameLen <= 2) return false;
    const r = sendtoFn.call(
      fd,
      this.mem.addr + this.slotAt + i * this.slotSize,
      this.length(i),
      MSG_DONTWAIT | MSG_NOSIGNAL,
      this.mem.addr + this.nameAt + i * sockaddr_storage.size,
      nameLen,
    );
    if (r.value >= 0) return true;
    if (r.errno === EAGAIN) return false;
    throw new IpcError(r.errno, 'sendto', '');
  }

  /** Set the payload length of messages [0, n) for sending. */
  setLength(i: number, len: number): void {
    this.mem.buf.writeBigUInt64LE(BigInt(len), this.iovAt + i * iovec.size + iovec.fields.iov_len);
  }

  /** Address every message to `to` (null: the socket is connected, no address). */
  setDestination(to: SockAddr | null): void {
    let len = 0;
    if (to) {
      len = encodeSockAddr(to, this.mem, this.nameAt);
      for (let i = 1; i < this.count; i++) this.mem.buf.copy(this.mem.buf, this.nameAt + i * sockaddr_storage.size, this.nameAt, this.nameAt + len);
    }
    for (let i = 0; i < this.count; i++) {
      const h = i * mmsghdr.size;
      if (!to) this.mem.buf.writeBigUInt64LE(0n, h + msghdr.fields.msg_name);
      this.mem.buf.writeUInt32LE(len, h + msghdr.fields.msg_namelen);
    }
  }

  /** recvmmsg without waiting: how many arrived, or AGAIN. */
  receive(fd: number, max = this.count): number {
    const b = this.mem.buf;
    for (let i = 0; i < max; i++) b.writeUInt32LE(sockaddr_storage.size, i * mmsghdr.size + msghdr.fields.msg_namelen);
    for (;;) {
      const r = recvmmsg.call(fd, this.mem.addr, max, MSG_DONTWAIT, 0);
      if (r.value >= 0) return r.value;
      if (r.errno === EAGAIN) return AGAIN;
      if (r.errno !== EINTR) throw new IpcError(r.errno, 'recvmmsg', '');
    }
  }

  /** sendmmsg of messages [from, from+n) without waiting: how many went, or AGAIN. */
  send(fd: number, from: number, n: number): number {
    for (;;) {
      const r = sendmmsg.call(fd, this.mem.addr + from * mmsghdr.size, n, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (r.value >= 0) return r.value;
      if (r.errno === EAGAIN) return AGAIN;
      if (r.errno !== EINTR) throw new IpcError(r.errno, 'sendmmsg', '');
    }
  }

  free(): void {
    this.mem.free();
  }
}
