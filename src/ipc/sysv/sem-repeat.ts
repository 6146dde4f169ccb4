// RepeatedOps: the same semaphore operations applied again and again, as a
// lock taken and released in a loop. SemaphoreSet.op builds its sembuf array
// (two mallocs) and rereads the kernel limits on every call, ~0.2 ms; here
// the array is built once, so an op that does not wait costs one system call.
// Like SemaphoreSet.op, all ops go to the kernel in ONE semop.
import { IpcError } from '../../errors.js';
import * as native from '../../native/sysv/sem.js';
import { isStopping, waitFor } from '../wait.js';

export class RepeatedOps {
  private readonly buf: native.OpBuffer;
  private nowait = true;

  constructor(
    readonly setId: number,
    readonly ops: readonly native.SemOp[],
    opts: { undo: boolean },
  ) {
    this.buf = new native.OpBuffer(ops, opts.undo ? native.SEM_UNDO : 0);
    this.buf.setNowait(true);
  }

  private mode(nowait: boolean): void {
    if (this.nowait !== nowait) this.buf.setNowait(nowait);
    this.nowait = nowait;
  }

  /** Apply the ops if they can apply now; false when they would wait. */
  tryNow(): boolean {
    this.mode(true);
    try {
      return native.semOp(this.setId, this.buf) === 0;
    } catch (e) {
      return this.fail(e);
    }
  }

  /**
   * Apply the ops, waiting on a native thread when they cannot apply now.
   * SIGINT while waiting rejects with InterruptedError (as SemaphoreSet.op).
   */
  async apply(): Promise<void> {
    if (this.tryNow()) return;
    this.mode(false);
    try {
      await waitFor(
        native.semOpBlocking(this.setId, this.buf, () => undefined, isStopping),
        { what: `sem op ${this.setId}` },
      );
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): never {
    if (e instanceof IpcError) {
      throw new IpcError(e.errno, 'sem op', String(this.setId), {
        detail: e.code === 'EIDRM' || e.code === 'EINVAL' ? 'the semaphore set was removed' : undefined,
      });
    }
    throw e;
  }

  free(): void {
    this.buf.free();
  }
}
