// shmget, shmat, shmdt, shmctl and struct shmid_ds.
// An attached segment is viewed as a Buffer that aliases the mapping (no
// copy). Such a view must never be touched after shmdt: the memory is gone,
// and a read would crash the process. Attachment hands out views only while
// it is attached, and callers keep them inside withAttachment-style scopes.
import { IpcError } from '../../errors.js';
import { bind, bindPointer } from '../bind.js';
import { C } from '../library.js';
import { shmid_ds } from '../layouts.js';
import { prefault, viewAt } from '../memory.js';
import { keyName, objectCalls } from './ctl.js';
import { type IpcPerm, timeOrNull } from './ipc.js';

export const SHM_RDONLY = 0o10000;
export const SHM_LOCK = 11;
export const SHM_UNLOCK = 12;
/** Mode bits the kernel keeps in shm_perm.mode. */
export const SHM_DEST = 0o1000;
export const SHM_LOCKED = 0o2000;

const shmget = bind('shmget', C.int, [C.int, C.size_t, C.int]);
const shmat = bindPointer('shmat', [C.int, C.ptr, C.int]);
const shmdt = bind('shmdt', C.int, [C.ptr]);
const shmctl = bind('shmctl', C.int, [C.int, C.int, C.ptr]);

export interface ShmidDs extends IpcPerm {
  size: number;
  atime: number | null;
  dtime: number | null;
  ctime: number | null;
  cpid: number;
  lpid: number;
  nattch: number;
}

export function shmGet(key: number, size: number, flags: number): number {
  const r = shmget.call(key, size, flags);
  if (r.value === -1) throw new IpcError(r.errno, 'shmget', keyName(key));
  return r.value;
}

/** The largest Buffer Node can make; bigger segments are seen through windows. */
const MAX_VIEW = 2 ** 31;

/** One shmat of a segment, until detach(). */
export class Attachment {
  private attached = true;

  private constructor(
    readonly id: number,
    private readonly addr: number,
    readonly size: number,
  ) {}

  static attach(id: number, size: number, readOnly: boolean): Attachment {
    const r = shmat.call(id, 0, readOnly ? SHM_RDONLY : 0);
    if (r.addr === -1) throw new IpcError(r.errno, 'shmat', String(id));
    return new Attachment(id, r.addr, size);
  }

  /**
   * `length` bytes at `offset`, aliasing the segment. Valid only until
   * detach(); a window is cheap (one call), so ask for one per chunk.
   */
  view(offset: number, length: number): Buffer {
    if (!this.attached) throw new Error(`segment ${this.id} is detached`);
    if (offset < 0 || length < 0 || offset + length > this.size) throw new RangeError(`window ${offset}+${length} outside ${this.size} bytes`);
    if (length > MAX_VIEW) throw new RangeError(`window of ${length} bytes is larger than one view`);
    if (this.size > MAX_VIEW) return viewAt(this.addr + offset, length);
    // One view of the whole segment, made at the first window: later windows
    // (a batch's every read and write of a kept attachment) are slices of it,
    // without the two native calls a view costs. Dropped at detach.
    this.whole ??= viewAt(this.addr, this.size);
    return this.whole.subarray(offset, offset + length);
  }

  private whole: Buffer | null = null;

  /** Map the window's pages in one call before a bulk copy (a hint; see memory.ts). */
  prefault(offset: number, length: number, forWrite: boolean): void {
    if (this.attached) prefault(this.addr + offset, length, forWrite);
  }

  get isAttached(): boolean {
    return this.attached;
  }

  /** shmdt; safe to call twice. */
  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.whole = null;
    const r = shmdt.call(this.addr);
    if (r.value === -1) throw new IpcError(r.errno, 'shmdt', String(this.id));
  }
}

/** shmget (size 0: open an existing one) and shmctl on struct shmid_ds. */
export const shmCalls = objectCalls<ShmidDs>({
  getName: 'shmget',
  ctlName: 'shmctl',
  get: (key, flags) => shmget.call(key, 0, flags),
  ctl: (id, cmd, addr) => shmctl.call(id, cmd, addr),
  size: shmid_ds.size,
  permAt: shmid_ds.fields.shm_perm,
  read(b) {
    const f = shmid_ds.fields;
    return {
      size: Number(b.readBigUInt64LE(f.shm_segsz)),
      atime: timeOrNull(b.readBigInt64LE(f.shm_atime)),
      dtime: timeOrNull(b.readBigInt64LE(f.shm_dtime)),
      ctime: timeOrNull(b.readBigInt64LE(f.shm_ctime)),
      cpid: b.readInt32LE(f.shm_cpid),
      lpid: b.readInt32LE(f.shm_lpid),
      nattch: Number(b.readBigUInt64LE(f.shm_nattch)),
    };
  },
});

/** SHM_LOCK / SHM_UNLOCK: keep the pages in RAM, or let them be swapped again. */
export function shmLock(id: number, lock: boolean): void {
  const r = shmctl.call(id, lock ? SHM_LOCK : SHM_UNLOCK, 0);
  if (r.value === -1) throw new IpcError(r.errno, lock ? 'shmctl SHM_LOCK' : 'shmctl SHM_UNLOCK', String(id));
}
