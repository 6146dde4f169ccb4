// What the three System V mechanisms share: flag values from <sys/ipc.h>,
// ftok, and the ipc_perm block that starts each *_ds structure.
import { IpcError } from '../../errors.js';
import { bind } from '../bind.js';
import { C } from '../library.js';
import { NativeMemory } from '../memory.js';
import { ipc_perm } from '../layouts.js';

export const IPC_PRIVATE = 0;
export const IPC_CREAT = 0o1000;
export const IPC_EXCL = 0o2000;
export const IPC_NOWAIT = 0o4000;
export const IPC_RMID = 0;
export const IPC_SET = 1;
export const IPC_STAT = 2;

export interface IpcPerm {
  key: number;
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  /** Permission bits and the mechanism's flag bits (SHM_LOCKED...). */
  mode: number;
  seq: number;
}

export function readIpcPerm(buf: Buffer, at = 0): IpcPerm {
  const f = ipc_perm.fields;
  return {
    key: buf.readInt32LE(at + f.__key),
    uid: buf.readUInt32LE(at + f.uid),
    gid: buf.readUInt32LE(at + f.gid),
    cuid: buf.readUInt32LE(at + f.cuid),
    cgid: buf.readUInt32LE(at + f.cgid),
    mode: buf.readUInt16LE(at + f.mode),
    seq: buf.readUInt16LE(at + f.__seq),
  };
}

/** Write the fields IPC_SET reads (uid, gid, mode) into an ipc_perm. */
export function writeIpcPermSet(buf: Buffer, perm: { uid: number; gid: number; mode: number }, at = 0): void {
  const f = ipc_perm.fields;
  buf.writeUInt32LE(perm.uid, at + f.uid);
  buf.writeUInt32LE(perm.gid, at + f.gid);
  buf.writeUInt16LE(perm.mode & 0o777, at + f.mode);
}

// One block for every IPC_STAT/IPC_SET (msqid_ds, shmid_ds, semid_ds):
// each call fills and reads it before returning, so one is enough, grown to
// the largest struct asked for.
let ctlMem: NativeMemory | null = null;

/** Native memory for a *_ds structure of `size` bytes, valid until the next call. */
export function ctlMemory(size: number): NativeMemory {
  if (ctlMem && ctlMem.size < size) {
    ctlMem.free();
    ctlMem = null;
  }
  return (ctlMem ??= new NativeMemory(size));
}

const ftokFn = bind('ftok', C.int, [C.string, C.int]);

/** ftok(3): the key that every program using PATH and PROJ agrees on. */
export function ftok(path: string, proj: number): number {
  const r = ftokFn.call(path, proj);
  if (r.value === -1) throw new IpcError(r.errno, 'ftok', path, { exitCode: 4 });
  return r.value;
}

/** Kernel time fields: 0 means never. */
export function timeOrNull(seconds: bigint | number): number | null {
  const n = Number(seconds);
  return n === 0 ? null : n;
}
