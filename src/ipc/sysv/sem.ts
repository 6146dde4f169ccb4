// SemaphoreSet: a System V semaphore set as the commands use it. Typed
// values in, typed values or IpcError out; never prints.
//
// Creation is race-free by the classic technique: the creator makes the set
// with IPC_CREAT|IPC_EXCL, sets the values with SETALL, then performs one
// semop, which makes sem_otime non-zero. The kernel leaves sem_otime at 0
// until the first semop, so a process that finds the set already there waits
// for sem_otime != 0 and then uses it as it is: it never sees half-set
// values, and never resets them.
import { EXIT, IpcError, OperationError, TimeoutError, UsageError } from '../../errors.js';
import { sleepSync } from '../../sleep.js';
import * as native from '../../native/sysv/sem.js';
import { IPC_CREAT, IPC_EXCL } from '../../native/sysv/ipc.js';
import { relabelFor } from './relabel.js';
import { type KeySpec, describeKey, resolveKey } from './keys.js';
import { type PermChanges, type SemStat, SYSV_KINDS } from './kinds.js';
import { readKernelNumbers } from './limits.js';
import { SysvObject } from './object.js';
import { type Deadline, formatMs, isStopping, waitFor } from '../wait.js';

export const SEMVMX = native.SEMVMX;
export type SemOp = native.SemOp;
/** What `get` reads of one semaphore: GETVAL, GETPID, GETNCNT, GETZCNT. */
export type SemField = native.SemField;

export type { SemStat };

export interface SemDetail {
  num: number;
  value: number;
  ncnt: number;
  zcnt: number;
  pid: number;
}

const relabel = relabelFor('sem');

/** /proc/sys/kernel/sem: SEMMSL SEMMNS SEMOPM SEMMNI. */
export function semLimits(): { semmsl: number; semopm: number } {
  const [semmsl = 32000, , semopm = 500] = readKernelNumbers('sem');
  return { semmsl, semopm };
}

export interface CreateOptions {
  key: KeySpec;
  /** Number of semaphores; undefined: as many as values, or 1. */
  count?: number;
  /** One value for all, or one per semaphore; default 0. */
  values: number[];
  mode: number;
  exclusive: boolean;
  /** How long to wait for another creator to finish initialising. */
  initWaitMs: number;
}

export interface Created {
  id: number;
  /** False when the set existed and was opened as it was. */
  created: boolean;
}

export interface OpOptions {
  undo: boolean;
  nowait: boolean;
  deadline: Deadline;
  /** Told true when the ops must wait (they did not apply at once), false when the wait ends. */
  onWait?: (waiting: boolean) => void;
}

export class SemaphoreSet extends SysvObject<SemStat, PermChanges> {
  static readonly kind = SYSV_KINDS.sem;
  private nsemsCache: number | null = null;

  /** The per-semaphore values a create asks for, checked. */
  static initialValues(count: number | undefined, values: number[]): number[] {
    const n = count ?? Math.max(1, values.length);
    const { semmsl } = semLimits();
    if (n < 1 || n > semmsl) throw new UsageError(`sem create: --count must be from 1 to ${semmsl} (SEMMSL)`);
    for (const v of values) {
      if (v < 0 || v > native.SEMVMX) throw new UsageError(`sem create: value ${v} is outside 0..${native.SEMVMX} (SEMVMX)`);
    }
    if (values.length === 0) return new Array<number>(n).fill(0);
    if (values.length === 1) return new Array<number>(n).fill(values[0]!);
    if (values.length !== n) throw new UsageError(`sem create: ${values.length} values for ${n} semaphores: give one value for all, or one per semaphore`);
    return values;
  }

  static async create(opts: CreateOptions): Promise<Created> {
    const values = SemaphoreSet.initialValues(opts.count, opts.values);
    const key = await resolveKey(opts.key);
    const where = `key ${describeKey(key)}`;
    let id: number;
    try {
      id = native.semGet(key, values.length, IPC_CREAT | IPC_EXCL | opts.mode);
    } catch (e) {
      if (!(e instanceof IpcError && e.code === 'EEXIST') || opts.exclusive) return relabel(e, 'sem create', where);
      return { id: SemaphoreSet.openInitialised(key, opts.count, opts.initWaitMs), created: false };
    }
    SemaphoreSet.initialise(id, values, where);
    return { id, created: true };
  }

  /** SETALL, then one semop that leaves the values as they are but sets sem_otime. */
  private static initialise(id: number, values: number[], where: string): void {
    const first = values[0]!;
    // -1 then +1 when sem 0 is above 0, else +1 then -1: never blocks, never passes SEMVMX.
    const touch = new native.OpBuffer(
      first > 0
        ? [
            { num: 0, op: -1 },
            { num: 0, op: 1 },
          ]
        : [
            { num: 0, op: 1 },
            { num: 0, op: -1 },
          ],
      native.IPC_NOWAIT,
    );
    try {
      native.setAll(id, values);
      if (native.semOp(id, touch) !== 0) throw new OperationError(`sem create ${where}: the initialising semop would block`);
    } catch (e) {
      // Nothing half-done: a set nobody could trust is removed again.
      try {
        native.semCalls.remove(id);
      } catch {
        /* already gone */
      }
      relabel(e, 'sem create', where);
    } finally {
      touch.free();
    }
  }

  /** Open an existing set, waiting until its creator has initialised it. */
  private static openInitialised(key: number, count: number | undefined, waitMs: number): number {
    const where = `key ${describeKey(key)}`;
    let id: number;
    try {
      id = native.semCalls.get(key, 0);
    } catch (e) {
      return relabel(e, 'sem create', where);
    }
    const end = Date.now() + waitMs;
    for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
      let st: native.SemidDs;
      try {
        st = native.semCalls.stat(id);
      } catch (e) {
        return relabel(e, 'sem create', where);
      }
      if (count !== undefined && count > st.nsems) {
        throw new OperationError(
          `sem create ${where}: a set of ${st.nsems} semaphore${st.nsems === 1 ? '' : 's'} has that key; --count ${count} is more`,
          EXIT.FAILED,
        );
      }
      if (st.otime !== null) return id;
      if (Date.now() >= end) {
        throw new TimeoutError(
          `sem create ${where}: set ${id} exists but was never initialised (sem_otime is 0 after ${formatMs(waitMs)}); ` +
            'its creator may have died, or made it without ipcctl (ipcmk -S): use it by id',
        );
      }
      sleepSync(pause);
    }
  }

  override stat(op = 'sem stat'): SemStat {
    const st = super.stat(op);
    this.nsemsCache = st.nsems;
    return st;
  }

  /** Value, waiters and last pid of every semaphore (what ipcs -s -i shows). */
  details(op = 'sem stat'): SemDetail[] {
    const n = this.nsems(op);
    try {
      return Array.from({ length: n ?? 0 }, (_, num) => ({
        num,
        value: native.semField(this.id, num, 'val'),
        ncnt: native.semField(this.id, num, 'ncnt'),
        zcnt: native.semField(this.id, num, 'zcnt'),
        pid: native.semField(this.id, num, 'pid'),
      }));
    } catch (e) {
      return relabel(e, op, this.name);
    }
  }

  /** Number of semaphores, or null when we may not read the set (the kernel will judge). */
  nsems(op: string): number | null {
    if (this.nsemsCache === null) {
      try {
        this.nsemsCache = native.semCalls.stat(this.id).nsems;
      } catch (e) {
        if (e instanceof IpcError && e.code === 'EACCES') return null;
        relabel(e, op, this.name);
      }
    }
    return this.nsemsCache;
  }

  /** A clear error for an index outside the set, before the kernel's EFBIG. */
  checkIndex(num: number, op: string): void {
    const n = this.nsems(op);
    if (n !== null && num >= n) {
      throw new OperationError(`${op} ${this.name}: semaphore ${num} is outside the set (it has ${n}: 0 to ${n - 1})`, EXIT.USAGE);
    }
  }

  private ctl<T>(op: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      return relabel(e, op, this.name);
    }
  }

  /** One of GETVAL, GETPID, GETNCNT, GETZCNT on semaphore `num`, as `sem ctl get<field>`. */
  get(field: SemField, num: number): number {
    const op = `sem ctl get${field}`;
    this.checkIndex(num, op);
    return this.ctl(op, () => native.semField(this.id, num, field));
  }

  getAll(): number[] {
    const n = this.nsems('sem ctl getall') ?? 0;
    return this.ctl('sem ctl getall', () => native.getAll(this.id, n));
  }

  setVal(num: number, value: number): void {
    this.checkIndex(num, 'sem ctl setval');
    this.ctl('sem ctl setval', () => native.setVal(this.id, num, value));
  }

  setAll(values: number[]): void {
    const n = this.nsems('sem ctl setall');
    if (n !== null && values.length !== n) {
      throw new OperationError(`sem ctl setall ${this.name}: ${values.length} value${values.length === 1 ? '' : 's'} for a set of ${n}`, EXIT.USAGE);
    }
    this.ctl('sem ctl setall', () => native.setAll(this.id, values));
  }

  /**
   * Apply all `ops` in ONE semop, so they apply together or not at all.
   * Returns false when they would block under --nowait. Tries with
   * IPC_NOWAIT first: a native thread costs ~0.1 ms, a plain call microseconds.
   */
  async op(ops: SemOp[], opts: OpOptions): Promise<boolean> {
    // Reading the limit costs a file read per op: only a long list can pass it
    // (the kernel's E2BIG is relabelled anyway).
    if (ops.length > 8 && ops.length > semLimits().semopm)
      throw new UsageError(`sem op: ${ops.length} operations in one call; the limit is SEMOPM=${semLimits().semopm}`);
    // The index check costs an IPC_STAT: made only when the kernel says EFBIG.
    const buf = new native.OpBuffer(ops, opts.undo ? native.SEM_UNDO : 0);
    const what = `sem op ${this.name}`;
    // A call abandoned on Ctrl-C may still be starting on its thread: its
    // buffer must outlive it (the process exits right after, anyway).
    let abandoned = false;
    let waiting = false;
    try {
      buf.setNowait(true);
      if (native.semOp(this.id, buf) === 0) return true;
      if (opts.nowait) return false;
      buf.setNowait(false);
      waiting = opts.onWait !== undefined;
      opts.onWait?.(true);
      const r = await waitFor(
        native.semOpBlocking(this.id, buf, () => opts.deadline.remaining(), isStopping),
        {
          what,
          // We stopped waiting but the ops applied just then: take them back
          // (with --undo the kernel does that when we exit).
          // With --undo the revert carries SEM_UNDO too, so that the
          // adjustment is cancelled now: a batch does not exit right after.
          onLateResult: (late: number) => {
            if (late === 0) this.revert(ops, opts.undo);
          },
        },
      ).catch((e: unknown) => {
        abandoned = !(e instanceof IpcError);
        throw e;
      });
      if (r === native.WOULD_BLOCK) throw new TimeoutError(`${what}: timed out after ${formatMs(opts.deadline.total ?? 0)}`);
      return true;
    } catch (e) {
      if (e instanceof IpcError && e.code === 'EFBIG') for (const o of ops) this.checkIndex(o.num, 'sem op');
      if (e instanceof IpcError && e.code === 'ERANGE') {
        throw new IpcError(e.errno, 'sem op', this.name, {
          detail: `a semaphore would go above SEMVMX (${native.SEMVMX}); nothing applied`,
          exitCode: EXIT.FAILED,
        });
      }
      return relabel(e, 'sem op', this.name);
    } finally {
      if (waiting) opts.onWait?.(false);
      if (!abandoned) buf.free();
    }
  }

  private revert(ops: SemOp[], undo: boolean): void {
    const inverse = ops
      .filter((o) => o.op !== 0)
      .map((o) => ({ num: o.num, op: -o.op }))
      .reverse();
    if (inverse.length === 0) return;
    const b = new native.OpBuffer(inverse, native.IPC_NOWAIT | (undo ? native.SEM_UNDO : 0));
    try {
      native.semOp(this.id, b);
    } catch {
      /* best effort: the set may be gone */
    } finally {
      b.free();
    }
  }
}
