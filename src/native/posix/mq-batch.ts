// Many POSIX queue messages per FFI call, for `pmq send --lines` and `pmq
// recv --count/--all`: one ffi-rs call costs several microseconds, more than
// the kernel's work for a 1 KiB message, so the loops run in the C helper
// (src/native/c/msg_batch.c, ipcctl_mq_*), one call per batch. Without the
// helper (no C compiler, or IPCCTL_NO_C_HELPER=1) the same loops run here,
// one FFI call per message: slower, same results.
import { bind } from '../bind.js';
import { errnoName } from '../../errors.js';
import { C, currentErrno, openHelper } from '../library.js';
import { NativeMemory } from '../memory.js';
import type { SendBatch } from '../sysv/msg-batch.js';

const HELPER = 'ipcctl_batch_mq';
const useHelper = openHelper(HELPER, 'libipcctl-batch.so');

const sendSpans = useHelper ? bind('ipcctl_mq_send_spans', C.long, [C.int, C.ptr, C.ptr, C.long, C.uint], HELPER) : null;
const receiveRun = useHelper ? bind('ipcctl_mq_receive_run', C.long, [C.int, C.ptr, C.size_t, C.size_t, C.long, C.int, C.ptr, C.ptr], HELPER) : null;
const mqSend = bind('mq_send', C.int, [C.int, C.ptr, C.size_t, C.uint]);
const mqReceive = bind('mq_receive', C.ssize_t, [C.int, C.ptr, C.size_t, C.ptr]);

export interface BatchResult {
  done: number;
  /** errno name of the call that stopped the loop; undefined when it did not fail. */
  error?: string;
}

const failed = (done: number, errno: number): BatchResult => (errno === 0 ? { done } : { done, error: errnoName(errno) });

/** mq_send records [from, to) of `batch` with one priority, stopping at the first failure. */
export function mqSendBatch(fd: number, batch: SendBatch, from: number, to: number, priority: number): BatchResult {
  if (sendSpans) {
    const r = sendSpans.call(fd, batch.dataAddr, batch.spansAddr + 8 * from, to - from, priority);
    return failed(r.value, r.value < to - from ? currentErrno() : 0);
  }
  const data = batch.data;
  for (let i = from; i < to; i++) {
    const t = batch.text(i);
    const r = mqSend.call(fd, batch.dataAddr + (t.byteOffset - data.byteOffset), t.length, priority);
    if (r.value === -1) return failed(i - from, r.errno);
  }
  return { done: to - from };
}

/** Received messages back to back in native memory, with (priority, end) pairs. */
export class MqReceiveArea {
  private readonly out: NativeMemory;
  private readonly indexMem: NativeMemory;
  private readonly index: BigInt64Array;
  private readonly stopped = new NativeMemory(4);
  private readonly prio = new NativeMemory(4);

  constructor(
    readonly size: number,
    readonly msgsize: number,
    readonly room = 8192,
  ) {
    this.out = new NativeMemory(Math.max(size, msgsize + 1));
    this.indexMem = new NativeMemory(16 * room);
    this.index = new BigInt64Array(this.indexMem.buf.buffer, this.indexMem.buf.byteOffset, 2 * room);
  }

  priorityOf(i: number): number {
    return Number(this.index[2 * i]!);
  }

  /** Offset just past message i (and its separator); 0 for i < 0. */
  endOf(i: number): number {
    return i < 0 ? 0 : Number(this.index[2 * i + 1]!);
  }

  bytes(from: number, to: number): Buffer {
    return this.out.buf.subarray(from, to);
  }

  /**
   * Up to `max` mq_receive calls into the area, each message followed by
   * `sep` (a byte, or -1 for none). Stops at the first failure (EAGAIN: the
   * queue is empty now) or when the next message might not fit.
   */
  receive(fd: number, max: number, sep: number): BatchResult {
    const count = Math.min(max, this.room);
    if (receiveRun) {
      const r = receiveRun.call(fd, this.out.addr, this.out.size, this.msgsize, count, sep, this.indexMem.addr, this.stopped.addr);
      return failed(r.value, this.stopped.buf.readInt32LE(0));
    }
    let at = 0;
    let n = 0;
    while (n < count && at + this.msgsize + 1 <= this.out.size) {
      const r = mqReceive.call(fd, this.out.addr + at, this.msgsize, this.prio.addr);
      if (r.value === -1) return failed(n, r.errno);
      at += r.value;
      if (sep !== -1) this.out.buf[at++] = sep;
      this.index[2 * n] = BigInt(this.prio.buf.readUInt32LE(0));
      this.index[2 * n + 1] = BigInt(at);
      n++;
    }
    return { done: n };
  }

  free(): void {
    this.out.free();
    this.indexMem.free();
    this.stopped.free();
    this.prio.free();
  }
}
