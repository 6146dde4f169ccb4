// SharedMemory: a System V shared memory segment as the commands use it.
// Typed values in, typed values or IpcError out; never prints. Reading and
// writing happen inside withAttached(), which detaches on every path out, so
// no view of a detached segment can escape.
import { EXIT, IpcError, OperationError, UsageError } from '../../errors.js';
import { AnonymousMemory } from '../../native/memory.js';
import * as native from '../../native/sysv/shm.js';
import { IPC_CREAT, IPC_EXCL } from '../../native/sysv/ipc.js';
import { relabelFor } from './relabel.js';
import { type KeySpec, describeKey, resolveKey } from './keys.js';
import { type PermChanges, type ShmStat, SYSV_KINDS } from './kinds.js';
import { kernelLimit, readKernelNumbers } from './limits.js';
import { SysvObject } from './object.js';
import { type Attachment, detachKept, keepSegmentsAttached, keptAttachments } from './shm-kept.js';

export type { Attachment, ShmStat };
// For batch (ipc/batch/engine.ts): segments stay attached between its commands.
export { detachKept, keepSegmentsAttached };

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
/** Bytes per window when streaming a segment: big enough for few syscalls. */
export const CHUNK = 8 << 20;

const relabel = relabelFor('shm');

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

export class SharedMemory extends SysvObject<ShmStat, PermChanges> {
  static readonly kind = SYSV_KINDS.shm;

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
          existing = native.shmCalls.stat(native.shmCalls.get(key, 0)).size;
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

  /**
   * shmat the segment. A segment already removed (IPC_RMID while others are
   * still attached) is refused: Linux would allow it, but to a user it is gone.
   */
  attach(readOnly: boolean, op: string, known?: ShmStat): { attachment: Attachment; stat: ShmStat } {
    const st = known ?? this.stat(op);
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

  /**
   * Run `fn` with the segment attached; detach whatever happens (in a batch:
   * at its end). `known`: the caller's IPC_STAT of just now, which the
   * attach then does not repeat.
   */
  withAttached<T>(readOnly: boolean, op: string, fn: (a: Attachment, st: ShmStat) => T, known?: ShmStat): T {
    const kept = keptAttachments();
    if (kept) return this.withBatchAttachment(kept, readOnly, op, fn, known);
    const { attachment, stat } = this.attach(readOnly, op, known);
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
  private withBatchAttachment<T>(
    batchAttachments: Map<string, Attachment>,
    readOnly: boolean,
    op: string,
    fn: (a: Attachment, st: ShmStat) => T,
    known: ShmStat | undefined,
  ): T {
    const name = `${this.id}:${readOnly ? 'r' : 'w'}`;
    // A writable attachment serves reads too.
    const kept = (readOnly ? batchAttachments.get(`${this.id}:w`) : undefined) ?? batchAttachments.get(name);
    if (kept) {
      let st: ShmStat;
      try {
        st = known ?? this.stat(op);
      } catch (e) {
        detachKept(this.id);
        throw e;
      }
      if (!st.removed && st.size === kept.size) return fn(kept, st);
      detachKept(this.id);
    }
    const { attachment, stat } = this.attach(readOnly, op, known);
    batchAttachments.set(name, attachment);
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
