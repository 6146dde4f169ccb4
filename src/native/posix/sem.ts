// POSIX named semaphores: sem_open maps /dev/shm/sem.NAME (a 32-byte sem_t)
// and returns a pointer to it; sem_post, sem_trywait and sem_getvalue work
// on that pointer without a system call unless someone waits (futex).
// sem_timedwait blocks, so it runs on a native thread (callBlocking) like
// the blocking System V calls; its timeout is an absolute CLOCK_REALTIME time.
import { errnoName, IpcError } from '../../errors.js';
import { bind } from '../bind.js';
import { C, currentErrno } from '../library.js';
import { NativeMemory } from '../memory.js';
import { timespec } from '../layouts.js';

export { O_CREAT, O_EXCL } from './flags.js';

/** The largest value a POSIX semaphore may hold (SEM_VALUE_MAX, INT_MAX on Linux). */
export const SEM_VALUE_MAX = 2 ** 31 - 1;

// Variadic (mode and value only with O_CREAT): bound with all four, see mqueue.ts.
const semOpen = bind('sem_open', C.ptr, [C.string, C.int, C.uint, C.uint]);
const semClose = bind('sem_close', C.int, [C.ptr]);
const semUnlink = bind('sem_unlink', C.int, [C.string]);
const semPost = bind('sem_post', C.int, [C.ptr]);
const semTrywait = bind('sem_trywait', C.int, [C.ptr]);
const semTimedwait = bind('sem_timedwait', C.int, [C.ptr, C.ptr]);
const semGetvalue = bind('sem_getvalue', C.int, [C.ptr, C.ptr]);

/** An open semaphore: the address sem_open returned, until close(). */
export class NamedSemaphore {
  private open = true;
  private readonly valueMem = new NativeMemory(4);

  private constructor(
    private readonly addr: number,
    readonly name: string,
  ) {}

  /** sem_open; SEM_FAILED is a null pointer in glibc. */
  static open(name: string, oflag: number, mode: number, value: number): NamedSemaphore {
    const r = semOpen.call(name, oflag, mode, value);
    if (r.value === 0) throw new IpcError(currentErrno(), 'sem_open', name);
    return new NamedSemaphore(r.value, name);
  }

  post(): void {
    const r = semPost.call(this.addr);
    if (r.value === -1) throw new IpcError(r.errno, 'sem_post', this.name);
  }

  /** sem_trywait: undefined when a unit was taken, else the errno name (EAGAIN: the value was 0; EINTR). */
  tryWait(): string | undefined {
    const r = semTrywait.call(this.addr);
    return r.value === 0 ? undefined : errnoName(r.errno);
  }

  /**
   * sem_timedwait on a native thread until `untilMs` (epoch milliseconds,
   * CLOCK_REALTIME as the call wants). Resolves with undefined when a unit
   * was taken, or the errno name (ETIMEDOUT, EINTR). Its timespec is its own: the thread
   * reads it while this thread goes on.
   */
  async timedWait(untilMs: number): Promise<string | undefined> {
    const ts = new NativeMemory(timespec.size);
    ts.buf.writeBigInt64LE(BigInt(Math.floor(untilMs / 1000)), timespec.fields.tv_sec);
    ts.buf.writeBigInt64LE(BigInt((untilMs % 1000) * 1_000_000), timespec.fields.tv_nsec);
    try {
      const r = await semTimedwait.callBlocking(this.addr, ts.addr);
      return r.value === 0 ? undefined : errnoName(r.errno);
    } finally {
      ts.free();
    }
  }

  value(): number {
    const r = semGetvalue.call(this.addr, this.valueMem.addr);
    if (r.value === -1) throw new IpcError(r.errno, 'sem_getvalue', this.name);
    return this.valueMem.buf.readInt32LE(0);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    semClose.call(this.addr);
  }
}

export function unlinkSemaphore(name: string): void {
  const r = semUnlink.call(name);
  if (r.value === -1) throw new IpcError(r.errno, 'sem_unlink', name);
}
