// Events (Win32 CreateEvent/SetEvent/ResetEvent/PulseEvent/WaitFor..., and
// Python's threading.Event) on System V semaphores, one semaphore per event.
// The value says both the kind and the state, so that any process (Perl,
// Python, C) can use an event with plain semop, and a waiter never needs a
// second call to learn what it waits on:
//
//   value 0  auto-reset event, reset      value 2  manual-reset event, reset
//   value 1  auto-reset event, set        value 3  manual-reset event, set
//
// Every change is ONE semop with IPC_NOWAIT, so it applies whole or not at
// all, and the kernel wakes waiters inside that same call (Linux performs a
// sleeper's operations for it, under the set's lock, before the call
// returns):
//   auto   set    {0 wait-for-zero, +1}    0 -> 1; on 1 EAGAIN: already set
//          reset  {-1}                     1 -> 0; on 0 EAGAIN: already reset
//          wait   {-1}                     blocks at 0; exactly one waiter
//                                          takes a set event, which resets it
//   manual set    {-2, 0, +3}              2 -> 3; on 3 the 0 fails: already set
//          reset  {-3, +2}                 3 -> 2; on 2 EAGAIN: already reset
//          wait   {-3, +3}                 blocks at 2; passes at 3 and leaves 3,
//                                          so every waiter passes, and later
//                                          ones too, until a reset
// pulse is set then reset (two calls): every manual waiter that was queued
// when the set happened passes, one auto waiter does, and the event ends
// reset. A wait that starts in the instant between the two calls passes too.
// Waiters of both kinds block on a decrement, so the kernel counts them in
// semncnt: that is the number `stat` shows.
import { EXIT, IpcError, OperationError, TimeoutError } from '../../errors.js';
import * as native from '../../native/sysv/sem.js';
import { relabeller } from './relabel.js';
import { SemaphoreSet } from './sem.js';
import { type Deadline, formatMs, isStopping, waitFor } from '../wait.js';

export type EventKind = 'manual' | 'auto';

const BASE: Record<EventKind, number> = { auto: 0, manual: 2 };

export const SET_OPS: Record<EventKind, native.SemOp[]> = {
  auto: [
    { num: 0, op: 0 },
    { num: 0, op: 1 },
  ],
  manual: [
    { num: 0, op: -2 },
    { num: 0, op: 0 },
    { num: 0, op: 3 },
  ],
};
export const RESET_OPS: Record<EventKind, native.SemOp[]> = {
  auto: [{ num: 0, op: -1 }],
  manual: [
    { num: 0, op: -3 },
    { num: 0, op: 2 },
  ],
};
export const WAIT_OPS: Record<EventKind, native.SemOp[]> = {
  auto: [{ num: 0, op: -1 }],
  manual: [
    { num: 0, op: -3 },
    { num: 0, op: 3 },
  ],
};

/** The semaphore value of an event of `kind` in `state`. */
export function eventValue(kind: EventKind, set: boolean): number {
  return BASE[kind] + (set ? 1 : 0);
}

export interface EventState {
  num: number;
  kind: EventKind;
  set: boolean;
  /** Processes blocked in wait (semncnt). */
  waiting: number;
}

const phrases: Record<string, string> = {
  EIDRM: 'the event set was removed',
  EINVAL: 'no such event set',
  ENOENT: 'no event set has that key',
  EEXIST: 'an event set with that key already exists',
  EACCES: 'permission denied',
  EPERM: 'not permitted: only the owner, the creator or root may do this',
  EFBIG: 'event number outside the set',
};
const relabel = relabeller('sem', () => phrases);

export class EventRef {
  constructor(
    readonly set: SemaphoreSet,
    readonly num: number,
  ) {}

  get name(): string {
    return `${this.set.id}:${this.num}`;
  }

  private ops(kind: EventKind, table: Record<EventKind, native.SemOp[]>): native.SemOp[] {
    return table[kind].map((o) => ({ num: this.num, op: o.op }));
  }

  /** The event's kind and state, from its value (one GETVAL). */
  read(op: string): { kind: EventKind; set: boolean } {
    this.set.checkIndex(this.num, op);
    let v: number;
    try {
      v = native.semField(this.set.id, this.num, 'val');
    } catch (e) {
      return relabel(e, op, this.name);
    }
    if (v > 3) {
      throw new OperationError(
        `${op} ${this.name}: the semaphore holds ${v}, which is no event state (0-1 auto, 2-3 manual); was it made with 'ipcctl event create'?`,
        EXIT.FAILED,
      );
    }
    return { kind: v >= 2 ? 'manual' : 'auto', set: v % 2 === 1 };
  }

  /** One semop with IPC_NOWAIT: true when it applied, false on EAGAIN. */
  private tryOps(ops: native.SemOp[], op: string): boolean {
    const buf = new native.OpBuffer(ops, native.IPC_NOWAIT);
    try {
      return native.semOp(this.set.id, buf) === 0;
    } catch (e) {
      return relabel(e, op, this.name);
    } finally {
      buf.free();
    }
  }

  /** Set; false when it was set already. */
  setEvent(): boolean {
    const { kind } = this.read('event set');
    return this.tryOps(this.ops(kind, SET_OPS), 'event set');
  }

  /** Reset; false when it was reset already. */
  resetEvent(): boolean {
    const { kind } = this.read('event reset');
    return this.tryOps(this.ops(kind, RESET_OPS), 'event reset');
  }

  /** Wake who waits now (all manual waiters, one auto waiter) and leave it reset. */
  pulse(): void {
    const { kind } = this.read('event pulse');
    this.tryOps(this.ops(kind, SET_OPS), 'event pulse');
    this.tryOps(this.ops(kind, RESET_OPS), 'event pulse');
  }

  /**
   * Wait until the event is set (an auto event is reset by this wait).
   * `deadline` of 0 only tests: false at once when not set.
   */
  async wait(deadline: Deadline): Promise<boolean> {
    const what = `event wait ${this.name}`;
    const { kind } = this.read('event wait');
    const ops = this.ops(kind, WAIT_OPS);
    if (this.tryOps(ops, 'event wait')) return true;
    if (deadline.total === 0) return false;
    const buf = new native.OpBuffer(ops, 0);
    let abandoned = false;
    try {
      const r = await waitFor(
        native.semOpBlocking(this.set.id, buf, () => deadline.remaining(), isStopping),
        {
          what,
          // Interrupted just as an auto event was taken: set it again (a set
          // that came meanwhile merges with it, as two sets of an event do).
          onLateResult: (late: number) => {
            if (late === 0 && kind === 'auto') this.tryOps(this.ops(kind, SET_OPS), 'event wait');
          },
        },
      ).catch((e: unknown) => {
        abandoned = !(e instanceof IpcError);
        throw e;
      });
      if (r === native.WOULD_BLOCK) throw new TimeoutError(`${what}: timed out after ${formatMs(deadline.total ?? 0)}`);
      return true;
    } catch (e) {
      return relabel(e, 'event wait', this.name);
    } finally {
      if (!abandoned) buf.free();
    }
  }

  state(): EventState {
    const { kind, set } = this.read('event stat');
    let waiting: number;
    try {
      waiting = native.semField(this.set.id, this.num, 'ncnt');
    } catch (e) {
      return relabel(e, 'event stat', this.name);
    }
    return { num: this.num, kind, set, waiting };
  }
}
