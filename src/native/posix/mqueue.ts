// POSIX message queues: mq_open, mq_getattr, mq_send, mq_receive, mq_unlink,
// mq_close, all exported by glibc's libc.so.6 (librt is an empty shim since
// glibc 2.34). On Linux a mqd_t is a file descriptor that poll(2) reports
// readable (a message is there) or writable (there is room): the domain
// layer opens queues O_NONBLOCK and waits in poll, never on a thread.
//
// mq_open is variadic (mode and attr only with O_CREAT). On x86_64 and
// arm64 variadic integer and pointer arguments travel in the same registers
// as fixed ones, so it is bound with all four.
import { errnoName, IpcError } from '../../errors.js';
import { bind } from '../bind.js';
import { C } from '../library.js';
import { NativeMemory } from '../memory.js';
import { mq_attr } from '../layouts.js';

export { O_CLOEXEC, O_CREAT, O_EXCL, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY } from './flags.js';

const mqOpen = bind('mq_open', C.int, [C.string, C.int, C.uint, C.ptr]);
const mqClose = bind('mq_close', C.int, [C.int]);
const mqGetattr = bind('mq_getattr', C.int, [C.int, C.ptr]);
const mqSend = bind('mq_send', C.int, [C.int, C.ptr, C.size_t, C.uint]);
const mqReceive = bind('mq_receive', C.ssize_t, [C.int, C.ptr, C.size_t, C.ptr]);
const mqUnlink = bind('mq_unlink', C.int, [C.string]);

export interface MqAttr {
  flags: number;
  maxmsg: number;
  msgsize: number;
  curmsgs: number;
}

let attrMem: NativeMemory | null = null;
const attrMemory = () => (attrMem ??= new NativeMemory(mq_attr.size));

/**
 * mq_open. `attr` only with O_CREAT (null: the kernel's defaults from
 * /proc/sys/fs/mqueue/{msg,msgsize}_default). Returns the descriptor.
 */
export function openQueue(name: string, oflag: number, mode: number, attr: { maxmsg: number; msgsize: number } | null): number {
  let ptr = 0;
  if (attr) {
    const m = attrMemory();
    m.buf.fill(0);
    m.buf.writeBigInt64LE(BigInt(attr.maxmsg), mq_attr.fields.mq_maxmsg);
    m.buf.writeBigInt64LE(BigInt(attr.msgsize), mq_attr.fields.mq_msgsize);
    ptr = m.addr;
  }
  const r = mqOpen.call(name, oflag, mode, ptr);
  if (r.value === -1) throw new IpcError(r.errno, 'mq_open', name);
  return r.value;
}

export function closeQueue(fd: number): void {
  mqClose.call(fd);
}

export function getAttr(fd: number, name: string): MqAttr {
  const m = attrMemory();
  const r = mqGetattr.call(fd, m.addr);
  if (r.value === -1) throw new IpcError(r.errno, 'mq_getattr', name);
  const f = mq_attr.fields;
  return {
    flags: Number(m.buf.readBigInt64LE(f.mq_flags)),
    maxmsg: Number(m.buf.readBigInt64LE(f.mq_maxmsg)),
    msgsize: Number(m.buf.readBigInt64LE(f.mq_msgsize)),
    curmsgs: Number(m.buf.readBigInt64LE(f.mq_curmsgs)),
  };
}

export function unlinkQueue(name: string): void {
  const r = mqUnlink.call(name);
  if (r.value === -1) throw new IpcError(r.errno, 'mq_unlink', name);
}

/**
 * Native memory for one message and its priority: mq_send reads the bytes
 * from it, mq_receive writes them (and the priority) into it.
 */
export class MessageBuffer {
  private readonly mem: NativeMemory;
  private readonly prio = new NativeMemory(4);

  constructor(readonly capacity: number) {
    this.mem = new NativeMemory(Math.max(1, capacity));
  }

  get priority(): number {
    return this.prio.buf.readUInt32LE(0);
  }

  free(): void {
    this.mem.free();
    this.prio.free();
  }

  /** Copy a message in, to be sent. */
  load(data: Uint8Array): void {
    this.mem.buf.set(data, 0);
  }

  /** A copy of the first `length` bytes (the message received). */
  copyOut(length: number): Buffer {
    return Buffer.from(this.mem.buf.subarray(0, length));
  }

  /** mq_send of the first `length` bytes. Undefined when it went, or the errno name (EAGAIN when full). */
  send(fd: number, length: number, priority: number): string | undefined {
    const r = mqSend.call(fd, this.mem.addr, length, priority);
    return r.value === -1 ? errnoName(r.errno) : undefined;
  }

  /** mq_receive into the buffer. Returns the size (a number), or the errno name. */
  receive(fd: number): number | string {
    const r = mqReceive.call(fd, this.mem.addr, this.capacity, this.prio.addr);
    return r.value === -1 ? errnoName(r.errno) : r.value;
  }
}
