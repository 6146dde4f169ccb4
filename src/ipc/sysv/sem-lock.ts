// sem lock: flock(1) for System V semaphores. The take is a semop with
// SEM_UNDO made by this process, which then waits for the command: if this
// process dies in any way (even SIGKILL) the kernel undoes the take, so a
// lock is never left held by nobody. The release is the opposite semop,
// also with SEM_UNDO, which cancels the pending adjustment.
import { EXIT, IpcError, OperationError, TimeoutError } from '../../errors.js';
import { runChild } from '../child.js';
import type { ObjectTarget } from './object.js';
import { SemaphoreSet } from './sem.js';
import { Deadline } from '../wait.js';

export type LockTarget = ObjectTarget;

export interface LockOptions {
  slot: number;
  take: number;
  /** Value of each semaphore of a set this call creates. */
  initial: number;
  mode: number;
  nowait: boolean;
  timeoutMs?: number;
  /** Exit code when the lock is not taken (--nowait, --timeout); default 1 or 124. */
  conflictExitCode?: number;
}

export type TakeResult = 'taken' | 'busy' | 'timeout';

/**
 * The set to lock: by id; or by key, created (race-free, with `initial` in
 * slot+1 semaphores) when no set has that key. An existing set is used as it
 * is, whoever made it.
 */
export async function lockSet(target: LockTarget, opts: LockOptions): Promise<SemaphoreSet> {
  if (target.kind === 'id') return SemaphoreSet.fromId(target.id);
  try {
    return await SemaphoreSet.fromKey(target);
  } catch (e) {
    if (!(e instanceof IpcError && e.code === 'ENOENT')) throw e;
  }
  const made = await SemaphoreSet.create({ key: target, count: opts.slot + 1, values: [opts.initial], mode: opts.mode, exclusive: false, initWaitMs: 3000 });
  return SemaphoreSet.fromId(made.id);
}

export async function take(set: SemaphoreSet, opts: LockOptions): Promise<TakeResult> {
  try {
    const done = await set.op([{ num: opts.slot, op: -opts.take }], { undo: true, nowait: opts.nowait, deadline: new Deadline(opts.timeoutMs) });
    return done ? 'taken' : 'busy';
  } catch (e) {
    if (e instanceof TimeoutError) return 'timeout';
    throw e;
  }
}

/** Give back what take() took; the kernel's undo entry goes with it. */
export async function release(set: SemaphoreSet, opts: LockOptions): Promise<void> {
  await set.op([{ num: opts.slot, op: opts.take }], { undo: true, nowait: true, deadline: new Deadline(undefined) });
}

/**
 * flock(1)'s whole job: take the lock (the set found or made as lockSet
 * says), run `argv`, give the lock back however the command ends. Returns
 * the command's exit status; a lock not taken is an OperationError with
 * the conflict exit code.
 */
export async function runLocked(target: LockTarget, opts: LockOptions, argv: string[]): Promise<number> {
  const set = await lockSet(target, opts);
  set.checkIndex(opts.slot, 'sem lock');
  const got = await take(set, opts);
  if (got !== 'taken') {
    const code = opts.conflictExitCode ?? (got === 'busy' ? EXIT.FAILED : EXIT.TIMEOUT);
    const why = got === 'busy' ? 'held by another process (--nowait)' : `still held after ${opts.timeoutMs}ms (--timeout)`;
    throw new OperationError(`sem lock ${set.name}: semaphore ${opts.slot} is ${why}`, code);
  }
  try {
    return await runChild(argv, `sem lock ${set.name}`);
  } finally {
    await release(set, opts);
  }
}
