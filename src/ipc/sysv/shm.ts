// SharedMemory: a System V shared memory segment as the commands use it.
// Typed values in, typed values or IpcError out; never prints. Reading and
// writing happen inside withAttached(), which detaches on every path out, so
// no view of a detached segment can escape.
import { EXIT, IpcError, OperationError, UsageError } from '../../errors.js';
import { AnonymousMemory } from '../../native/memory.js';
import * as native from '../../native/sysv/shm.js';
import { IPC_CREAT, IPC_EXCL } from '../../native/sysv/ipc.js';
import { relabeller } from './relabel.js';
import { type KeySpec, createSayingWhether, describeKey, forgetId, idOfKey, resolveKey } from './keys.js';
import { kernelLimit, readKernelNumbers } from './limits.js';

export type ShmStat = native.ShmidDs & { id: number; locked: boolean; removed: boolean };

/** Private memory to gather input in before it may go into a segment. */
export interface Staging {
  readonly size: number;
  view(offset: number, length: number): Buffer;
  free(): void;
}

/**
 * `size` bytes of private memory, reserved but not touched (huge pages when
 * the kernel gives them). Null when the system will not map that much.
 */
export function stagingMemory(size: number): Staging | null {
  return AnonymousMemory.map(size);
}
/**
 * A segment attached to this process, as the domain and the commands see it
 * (native.Attachment is one, its address kept inside): windows of its bytes,
 * a prefault hint before a bulk copy, and shmdt.
 */
export interface Attachment {
  readonly id: number;
  readonly size: number;
  readonly isAttached: boolean;
  /** `length` bytes at `offset`, aliasing the segment; valid until detach(). */
  view(offset: number, length: number): Buffer;
  prefault(offset: number, length: number, forWrite: boolean): void;
  detach(): void;
}

let batchAttachments: Map<string, Attachment> | null = null;

/** For batch: keep segments attached between commands (see withBatchAttachment). */
export function keepSegmentsAttached(): void {
  batchAttachments ??= new Map();
}

/** Detach what a batch keeps of segment `id` (it is being removed, or changed). */
export function detachKept(id: number): void {
  if (!batchAttachments) return;
  for (const mode of ['r', 'w']) {
    const a = batchAttachments.get(`${id}:${mode}`);
    if (!a) continue;
    batchAttachments.delete(`${id}:${mode}`);
    try {
      a.detach();
    } catch {
      /* already unmapped */
    }
  }
}

/** Bytes per window when streaming a segment: big enough for few syscalls. */
export const CHUNK = 8 << 20;

const phrases: Record<string, string> = {
  EIDRM: 'the segment was removed',
  EINVAL: 'no such segment',
  ENOENT: 'no segment has that key',
  EEXIST: 'a segment with that key already exists',
  EACCES: 'permission denied',
  EPERM: 'not permitted: only the owner, the creator or root may do this',
  ENOSPC: 'too many segments, or the system-wide shared memory limit is reached',
  ENOMEM: 'out of memory',
};

const relabel = relabeller('shm', phrases);

export interface CreateOptions {
  key: KeySpec;
  size: number;
  mode: number;
  exclusive: boolean;
}

/** SHMMAX as this kernel has it (a size_t: may be above 2^53, then "no limit"). */
export function shmmax(): number {
  const [n] = readKernelNumbers('shmmax');
  return n === undefined || Number.isNaN(n) ? Number.MAX_SAFE_INTEGER : Math.min(n, Number.MAX_SAFE_INTEGER);
}

export class SharedMemory {
  private constructor(readonly id: number) {}

  /** Create a segment (or open the one with the key) and return its id. */
  static async create(opts: CreateOptions): Promise<number> {
    if (opts.size <= 0) throw new UsageError('shm create: --size must be above 0');
    const max = shmmax();
    if (opts.size > max) {
      throw new OperationError(`shm create: size ${opts.size} is above the system limit shmmax=${max}`, EXIT.FAILED, 'raise it with sysctl kernel.shmmax');
    }
    const key = await resolveKey(opts.key);
    const flags = IPC_CREAT | (opts.exclusive ? IPC_EXCL : 0) | opts.mode;
    try {
      return native.shmGet(key, opts.size, flags);
    } catch (e) {
      // Opening an existing segment with a larger size is EINVAL.
      if (e instanceof IpcError && e.code === 'EINVAL' && key !== 0) {
        let existing: number | null = null;
        try {
          existing = native.shmStat(native.shmGet(key, 0, 0)).size;
        } catch {
          /* fall through to the plain message */
        }
        if (existing !== null) {
          throw new IpcError(e.errno, 'shm create', `key ${describeKey(key)}`, {
            detail: `a segment of ${existing} bytes has that key; --size ${opts.size} is larger`,
            exitCode: EXIT.FAILED,
          });
        }
      }
      if (e instanceof IpcError && e.code === 'ENOMEM') {
        // shmall counts pages; a default kernel has it near 2^64, saying nothing.
        const shmall = kernelLimit('shmall', 0);
        const hint = shmall > 0 && shmall < 2 ** 40 ? `kernel.shmall is ${shmall} pages` : undefined;
        throw new IpcError(e.errno, 'shm create', `key ${describeKey(key)}`, { detail: `not enough memory for ${opts.size} bytes`, hint });
      }
      return relabel(e, 'shm create', `key ${describeKey(key)}`);
    }
  }

  /** create(), also saying whether this call made the object (see createSayingWhether). */
  static createNew(opts: CreateOptions): Promise<{ id: number; created: boolean }> {
    return createSayingWhether(opts, (o) => this.create(o));
  }

  static fromId(id: number): SharedMemory {
    return new SharedMemory(id);
  }

  static async fromKey(spec: KeySpec): Promise<SharedMemory> {
    return new SharedMemory(await idOfKey('shm', spec, (key) => native.shmGet(key, 0, 0), relabel));
  }

  get name(): string {
    return String(this.id);
  }

  stat(op = 'shm stat'): ShmStat {
    try {
      const st = native.shmStat(this.id);
      return { id: this.id, ...st, locked: (st.mode & native.SHM_LOCKED) !== 0, removed: (st.mode & native.SHM_DEST) !== 0 };
    } catch (e) {
      return relabel(e, op, this.name);
    }
  }

  set(changes: { mode?: number; uid?: number; gid?: number }): ShmStat {
    const cur = this.stat('shm set');
    try {
      native.shmSet(this.id, { uid: changes.uid ?? cur.uid, gid: changes.gid ?? cur.gid, mode: changes.mode ?? cur.mode });
    } catch (e) {
      relabel(e, 'shm set', this.name);
    }
    return this.stat('shm set');
  }

  lock(lock: boolean): void {
    const op = lock ? 'shm lock' : 'shm unlock';
    try {
      native.shmLock(this.id, lock);
    } catch (e) {
      if (e instanceof IpcError && e.code === 'ENOMEM') {
        throw new IpcError(e.errno, op, this.name, {
          detail: 'locking it would pass your locked-memory limit (RLIMIT_MEMLOCK)',
          hint: 'see ulimit -l',
          exitCode: EXIT.FAILED,
        });
      }
      if (e instanceof IpcError && e.code === 'EPERM') {
        throw new IpcError(e.errno, op, this.name, {
          detail: 'only the owner or creator may lock it, and needs a locked-memory limit above 0 or CAP_IPC_LOCK',
        });
      }
      relabel(e, op, this.name);
    }
  }

  remove(): void {
    forgetId('shm', this.id);
    detachKept(this.id);
    try {
      native.shmRemove(this.id);
    } catch (e) {
      relabel(e, 'shm rm', this.name);
    }
  }

  /**
   * shmat the segment. A segment already removed (IPC_RMID while others are
   * still attached) is refused: Linux would allow it, but to a user it is gone.
   */
  attach(readOnly: boolean, op: string): { attachment: Attachment; stat: ShmStat } {
    const st = this.stat(op);
    // A segment marked for removal (IPC_RMID while others are attached) can
    // still be attached on Linux; removedNote() lets the command say so.
    if (st.removed) this.sawRemoved = st.nattch + 1;
    try {
      return { attachment: native.Attachment.attach(this.id, st.size, readOnly), stat: st };
    } catch (e) {
      if (e instanceof IpcError && e.code === 'EACCES') {
        throw new IpcError(e.errno, op, this.name, {
          detail: readOnly ? 'no read permission' : 'no write permission',
          hint: readOnly ? undefined : `mode is ${(st.mode & 0o777).toString(8).padStart(4, '0')}`,
        });
      }
      return relabel(e, op, this.name);
    }
  }

  /** Attachments (ours included) when a removed segment was last seen attached; 0: never seen removed. */
  private sawRemoved = 0;

  /**
   * After withAttached: if the segment was (or became) marked for removal,
   * what the user should know: the data lives only until the last detach.
   */
  removedNote(): string | null {
    if (this.sawRemoved === 0) return null;
    return this.sawRemoved <= 1
      ? 'the segment is marked for removal and this was its last attachment: it is gone now, and the data with it'
      : `the segment is marked for removal: it goes away, with the data, when ${this.sawRemoved === 2 ? 'its other user detaches' : `its ${this.sawRemoved - 1} other users detach`}`;
  }

  /** Run `fn` with the segment attached; detach whatever happens (in a batch: at its end). */
  withAttached<T>(readOnly: boolean, op: string, fn: (a: Attachment, st: ShmStat) => T): T {
    if (batchAttachments) return this.withBatchAttachment(readOnly, op, fn);
    const { attachment, stat } = this.attach(readOnly, op);
    let ok = false;
    try {
      const result = fn(attachment, stat);
      ok = true;
      // Removed while we worked? Look once more while still attached.
      try {
        const after = this.stat(op);
        if (after.removed) this.sawRemoved = after.nattch;
      } catch {
        /* gone already: nothing to add */
      }
      return result;
    } finally {
      try {
        attachment.detach();
      } catch (e) {
        if (ok) relabel(e, op, this.name); // do not hide the first error behind this one
      }
    }
  }

  // In a batch a segment stays attached from its first read or write to the
  // end of the batch (shmat and shmdt map and unmap pages: they cost more
  // than a small read). Each use still makes the IPC_STAT a fresh attach
  // makes, so a segment removed meanwhile is refused the same way.
  private withBatchAttachment<T>(readOnly: boolean, op: string, fn: (a: Attachment, st: ShmStat) => T): T {
    const name = `${this.id}:${readOnly ? 'r' : 'w'}`;
    // A writable attachment serves reads too.
    const kept = (readOnly ? batchAttachments!.get(`${this.id}:w`) : undefined) ?? batchAttachments!.get(name);
    if (kept) {
      let st: ShmStat;
      try {
        st = this.stat(op);
      } catch (e) {
        detachKept(this.id);
        throw e;
      }
      if (!st.removed && st.size === kept.size) return fn(kept, st);
      detachKept(this.id);
    }
    const { attachment, stat } = this.attach(readOnly, op);
    batchAttachments!.set(name, attachment);
    return fn(attachment, stat);
  }

  /** Check that [offset, offset+length) lies inside a segment of `size` bytes. */
  static checkRange(op: string, id: number, size: number, offset: number, length: number | undefined): number {
    if (offset > size || (offset === size && length !== 0)) {
      throw new OperationError(`${op} ${id}: offset ${offset} is past the end of the ${size}-byte segment`, EXIT.USAGE);
    }
    const len = length ?? size - offset;
    if (offset + len > size) {
      throw new OperationError(
        `${op} ${id}: ${len} bytes at offset ${offset} go past the end of the ${size}-byte segment (${size - offset} bytes fit)`,
        EXIT.USAGE,
      );
    }
    return len;
  }
}
