// PosixSemaphore: a named POSIX semaphore (sem_open) as the commands use it.
// post and trywait never block; a wait that must block runs sem_timedwait
// on a native thread and races it against SIGINT and --timeout (wait.ts),
// as the blocking System V calls do. A unit taken by a wait that was given
// up (Ctrl-C came first) is posted back, so an abandoned wait takes nothing.
//
// A named POSIX semaphore has no undo: a process that dies holding a unit
// does not give it back (System V's SEM_UNDO has no POSIX counterpart).
import { chmodSync } from 'node:fs';
import { IpcError, TimeoutError, UsageError } from '../../errors.js';
import * as native from '../../native/posix/sem.js';
import { type Deadline, formatMs, isStopping, waitFor } from '../wait.js';
import { fileOf, relabelPosix } from './errors.js';

export const SEM_VALUE_MAX = native.SEM_VALUE_MAX;

const fail = (e: unknown, op: string, name: string): never => relabelPosix('psem', e, op, name);

export class PosixSemaphore {
  private constructor(private readonly sem: native.NamedSemaphore) {}

  get name(): string {
    return this.sem.name;
  }

  /**
   * Create with `value`, or open the one with that name (unless exclusive):
   * a semaphore another process made is never reset. The mode is set on its
   * /dev/shm file with chmod, so the umask does not narrow it.
   */
  static create(name: string, value: number, mode: number, exclusive: boolean): { semaphore: PosixSemaphore; created: boolean } {
    if (!Number.isInteger(value) || value < 0 || value > SEM_VALUE_MAX)
      throw new UsageError(`psem create: --value ${value} is out of range 0..${SEM_VALUE_MAX}`);
    try {
      const s = native.NamedSemaphore.open(name, native.O_CREAT | native.O_EXCL, mode, value);
      try {
        chmodSync(fileOf('psem', name), mode);
      } catch {
        /* the umask-narrowed mode stays; stat shows it */
      }
      return { semaphore: new PosixSemaphore(s), created: true };
    } catch (e) {
      if (exclusive || !(e instanceof IpcError) || e.code !== 'EEXIST') return fail(e, 'psem create', name);
    }
    return { semaphore: PosixSemaphore.open(name, 'psem create'), created: false };
  }

  static open(name: string, op: string): PosixSemaphore {
    try {
      return new PosixSemaphore(native.NamedSemaphore.open(name, 0, 0, 0));
    } catch (e) {
      return fail(e, op, name);
    }
  }

  static remove(name: string, op = 'psem rm'): void {
    try {
      native.unlinkSemaphore(name);
    } catch (e) {
      fail(e, op, name);
    }
  }

  value(op = 'psem stat'): number {
    try {
      return this.sem.value();
    } catch (e) {
      return fail(e, op, this.name);
    }
  }

  /** Post `count` units; returns how many went before EOVERFLOW stopped it (throws then). */
  post(count: number): number {
    for (let i = 0; i < count; i++) {
      try {
        this.sem.post();
      } catch (e) {
        if (e instanceof IpcError && e.code === 'EOVERFLOW') {
          throw new IpcError(e.errno, 'psem post', this.name, { detail: `the value would pass SEM_VALUE_MAX (${SEM_VALUE_MAX}); posted ${i} of ${count}` });
        }
        return fail(e, 'psem post', this.name);
      }
    }
    return count;
  }

  /** Take one unit if there is one, now. */
  tryWait(): boolean {
    for (;;) {
      const error = this.sem.tryWait();
      if (error === undefined) return true;
      if (error === 'EAGAIN') return false;
      if (error !== 'EINTR') return fail(IpcError.of(error, 'psem wait', this.name), 'psem wait', this.name);
    }
  }

  /**
   * Take one unit, waiting on a native thread. Throws TimeoutError (124)
   * when the deadline passes and InterruptedError (130) on SIGINT; a unit
   * the thread takes after that is posted back (onLateResult).
   */
  async wait(deadline: Deadline): Promise<void> {
    if (this.tryWait()) return;
    const what = `psem wait ${this.name}`;
    for (;;) {
      const left = deadline.remaining();
      // No deadline: a year at a time (a thread cannot be given "for ever" here).
      const until = Date.now() + (left ?? 365 * 86_400_000);
      const error = await waitFor(this.sem.timedWait(until), {
        what,
        timeoutMs: left === undefined ? undefined : left + 50,
        totalMs: deadline.total,
        onLateResult: (late: string | undefined) => {
          if (late === undefined) this.sem.post();
        },
      });
      if (error === undefined) return;
      if (error === 'ETIMEDOUT') {
        if (deadline.remaining() === 0 || left !== undefined) {
          throw new TimeoutError(`${what}: timed out after ${formatMs(deadline.total!)}`);
        }
        continue;
      }
      if (error === 'EINTR' && !isStopping()) continue;
      fail(IpcError.of(error, 'psem wait', this.name), 'psem wait', this.name);
    }
  }

  close(): void {
    this.sem.close();
  }
}
