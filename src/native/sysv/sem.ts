// semget, semop, semtimedop, semctl and struct semid_ds.
// semctl's fourth argument is `union semun`, passed by value: an int (SETVAL)
// or a pointer (IPC_STAT, GETALL, SETALL). On x86_64 both travel in one
// 64-bit register, so it is bound as one U64 argument.
import { errnoNumber, IpcError } from '../../errors.js';
import { bind } from '../bind.js';
import { C } from '../library.js';
import { NativeMemory } from '../memory.js';
import { sembuf, semid_ds, timespec } from '../layouts.js';
import { keyName, objectCalls } from './ctl.js';
import { IPC_NOWAIT, type IpcPerm, timeOrNull } from './ipc.js';

export const SEM_UNDO = 0x1000;
export const GETPID = 11;
export const GETVAL = 12;
export const GETALL = 13;
export const GETNCNT = 14;
export const GETZCNT = 15;
export const SETVAL = 16;
export const SETALL = 17;
/** The largest value a semaphore may hold (<linux/sem.h>). */
export const SEMVMX = 32767;

const EINTR = errnoNumber('EINTR');
const EAGAIN = errnoNumber('EAGAIN');

const semget = bind('semget', C.int, [C.int, C.int, C.int]);
const semop = bind('semop', C.int, [C.int, C.ptr, C.size_t]);
const semtimedop = bind('semtimedop', C.int, [C.int, C.ptr, C.size_t, C.ptr]);
const semctl = bind('semctl', C.int, [C.int, C.int, C.int, C.ulong]);

export interface SemidDs extends IpcPerm {
  nsems: number;
  otime: number | null;
  ctime: number | null;
}

export interface SemOp {
  num: number;
  op: number;
}

export function semGet(key: number, nsems: number, flags: number): number {
  const r = semget.call(key, nsems, flags);
  if (r.value === -1) throw new IpcError(r.errno, 'semget', keyName(key));
  return r.value;
}

// A few freed blocks kept for the next OpBuffer of the same size: a batch
// makes thousands of semops, and malloc/free through FFI cost more than the
// semop itself. (A buffer abandoned to a blocked call is never freed, so it
// never comes back here while the kernel may still read it.)
const spare = new Map<number, NativeMemory[]>();
function takeBlock(size: number): NativeMemory {
  return spare.get(size)?.pop() ?? new NativeMemory(size);
}
function giveBlock(mem: NativeMemory): void {
  const list = spare.get(mem.size) ?? [];
  if (list.length >= 4) return mem.free();
  list.push(mem);
  spare.set(mem.size, list);
}

/**
 * One array of struct sembuf in native memory, plus a timespec for
 * semtimedop: everything one semop call hands to the kernel.
 */
export class OpBuffer {
  // One allocation for both (a malloc through FFI costs more than the semop):
  // the sembufs, then the timespec at an 8-byte aligned offset.
  private readonly mem: NativeMemory;
  private readonly tsAt: number;

  constructor(
    readonly ops: readonly SemOp[],
    readonly flags: number,
  ) {
    this.tsAt = Math.ceil((ops.length * sembuf.size) / 8) * 8;
    this.mem = takeBlock(this.tsAt + timespec.size);
    const f = sembuf.fields;
    ops.forEach((o, i) => {
      const at = i * sembuf.size;
      this.mem.buf.writeUInt16LE(o.num, at + f.sem_num);
      this.mem.buf.writeInt16LE(o.op, at + f.sem_op);
      this.mem.buf.writeInt16LE(flags, at + f.sem_flg);
    });
  }

  /** The same array with IPC_NOWAIT set or cleared on every op. */
  setNowait(on: boolean): void {
    const f = sembuf.fields;
    const flags = on ? this.flags | IPC_NOWAIT : this.flags & ~IPC_NOWAIT;
    for (let i = 0; i < this.ops.length; i++) this.mem.buf.writeInt16LE(flags, i * sembuf.size + f.sem_flg);
  }

  get addr(): number {
    return this.mem.addr;
  }

  timespecFor(ms: number): number {
    this.mem.buf.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), this.tsAt + timespec.fields.tv_sec);
    this.mem.buf.writeBigInt64LE(BigInt((ms % 1000) * 1_000_000), this.tsAt + timespec.fields.tv_nsec);
    return this.mem.addr + this.tsAt;
  }

  private freed = false;
  free(): void {
    if (this.freed) return;
    this.freed = true;
    giveBlock(this.mem);
  }
}

/** Outcome of a semop that would block (IPC_NOWAIT) or whose timeout ran out. */
export const WOULD_BLOCK = -1;

/** semop on this thread; use with IPC_NOWAIT set. Returns 0 or WOULD_BLOCK. */
export function semOp(id: number, b: OpBuffer): number {
  for (;;) {
    const r = semop.call(id, b.addr, b.ops.length);
    if (r.value === 0) return 0;
    if (r.errno === EAGAIN) return WOULD_BLOCK;
    if (r.errno !== EINTR) throw new IpcError(r.errno, 'semop', String(id));
  }
}

/**
 * semop, or semtimedop when `timeoutMs` is given, on a native thread: it
 * waits until the ops can apply. WOULD_BLOCK means the timeout ran out.
 * `remainingMs` is asked again after EINTR, `stopping` whether to give up.
 */
export async function semOpBlocking(id: number, b: OpBuffer, remainingMs: () => number | undefined, stopping: () => boolean): Promise<number> {
  for (;;) {
    const ms = remainingMs();
    const r =
      ms === undefined ? await semop.callBlocking(id, b.addr, b.ops.length) : await semtimedop.callBlocking(id, b.addr, b.ops.length, b.timespecFor(ms));
    if (r.value === 0) return 0;
    if (r.errno === EAGAIN) return WOULD_BLOCK;
    if (r.errno !== EINTR || stopping()) throw new IpcError(r.errno, ms === undefined ? 'semop' : 'semtimedop', String(id));
  }
}

function ctl(id: number, num: number, cmd: number, arg: number, what: string): number {
  const r = semctl.call(id, num, cmd, arg);
  if (r.value === -1) throw new IpcError(r.errno, `semctl ${what}`, String(id));
  return r.value;
}

/** What semctl reads about one semaphore: GETVAL, GETPID, GETNCNT, GETZCNT. */
export type SemField = 'val' | 'pid' | 'ncnt' | 'zcnt';
const getters: Record<SemField, number> = { val: GETVAL, pid: GETPID, ncnt: GETNCNT, zcnt: GETZCNT };

export function semField(id: number, num: number, field: SemField): number {
  return ctl(id, num, getters[field], 0, `GET${field.toUpperCase()}`);
}

export function setVal(id: number, num: number, value: number): void {
  ctl(id, num, SETVAL, value, 'SETVAL');
}

/** GETALL into an array of unsigned short the size of the set. */
export function getAll(id: number, nsems: number): number[] {
  const mem = new NativeMemory(nsems * 2);
  try {
    ctl(id, 0, GETALL, mem.addr, 'GETALL');
    return Array.from({ length: nsems }, (_, i) => mem.buf.readUInt16LE(i * 2));
  } finally {
    mem.free();
  }
}

/** SETALL: every value at once, atomically; also clears all undo entries. */
export function setAll(id: number, values: readonly number[]): void {
  const mem = new NativeMemory(values.length * 2);
  try {
    values.forEach((v, i) => mem.buf.writeUInt16LE(v, i * 2));
    ctl(id, 0, SETALL, mem.addr, 'SETALL');
  } finally {
    mem.free();
  }
}

/** semget (nsems 0: open an existing one) and semctl on struct semid_ds (the union semun carries the pointer). */
export const semCalls = objectCalls<SemidDs>({
  getName: 'semget',
  ctlName: 'semctl',
  get: (key, flags) => semget.call(key, 0, flags),
  ctl: (id, cmd, addr) => semctl.call(id, 0, cmd, addr),
  size: semid_ds.size,
  permAt: semid_ds.fields.sem_perm,
  read(b) {
    const f = semid_ds.fields;
    return {
      nsems: Number(b.readBigUInt64LE(f.sem_nsems)),
      otime: timeOrNull(b.readBigInt64LE(f.sem_otime)),
      ctime: timeOrNull(b.readBigInt64LE(f.sem_ctime)),
    };
  },
});

export { IPC_NOWAIT };
