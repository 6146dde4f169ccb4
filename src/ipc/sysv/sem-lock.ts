// sem lock: flock(1) for System V semaphores. The take is a semop with
// SEM_UNDO made by this process, which then waits for the command: if this
// process dies in any way (even SIGKILL) the kernel undoes the take, so a
// lock is never left held by nobody. The release is the opposite semop,
// also with SEM_UNDO, which cancels the pending adjustment.
import { IpcError, TimeoutError } from '../../errors.js';
import type { KeySpec } from './keys.js';
import { SemaphoreSet } from './sem.js';
import { Deadline } from '../wait.js';

export type LockTarget = { kind: 'id'; id: number } | KeySpec;

export interface LockOptions {
  slot: number;
  take: number;
  /** Value of each semaphore of a set this call creates. */
  initial: number;
  mode: number;
  nowait: boolean;
  timeoutMs?: number;
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
