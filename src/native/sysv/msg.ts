// msgget, msgsnd, msgrcv, msgctl and struct msqid_ds.
// A message buffer is `long mtype; char mtext[]`: 8 bytes of type, then text.
import { errnoNumber, IpcError } from '../../errors.js';
import { bind } from '../bind.js';
import { C } from '../library.js';
import { NativeMemory } from '../memory.js';
import { msqid_ds } from '../layouts.js';
import { objectCalls } from './ctl.js';
import { IPC_NOWAIT, type IpcPerm, timeOrNull } from './ipc.js';

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

/** msgget and msgctl on struct msqid_ds: what IPC_STAT reads, and the msg_qbytes IPC_SET takes. */
export const msgCalls = objectCalls<MsqidDs, { qbytes: number }>({
  getName: 'msgget',
  ctlName: 'msgctl',
  get: (key, flags) => msgget.call(key, flags),
  ctl: (id, cmd, addr) => msgctl.call(id, cmd, addr),
  size: msqid_ds.size,
  permAt: msqid_ds.fields.msg_perm,
  read(b) {
    const f = msqid_ds.fields;
    return {
      stime: timeOrNull(b.readBigInt64LE(f.msg_stime)),
      rtime: timeOrNull(b.readBigInt64LE(f.msg_rtime)),
      ctime: timeOrNull(b.readBigInt64LE(f.msg_ctime)),
      cbytes: Number(b.readBigUInt64LE(f.__msg_cbytes)),
      qnum: Number(b.readBigUInt64LE(f.msg_qnum)),
      qbytes: Number(b.readBigUInt64LE(f.msg_qbytes)),
      lspid: b.readInt32LE(f.msg_lspid),
      lrpid: b.readInt32LE(f.msg_lrpid),
    };
  },
  writeSet: (b, values) => b.writeBigUInt64LE(BigInt(values.qbytes), msqid_ds.fields.msg_qbytes),
});

export { IPC_NOWAIT };
