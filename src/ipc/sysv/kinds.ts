// The three System V kinds, each described once, the way util-linux's
// ipcutils.c drives every kind from one description: its name and noun, its
// kernel calls (msgget/shmget/semget to find it by key; msgctl/shmctl/semctl
// IPC_STAT, IPC_SET, IPC_RMID, see native/sysv/ctl.ts), how IPC_STAT reads
// into the domain's typed stat, what IPC_SET takes, and the words for each
// errno. SysvObject (object.ts) and removeObject (remove.ts) read nothing else.
//
// A kind's bindings load on first use: `msgq stat` binds no shm or sem call.
import type * as Msg from '../../native/sysv/msg.js';
import type * as Shm from '../../native/sysv/shm.js';
import type * as Sem from '../../native/sysv/sem.js';
import type { PermSet } from '../../native/sysv/ctl.js';
import type { Kind } from './procfs.js';
import { kernelLimit } from './limits.js';
import { detachKept } from './shm-kept.js';

export type MsqStat = Msg.MsqidDs & { id: number };
export type ShmStat = Shm.ShmidDs & { id: number; locked: boolean; removed: boolean };
export type SemStat = Sem.SemidDs & { id: number; values: number[] };

/** What `set` may change (IPC_SET); what is not given stays as it is. */
export interface PermChanges {
  mode?: number;
  uid?: number;
  gid?: number;
}
export interface MsqChanges extends PermChanges {
  qbytes?: number;
}

/** One kind, as the generic open/stat/set/remove use it. */
export interface SysvKind<S, C extends PermChanges> {
  readonly kind: Kind;
  /** What the user calls one: "queue". */
  readonly noun: string;
  /** The *get with no flags: the id of the object with `key`. */
  open(key: number): number;
  /** IPC_STAT, read into the typed stat. */
  stat(id: number): S;
  /** IPC_SET with `changes` over what the object has now. */
  set(id: number, changes: C, cur: S): void;
  /** A refusal of IPC_SET said better than its errno alone, or undefined. */
  setRefusal?(code: string, changes: C, cur: S): { detail: string; hint: string } | undefined;
  /** Before IPC_RMID: let go of what this process holds of the object. */
  beforeRemove?(id: number): void;
  /** IPC_RMID. */
  remove(id: number): void;
  /** What each errno means for this kind (read when an error is relabelled). */
  phrases(): Record<string, string>;
  /** Which limit ENOSPC met, and the sysctl that raises it. */
  readonly spaceHint: string;
}

function loader<T>(load: () => T): () => T {
  let m: T | undefined;
  return () => (m ??= load());
}
const msg = loader(() => require('../../native/sysv/msg.js') as typeof Msg);
const shm = loader(() => require('../../native/sysv/shm.js') as typeof Shm);
const sem = loader(() => require('../../native/sysv/sem.js') as typeof Sem);

/** ipc_perm as IPC_SET gets it: each change, or the value now. */
function perm(changes: PermChanges, cur: PermSet): PermSet {
  return { uid: changes.uid ?? cur.uid, gid: changes.gid ?? cur.gid, mode: changes.mode ?? cur.mode };
}

/** The phrases every kind shares, in its noun, then its own. */
function phrasesOf(noun: string, space: string, own: Record<string, string> = {}): Record<string, string> {
  return {
    EIDRM: `the ${noun} was removed`,
    EINVAL: `no such ${noun}`,
    ENOENT: `no ${noun} has that key`,
    EEXIST: `a ${noun} with that key already exists`,
    EACCES: 'permission denied',
    EPERM: 'not permitted: only the owner, the creator or root may do this',
    ENOSPC: space,
    ...own,
  };
}

const msgqKind: SysvKind<MsqStat, MsqChanges> = {
  kind: 'msgq',
  noun: 'queue',
  open: (key) => msg().msgCalls.get(key, 0),
  stat: (id) => ({ id, ...msg().msgCalls.stat(id) }),
  set: (id, changes, cur) => msg().msgCalls.set(id, { ...perm(changes, cur), qbytes: changes.qbytes ?? cur.qbytes }),
  // Raising msg_qbytes above kernel.msgmnb is EPERM without CAP_SYS_RESOURCE.
  setRefusal: (code, changes, cur) =>
    code === 'EPERM' && changes.qbytes !== undefined && changes.qbytes > cur.qbytes
      ? {
          detail: `raising --max-bytes above kernel.msgmnb needs CAP_SYS_RESOURCE`,
          hint: `kernel.msgmnb is ${kernelLimit('msgmnb', 16384)}; raise it with sysctl`,
        }
      : undefined,
  remove: (id) => msg().msgCalls.remove(id),
  phrases: () => phrasesOf('queue', 'too many queues', { E2BIG: 'the message is larger than the receive buffer' }),
  spaceHint: 'too many queues: the limit is kernel.msgmni; raise it with sysctl -w kernel.msgmni=N',
};

const shmKind: SysvKind<ShmStat, PermChanges> = {
  kind: 'shm',
  noun: 'segment',
  open: (key) => shm().shmCalls.get(key, 0),
  stat(id) {
    const n = shm();
    const ds = n.shmCalls.stat(id) as ShmStat;
    // Completed in place, not copied: a batch stats on every read and write.
    ds.id = id;
    ds.locked = (ds.mode & n.SHM_LOCKED) !== 0;
    ds.removed = (ds.mode & n.SHM_DEST) !== 0;
    return ds;
  },
  set: (id, changes, cur) => shm().shmCalls.set(id, perm(changes, cur)),
  // A batch may hold it attached: an IPC_RMID must not leave our mapping behind.
  beforeRemove: detachKept,
  remove: (id) => shm().shmCalls.remove(id),
  phrases: () => phrasesOf('segment', 'too many segments, or the system-wide shared memory limit is reached', { ENOMEM: 'out of memory' }),
  spaceHint: 'the limit is kernel.shmmni (segments) or kernel.shmall (pages); raise it with sysctl',
};

const semKind: SysvKind<SemStat, PermChanges> = {
  kind: 'sem',
  noun: 'semaphore set',
  open: (key) => sem().semCalls.get(key, 0),
  stat(id) {
    const ds = sem().semCalls.stat(id);
    return { id, ...ds, values: sem().getAll(id, ds.nsems) };
  },
  set: (id, changes, cur) => sem().semCalls.set(id, perm(changes, cur)),
  remove: (id) => sem().semCalls.remove(id),
  phrases: () =>
    phrasesOf('semaphore set', 'too many semaphore sets or semaphores (kernel.sem limits)', {
      EFBIG: 'semaphore index outside the set',
      E2BIG: 'too many operations in one call (SEMOPM)',
      ERANGE: `a semaphore would go above SEMVMX (${sem().SEMVMX})`,
    }),
  spaceHint: 'the limit is in kernel.sem (semmni sets, semmns semaphores); raise it with sysctl',
};

/** The table: every kind by its name. */
export const SYSV_KINDS = { msgq: msgqKind, shm: shmKind, sem: semKind } as const satisfies Record<Kind, SysvKind<unknown, PermChanges>>;
