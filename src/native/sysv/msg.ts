// msgget, msgsnd, msgrcv, msgctl and struct msqid_ds.
// A message buffer is `long mtype; char mtext[]`: 8 bytes of type, then text.
import { errnoNumber, IpcError } from '../../errors.js';
import { bind } from '../bind.js';
import { C } from '../library.js';
import { NativeMemory } from '../memory.js';
import { msqid_ds } from '../layouts.js';
import { ctlMemory, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, type IpcPerm, readIpcPerm, timeOrNull, writeIpcPermSet } from './ipc.js';

export const MSG_NOERROR = 0o10000;
export const MSG_EXCEPT = 0o20000;
export const MSG_COPY = 0o40000;
export const MTYPE_SIZE = 8;

const EINTR = errnoNumber('EINTR');
const ENOMSG = errnoNumber('ENOMSG');
const EAGAIN = errnoNumber('EAGAIN');

const msgget = bind('msgget', C.int, [C.int, C.int]);
// Exported for the batch loops' fallback (msg-batch.ts): one params object each.
export const msgsnd = bind('msgsnd', C.int, [C.int, C.ptr, C.size_t, C.int]);
export const msgrcv = bind('msgrcv', C.ssize_t, [C.int, C.ptr, C.size_t, C.long, C.int]);
const msgctl = bind('msgctl', C.int, [C.int, C.int, C.ptr]);

export interface MsqidDs extends IpcPerm {
  stime: number | null;
  rtime: number | null;
  ctime: number | null;
  cbytes: number;
  qnum: number;
  qbytes: number;
  lspid: number;
  lrpid: number;
}

export function msgGet(key: number, flags: number): number {
  const r = msgget.call(key, flags);
  if (r.value === -1) throw new IpcError(r.errno, 'msgget', `key 0x${(key >>> 0).toString(16).padStart(8, '0')}`);
  return r.value;
}

/** A message buffer in native memory: mtype then up to `capacity` bytes of text. */
export class MsgBuffer {
  readonly mem: NativeMemory;
  constructor(readonly capacity: number) {
    this.mem = new NativeMemory(MTYPE_SIZE + capacity);
  }
  get type(): number {
    return Number(this.mem.buf.readBigInt64LE(0));
  }
  set type(t: number) {
    this.mem.buf.writeBigInt64LE(BigInt(t), 0);
  }
  /** The text area, aliasing native memory (copy before the next receive). */
  text(length: number): Buffer {
    return this.mem.buf.subarray(MTYPE_SIZE, MTYPE_SIZE + length);
  }
  /** Make the buffer the message (type, data), ready for msgsnd; data must fit. */
  load(type: number, data: Uint8Array): void {
    this.type = type;
    this.mem.buf.set(data, MTYPE_SIZE);
  }
  /** The message a msgrcv of `length` bytes left here, copied out (safe to keep). */
  unload(length: number): { type: number; data: Buffer } {
    return { type: this.type, data: Buffer.from(this.text(length)) };
  }
  free(): void {
    this.mem.free();
  }
}

/** Outcome of a call that may find nothing under IPC_NOWAIT. */
export const EMPTY = -1;

/**
 * msgsnd of `length` bytes already in `mb`. Returns 0, or EMPTY when the
 * queue is full under IPC_NOWAIT. Throws IpcError for anything else.
 */
export function msgSend(id: number, mb: MsgBuffer, length: number, flags: number): number {
  for (;;) {
    const r = msgsnd.call(id, mb.mem.addr, length, flags);
    if (r.value === 0) return 0;
    if (r.errno === EAGAIN) return EMPTY;
    if (r.errno !== EINTR) throw new IpcError(r.errno, 'msgsnd', String(id));
  }
}

/** msgsnd on a native thread: it may block until the queue has room. */
export async function msgSendBlocking(id: number, mb: MsgBuffer, length: number, flags: number): Promise<number> {
  for (;;) {
    const r = await msgsnd.callBlocking(id, mb.mem.addr, length, flags);
    if (r.value === 0) return 0;
    if (r.errno === EAGAIN) return EMPTY;
    if (r.errno !== EINTR) throw new IpcError(r.errno, 'msgsnd', String(id));
  }
}

/** msgrcv into `mb`: the text size, or EMPTY when nothing matched under IPC_NOWAIT. */
export function msgReceive(id: number, mb: MsgBuffer, type: number, flags: number, capacity = mb.capacity): number {
  for (;;) {
    const r = msgrcv.call(id, mb.mem.addr, capacity, type, flags);
    if (r.value >= 0) return r.value;
    if (r.errno === ENOMSG || r.errno === EAGAIN) return EMPTY;
    if (r.errno !== EINTR) throw new IpcError(r.errno, 'msgrcv', String(id));
  }
}

/**
 * msgrcv on a native thread, waiting for a message. `stopping` is asked on
 * EINTR: a signal meant to stop us must not be answered with a retry.
 */
export async function msgReceiveBlocking(id: number, mb: MsgBuffer, type: number, flags: number, capacity: number, stopping: () => boolean): Promise<number> {
  for (;;) {
    const r = await msgrcv.callBlocking(id, mb.mem.addr, capacity, type, flags);
    if (r.value >= 0) return r.value;
    if (r.errno === ENOMSG || r.errno === EAGAIN) return EMPTY;
    if (r.errno !== EINTR || stopping()) throw new IpcError(r.errno, 'msgrcv', String(id));
  }
}

const statMemory = () => ctlMemory(msqid_ds.size);

export function msgStat(id: number): MsqidDs {
  const mem = statMemory();
  const r = msgctl.call(id, IPC_STAT, mem.addr);
  if (r.value === -1) throw new IpcError(r.errno, 'msgctl IPC_STAT', String(id));
  const b = mem.buf;
  const f = msqid_ds.fields;
  return {
    ...readIpcPerm(b, f.msg_perm),
    stime: timeOrNull(b.readBigInt64LE(f.msg_stime)),
    rtime: timeOrNull(b.readBigInt64LE(f.msg_rtime)),
    ctime: timeOrNull(b.readBigInt64LE(f.msg_ctime)),
    cbytes: Number(b.readBigUInt64LE(f.__msg_cbytes)),
    qnum: Number(b.readBigUInt64LE(f.msg_qnum)),
    qbytes: Number(b.readBigUInt64LE(f.msg_qbytes)),
    lspid: b.readInt32LE(f.msg_lspid),
    lrpid: b.readInt32LE(f.msg_lrpid),
  };
}

/** IPC_SET: the kernel reads uid, gid, mode and msg_qbytes from the struct. */
export function msgSet(id: number, values: { uid: number; gid: number; mode: number; qbytes: number }): void {
  const mem = statMemory();
  mem.buf.fill(0);
  writeIpcPermSet(mem.buf, values, msqid_ds.fields.msg_perm);
  mem.buf.writeBigUInt64LE(BigInt(values.qbytes), msqid_ds.fields.msg_qbytes);
  const r = msgctl.call(id, IPC_SET, mem.addr);
  if (r.value === -1) throw new IpcError(r.errno, 'msgctl IPC_SET', String(id));
}

export function msgRemove(id: number): void {
  const r = msgctl.call(id, IPC_RMID, 0);
  if (r.value === -1) throw new IpcError(r.errno, 'msgctl IPC_RMID', String(id));
}

export { IPC_NOWAIT };
