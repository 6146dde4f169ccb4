// One turn of `ipcctl batch` in one FFI call (src/native/c/batch_turn.c):
// the reply of the command that just ran, framed from the batch's two
// in-memory files and written, then the next input read if it comes within
// a short wait. Null without the C helper (no compiler at build time, or
// IPCCTL_NO_C_HELPER=1): the batch then does the same steps one call at a
// time (src/ipc/batch/, src/output/batch-reply.ts), with the same bytes.
import { IpcError } from '../errors.js';
import { ffi } from './binding.js';
import { openHelper } from './library.js';
import { NativeMemory } from './memory.js';

const HELPER = 'ipcctl_batch_turn';

// struct turn (64 bytes).
const T = { inFd: 0, replyFd: 4, outFd: 8, errFd: 12, exit: 16, op: 20, waitMs: 24, failAt: 28, inBuf: 32, inCap: 40, err: 48, size: 64 };
const OP_REPLY = 1;
const OP_READ = 2;
const FAILED = -1;
/** Which system call a failed step made (fail_at 1..4). */
const STEP_CALLS = ['', 'write', 'poll', 'read', 'pread'] as const;

export interface TurnFds {
  /** Where the commands come from. */
  input: number;
  /** Where replies go. */
  replies: number;
  /** The in-memory files behind fds 1 and 2. */
  stdout: number;
  stderr: number;
}

/** The bytes read of input (0 at EOF), or undefined when none came within the wait. */
export type TurnResult = number | undefined;

// The helper's own struct turn, and the call on it (no arguments: the cheapest FFI call).
const call = { library: HELPER, funcName: 'ipcctl_batch_turn_own', retType: ffi.DataType.I64, paramsType: [], paramsValue: [], freeResultMemory: false };

export class BatchTurn {
  /** struct turn, in the helper's memory. */
  private readonly params: Buffer;
  /** The same as 32-bit words (cheaper to write per turn than Buffer's checked writers). */
  private readonly words: Int32Array;
  private readonly input: NativeMemory;

  /** Input is read into this (it aliases native memory the C helper writes). */
  readonly buf: Buffer;

  private constructor(fds: TurnFds, capacity: number) {
    const at = ffi.load({
      library: HELPER,
      funcName: 'ipcctl_batch_turn_params',
      retType: ffi.DataType.External,
      paramsType: [],
      paramsValue: [],
      freeResultMemory: false,
    } as never);
    this.params = ffi.createExternalBuffer(at as never, T.size);
    this.words = new Int32Array(this.params.buffer, this.params.byteOffset, T.size / 4);
    this.input = new NativeMemory(capacity);
    this.buf = this.input.buf;
    const p = this.params;
    p.fill(0);
    p.writeInt32LE(fds.input, T.inFd);
    p.writeInt32LE(fds.replies, T.replyFd);
    p.writeInt32LE(fds.stdout, T.outFd);
    p.writeInt32LE(fds.stderr, T.errFd);
    p.writeBigInt64LE(BigInt(this.input.addr), T.inBuf);
    p.writeBigInt64LE(BigInt(capacity), T.inCap);
  }

  /** The turn through the C helper, or null when it is not there. */
  static open(fds: TurnFds, capacity = 64 * 1024): BatchTurn | null {
    if (!openHelper(HELPER, 'libipcctl-turn.so')) return null;
    return new BatchTurn(fds, capacity);
  }

  /**
   * Reply for a command that exited `exit` (null: no reply now), then, when
   * `read`, wait up to `waitMs` for input and read it into buf. A failure is
   * an IpcError whose op names the system call (write: the reply; read,
   * poll: the input; pread: a capture file).
   */
  step(exit: number | null, read: boolean, waitMs: number): TurnResult {
    const w = this.words;
    w[T.exit / 4] = exit ?? 0;
    w[T.op / 4] = (exit === null ? 0 : OP_REPLY) | (read ? OP_READ : 0);
    w[T.waitMs / 4] = waitMs;
    const r = Number(ffi.load(call as never));
    if (r >= 0) return read ? r : undefined;
    if (r === FAILED) throw new IpcError(w[T.err / 4]!, STEP_CALLS[w[T.failAt / 4]!] ?? 'batch', '');
    // -2: nothing came within the wait (or a signal came); -3: a reply-only step.
    return undefined;
  }
}
