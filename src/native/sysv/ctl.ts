// The calls every System V kind shares, written once and driven by a
// description of each kind (as util-linux's ipcutils.c reads every kind the
// same way): *get with no flags to find an object by key, IPC_STAT into the
// kind's *_ds and read out, IPC_SET of ipc_perm plus what else the kind lets
// change, IPC_RMID. The struct memory is the one ctlMemory block.
import { IpcError } from '../../errors.js';
import type { CallResult } from '../bind.js';
import { ctlMemory, IPC_RMID, IPC_SET, IPC_STAT, type IpcPerm, readIpcPerm, writeIpcPermSet } from './ipc.js';

/** What IPC_SET reads from ipc_perm. */
export interface PermSet {
  uid: number;
  gid: number;
  mode: number;
}

/** One kind as the kernel has it: its calls, and the layout of its *_ds. */
export interface KindCalls<D extends IpcPerm, X> {
  /** 'msgget', 'shmget', 'semget': the name an error carries. */
  readonly getName: string;
  /** 'msgctl', 'shmctl', 'semctl'. */
  readonly ctlName: string;
  /** The *get call: (key, flags) with size or nsems 0 where it takes one. */
  get(key: number, flags: number): CallResult;
  /** The *ctl call with a pointer argument (or 0). */
  ctl(id: number, cmd: number, addr: number): CallResult;
  /** sizeof(struct *_ds), and where its ipc_perm starts. */
  readonly size: number;
  readonly permAt: number;
  /** The rest of the struct, after IPC_STAT filled it. */
  read(b: Buffer): Omit<D, keyof IpcPerm>;
  /** What IPC_SET reads besides ipc_perm (msg_qbytes), written into the zeroed struct. */
  writeSet?(b: Buffer, values: X): void;
}

/** The generic calls of one kind. Each throws IpcError named after the libc call. */
export interface ObjectCalls<D extends IpcPerm, X> {
  get(key: number, flags: number): number;
  stat(id: number): D;
  set(id: number, values: PermSet & X): void;
  remove(id: number): void;
}

/** How a *get failure names the key: `key 0x0000abcd`. */
export function keyName(key: number): string {
  return `key 0x${(key >>> 0).toString(16).padStart(8, '0')}`;
}

export function objectCalls<D extends IpcPerm, X = object>(k: KindCalls<D, X>): ObjectCalls<D, X> {
  const ctl = (id: number, cmd: number, addr: number, what: string): void => {
    const r = k.ctl(id, cmd, addr);
    if (r.value === -1) throw new IpcError(r.errno, `${k.ctlName} ${what}`, String(id));
  };
  return {
    get(key, flags) {
      const r = k.get(key, flags);
      if (r.value === -1) throw new IpcError(r.errno, k.getName, keyName(key));
      return r.value;
    },
    stat(id) {
      const mem = ctlMemory(k.size);
      ctl(id, IPC_STAT, mem.addr, 'IPC_STAT');
      // One object filled in place: a batch stats on every shm read and write.
      return Object.assign(readIpcPerm(mem.buf, k.permAt), k.read(mem.buf)) as D;
    },
    set(id, values) {
      const mem = ctlMemory(k.size);
      mem.buf.fill(0, 0, k.size);
      writeIpcPermSet(mem.buf, values, k.permAt);
      k.writeSet?.(mem.buf, values);
      ctl(id, IPC_SET, mem.addr, 'IPC_SET');
    },
    remove(id) {
      ctl(id, IPC_RMID, 0, 'IPC_RMID');
    },
  };
}
