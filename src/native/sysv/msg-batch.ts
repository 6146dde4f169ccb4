// Many messages per FFI call, for the loops of `msgq send --lines` and
// `msgq recv --all/--count`.
//
// One ffi-rs call costs 4-5 us with msgsnd's arguments, several times the
// kernel's own work for a 1 KiB message, and System V has no call that moves
// more than one message. So the loops run in a small C helper of ours
// (src/native/c/msg_batch.c, built next to this file by `npm run build`),
// one FFI call per batch. Where the helper was not built (no C compiler),
// the same loops run here, one FFI call per message: slower, same results.
// IPCCTL_NO_C_HELPER=1 forces that path (the tests run both).
//
// With the helper a batch can also wait in the kernel (no IPC_NOWAIT), on
// a worker thread, ended at will through a WaitControl (see the C file for
// how). Without it there is no way to end a thread blocked in msgrcv, so the
// callers wait by polling instead (canWaitInBatch says which).
//
// Results carry errno NAMES: nothing above this layer sees errno numbers.
import { errnoName } from '../../errors.js';
import { bind } from '../bind.js';
import { C, openHelper } from '../library.js';
import { NativeMemory } from '../memory.js';
import { msgrcv, msgsnd, MTYPE_SIZE } from './msg.js';

const HELPER = 'ipcctl_batch';
const useHelper = openHelper(HELPER, 'libipcctl-batch.so');

const sendSpans = useHelper ? bind('ipcctl_msgsnd_spans', C.long, [C.int, C.long, C.ptr, C.ptr, C.long, C.ptr, C.int, C.ptr, C.ptr], HELPER) : null;
const sendReading = useHelper
  ? bind('ipcctl_msgsnd_read', C.long, [C.int, C.long, C.int, C.ptr, C.size_t, C.int, C.size_t, C.ptr, C.int, C.ptr, C.ptr, C.ptr], HELPER)
  : null;
const receiveWrite = useHelper
  ? bind(
      'ipcctl_msgrcv_write',
      C.long,
      [C.int, C.int, C.ptr, C.size_t, C.size_t, C.long, C.int, C.long, C.long, C.int, C.ptr, C.ptr, C.ptr, C.ptr, C.ptr],
      HELPER,
    )
  : null;
const receiveRun = useHelper
  ? bind('ipcctl_msgrcv_run', C.long, [C.int, C.ptr, C.size_t, C.size_t, C.long, C.int, C.long, C.int, C.ptr, C.ptr, C.ptr, C.ptr], HELPER)
  : null;
const wake = useHelper ? bind('ipcctl_wake', C.int, [C.ptr], HELPER) : null;
const waitInit = useHelper ? bind('ipcctl_wait_init', C.int, [], HELPER) : null;
const waitFree = useHelper ? bind('ipcctl_wait_free', C.void, [C.ptr], HELPER) : null;
let waitReady: boolean | null = null;

/** True when a batch can block in the kernel and still be ended at once (the C helper is there). */
export function canWaitInBatch(): boolean {
  if (waitReady === null) waitReady = waitInit !== null && waitInit.call().value === 1;
  return waitReady;
}

/**
 * Shared between JS and a waiting batch: the loop's thread id, a stop flag,
 * how many messages a receive loop holds so far, and five words in which
 * the loops of one stream keep how they pace themselves (int32 each), then
 * the C side's pointer to the stream's own loop thread (the C file's struct
 * wait_ctl). One per stream: the pacing and the thread outlive each call;
 * free() ends the thread.
 */
export class WaitControl {
  private mem = new NativeMemory(48);
  private view = new Int32Array(this.mem.buf.buffer, this.mem.buf.byteOffset, 12);

  constructor() {
    this.mem.buf.fill(0);
  }

  /** Clear the stop flag: before each call. */
  reset(): void {
    Atomics.store(this.view, 1, 0);
    Atomics.store(this.view, 2, 0);
  }

  /** Messages the running receive loop has taken so far. */
  get held(): number {
    return Atomics.load(this.view, 2);
  }

  /** Is a send loop blocked for room on the queue now? */
  get waiting(): boolean {
    return Atomics.load(this.view, 10) !== 0;
  }

  /** Is a loop running on a thread now? */
  get busy(): boolean {
    return Atomics.load(this.view, 0) !== 0;
  }

  /** Make the running loop (if any) return as soon as it can. */
  wake(): void {
    if (wake) wake.call(this.mem.addr);
    else Atomics.store(this.view, 1, 1);
  }

  get addr(): number {
    return this.mem.addr;
  }

  /** End the stream's loop thread (no call may be running) and release the words. */
  free(): void {
    waitFree?.call(this.mem.addr);
    this.mem.free();
  }
}

/**
 * Message texts in native memory: one data block, and a table of (offset,
 * length) pairs as uint32, the layout the helper reads. The data block can
 * be filled in place (read(2) straight into it), so that a line of stdin is
 * never copied into a JS object on its way to the queue.
 */
export class SendBatch {
  private block: NativeMemory;
  private spanMem: NativeMemory;
  private spans: Uint32Array;
  private scratch: NativeMemory;
  private stopped = new NativeMemory(4);
  private readMem = new NativeMemory(32);
  private readView = new BigInt64Array(this.readMem.buf.buffer, this.readMem.buf.byteOffset, 4);
  count = 0;

  constructor(
    size = 1 << 20,
    readonly maxCount = 4096,
  ) {
    this.block = new NativeMemory(size);
    this.spanMem = new NativeMemory(8 * maxCount);
    this.spans = new Uint32Array(this.spanMem.buf.buffer, this.spanMem.buf.byteOffset, 2 * maxCount);
    this.scratch = new NativeMemory(MTYPE_SIZE + 8192);
  }

  /** The data block (a view of native memory: replaced by grow()). */
  get data(): Buffer {
    return this.block.buf;
  }

  /** Make the data block at least `size` bytes, keeping its first `keep`. */
  grow(size: number, keep: number): void {
    if (size <= this.block.size) return;
    const bigger = new NativeMemory(size);
    this.block.buf.copy(bigger.buf, 0, 0, keep);
    this.block.free();
    this.block = bigger;
  }

  /** Message i is data[start, start + length). */
  setSpan(i: number, start: number, length: number): void {
    this.spans[2 * i] = start;
    this.spans[2 * i + 1] = length;
  }

  length(i: number): number {
    return this.spans[2 * i + 1]!;
  }

  /** Message i's text, aliasing native memory. */
  text(i: number): Buffer {
    const at = this.spans[2 * i]!;
    return this.block.buf.subarray(at, at + this.spans[2 * i + 1]!);
  }

  /** The scratch message buffer, grown to hold `size` bytes of text. */
  scratchFor(size: number): NativeMemory {
    if (this.scratch.size < MTYPE_SIZE + size) {
      this.scratch.free();
      this.scratch = new NativeMemory(MTYPE_SIZE + size);
    }
    return this.scratch;
  }

  get dataAddr(): number {
    return this.block.addr;
  }

  get spansAddr(): number {
    return this.spanMem.addr;
  }

  get stoppedAddr(): number {
    return this.stopped.addr;
  }

  get stoppedErrno(): number {
    return this.stopped.buf.readInt32LE(0);
  }

  /** Where msgSendReadingWaiting starts: bytes in the block, first byte not sent, input ended. */
  setReadState(filled: number, start: number, ended: boolean): void {
    this.readView[0] = BigInt(filled);
    this.readView[1] = BigInt(start);
    this.readView[2] = ended ? 1n : 0n;
    this.readView[3] = 0n;
  }

  /** Where it stopped, and the errno of a failed read (0 for none). */
  get readState(): { filled: number; start: number; ended: boolean; readErrno: number } {
    return { filled: Number(this.readView[0]), start: Number(this.readView[1]), ended: this.readView[2] !== 0n, readErrno: Number(this.readView[3]) };
  }

  get readStateAddr(): number {
    return this.readMem.addr;
  }

  free(): void {
    this.block.free();
    this.spanMem.free();
    this.scratch.free();
    this.stopped.free();
    this.readMem.free();
  }
}

export interface BatchResult {
  /** How many messages went (a prefix of those asked for). */
  done: number;
  /** errno name of the call that stopped the loop (EINTR when woken); undefined when all went. */
  error?: string;
}

const result = (done: number, errno: number): BatchResult => (errno === 0 ? { done } : { done, error: errnoName(errno) });

function scratchForRange(batch: SendBatch, from: number, to: number): NativeMemory {
  let longest = 0;
  for (let i = from; i < to; i++) longest = Math.max(longest, batch.length(i));
  return batch.scratchFor(longest);
}

/** msgsnd messages [from, to) of `batch`, each of type `type`, stopping at the first failure. */
export function msgSendBatch(id: number, batch: SendBatch, from: number, to: number, type: number, flags: number): BatchResult {
  const scratch = scratchForRange(batch, from, to);
  if (sendSpans) {
    const r = sendSpans.call(id, type, batch.dataAddr, batch.spansAddr + 8 * from, to - from, scratch.addr, flags, batch.stoppedAddr, 0);
    return result(r.value, batch.stoppedErrno);
  }
  scratch.buf.writeBigInt64LE(BigInt(type), 0);
  for (let i = from; i < to; i++) {
    scratch.buf.set(batch.text(i), MTYPE_SIZE);
    const r = msgsnd.call(id, scratch.addr, batch.length(i), flags);
    if (r.value === -1) return result(i - from, r.errno);
  }
  return { done: to - from };
}

/**
 * The same, waiting in the kernel for room (no IPC_NOWAIT), on a worker
 * thread, until all went, a failure, or `ctl.wake()` (error EINTR).
 * Only with the C helper (canWaitInBatch()).
 */
export async function msgSendBatchWaiting(id: number, batch: SendBatch, from: number, to: number, type: number, ctl: WaitControl): Promise<BatchResult> {
  if (!sendSpans) throw new Error('msgSendBatchWaiting needs the C helper');
  const scratch = scratchForRange(batch, from, to);
  const r = await sendSpans.callBlocking(id, type, batch.dataAddr, batch.spansAddr + 8 * from, to - from, scratch.addr, 0, batch.stoppedAddr, ctl.addr);
  return result(r.value, batch.stoppedErrno);
}

/** Where msgSendReadingWaiting stopped (see the C helper's msgsnd_read). */
export interface ReadingResult extends BatchResult {
  /** errno name of a failed read of the input, if that stopped it. */
  readError?: string;
}

/** Can msgSendReadingWaiting run (the C helper is there)? */
export const canSendReading = (): boolean => sendReading !== null && canWaitInBatch();

/**
 * Read records ended by `sep` from `fd` into the batch's data block and
 * send each, waiting in the kernel for room and for input, on the stream's
 * thread: one call for the whole stream, from where setReadState says. It
 * returns at the end of input, at a record longer than `limit`, when the
 * block is full, at a failed read or msgsnd, or at `ctl.wake()` (error
 * EINTR); batch.readState then says where it got to. Only with the C helper.
 */
export async function msgSendReadingWaiting(
  id: number,
  batch: SendBatch,
  fd: number,
  sep: number,
  limit: number,
  type: number,
  ctl: WaitControl,
): Promise<ReadingResult> {
  if (!sendReading) throw new Error('msgSendReadingWaiting needs the C helper');
  const scratch = batch.scratchFor(limit);
  const r = await sendReading.callBlocking(
    id,
    type,
    fd,
    batch.dataAddr,
    batch.data.length,
    sep,
    limit,
    scratch.addr,
    0,
    batch.readStateAddr,
    batch.stoppedAddr,
    ctl.addr,
  );
  const out: ReadingResult = result(r.value, batch.stoppedErrno);
  const readErrno = batch.readState.readErrno;
  if (readErrno !== 0) out.readError = errnoName(readErrno);
  return out;
}

/**
 * Received messages as one run in native memory: their texts back to back,
 * each followed by a separator byte or not, ready to be written out as they
 * are; and an index of (type, end offset) pairs as int64, what the helper
 * writes.
 */
export class ReceiveArea {
  private out: NativeMemory;
  private indexMem: NativeMemory;
  private index: BigInt64Array;
  private scratch: NativeMemory;
  private stopped: NativeMemory;
  private writeMem = new NativeMemory(32);
  private writeView = new BigInt64Array(this.writeMem.buf.buffer, this.writeMem.buf.byteOffset, 4);

  constructor(
    readonly size: number,
    readonly capacity: number,
    private readonly maxCount = 8192,
  ) {
    this.out = new NativeMemory(size);
    this.indexMem = new NativeMemory(16 * maxCount);
    this.index = new BigInt64Array(this.indexMem.buf.buffer, this.indexMem.buf.byteOffset, 2 * maxCount);
    this.scratch = new NativeMemory(MTYPE_SIZE + capacity);
    this.stopped = new NativeMemory(4);
  }

  /** How many messages one call may take. */
  get room(): number {
    return this.maxCount;
  }

  typeOf(i: number): number {
    return Number(this.index[2 * i]!);
  }

  /** Offset just past message i (and its separator). */
  endOf(i: number): number {
    return i < 0 ? 0 : Number(this.index[2 * i + 1]!);
  }

  /** Bytes [from, to) of the run, aliasing native memory (valid until the next receive). */
  bytes(from: number, to: number): Buffer {
    return this.out.buf.subarray(from, to);
  }

  /** Set entry i as the helper would (the fallback path). */
  record(i: number, type: number, end: number): void {
    this.index[2 * i] = BigInt(type);
    this.index[2 * i + 1] = BigInt(end);
  }

  get outAddr(): number {
    return this.out.addr;
  }
  get outBuf(): Buffer {
    return this.out.buf;
  }
  get indexAddr(): number {
    return this.indexMem.addr;
  }
  get scratchMem(): NativeMemory {
    return this.scratch;
  }
  get stoppedAddr(): number {
    return this.stopped.addr;
  }
  get stoppedErrno(): number {
    return this.stopped.buf.readInt32LE(0);
  }

  get writeStateAddr(): number {
    return this.writeMem.addr;
  }
  /** What msgReceiveWritingWaiting left: messages wholly written, held and not all written, their bytes written, errno. */
  get writeState(): { delivered: number; held: number; written: number; writeErrno: number } {
    const v = this.writeView;
    return { delivered: Number(v[0]), held: Number(v[1]), written: Number(v[2]), writeErrno: Number(v[3]) };
  }

  free(): void {
    this.out.free();
    this.indexMem.free();
    this.scratch.free();
    this.stopped.free();
    this.writeMem.free();
  }
}

/**
 * Up to `max` msgrcv calls of up to `area.capacity` bytes each into `area`,
 * each text followed by `sep` (a byte, or -1 for none), stopping at the
 * first failure or when the next message might not fit.
 */
export function msgReceiveRun(id: number, area: ReceiveArea, type: number, flags: number, max: number, sep: number): BatchResult {
  const count = Math.min(max, area.room);
  if (receiveRun) {
    const r = receiveRun.call(id, area.outAddr, area.size, area.capacity, type, flags, count, sep, area.scratchMem.addr, area.indexAddr, area.stoppedAddr, 0);
    return result(r.value, area.stoppedErrno);
  }
  const scratch = area.scratchMem;
  let at = 0;
  let n = 0;
  while (n < count && at + area.capacity + 1 <= area.size) {
    const r = msgrcv.call(id, scratch.addr, area.capacity, type, flags);
    if (r.value === -1) return result(n, r.errno);
    scratch.buf.copy(area.outBuf, at, MTYPE_SIZE, MTYPE_SIZE + r.value);
    at += r.value;
    if (sep !== -1) area.outBuf[at++] = sep;
    area.record(n, Number(scratch.buf.readBigInt64LE(0)), at);
    n++;
  }
  return { done: n };
}

/**
 * The same, each msgrcv waiting in the kernel (the caller leaves IPC_NOWAIT
 * out of `flags`), on a worker thread, until the batch is full, a failure,
 * or `ctl.wake()` (error EINTR; the messages taken so far are returned).
 * Only with the C helper (canWaitInBatch()).
 */
export async function msgReceiveRunWaiting(
  id: number,
  area: ReceiveArea,
  type: number,
  flags: number,
  max: number,
  sep: number,
  ctl: WaitControl,
): Promise<BatchResult> {
  if (!receiveRun) throw new Error('msgReceiveRunWaiting needs the C helper');
  const count = Math.min(max, area.room);
  const r = await receiveRun.callBlocking(
    id,
    area.outAddr,
    area.size,
    area.capacity,
    type,
    flags,
    count,
    sep,
    area.scratchMem.addr,
    area.indexAddr,
    area.stoppedAddr,
    ctl.addr,
  );
  return result(r.value, area.stoppedErrno);
}

/** Where msgReceiveWritingWaiting stopped. */
export interface WritingResult extends BatchResult {
  /** Messages wholly written to the descriptor. */
  delivered: number;
  /** After a failed write (its errno name): messages [0, held) of the area were taken and not all written, `written` bytes of them were. */
  writeError?: string;
  held: number;
  written: number;
}

/** Can msgReceiveWritingWaiting run (the C helper is there)? */
export const canReceiveWriting = (): boolean => receiveWrite !== null && canWaitInBatch();

/**
 * Up to `max` msgrcv calls waiting in the kernel, on the stream's thread,
 * each text followed by `sep` (or -1), written to `fd` from `area` when it
 * is full, before each wait and at the end: one call for the whole stream.
 * Ends after `max`, at a failed msgrcv (error), a failed write (writeError),
 * or `ctl.wake()` (error EINTR, after writing what it held). `done` counts
 * the messages taken. Only with the C helper.
 */
export async function msgReceiveWritingWaiting(
  id: number,
  area: ReceiveArea,
  fd: number,
  type: number,
  flags: number,
  max: number,
  sep: number,
  ctl: WaitControl,
): Promise<WritingResult> {
  if (!receiveWrite) throw new Error('msgReceiveWritingWaiting needs the C helper');
  const r = await receiveWrite.callBlocking(
    id,
    fd,
    area.outAddr,
    area.size,
    area.capacity,
    type,
    flags,
    max,
    area.room,
    sep,
    area.scratchMem.addr,
    area.indexAddr,
    area.writeStateAddr,
    area.stoppedAddr,
    ctl.addr,
  );
  const st = area.writeState;
  const out: WritingResult = { ...result(r.value, area.stoppedErrno), delivered: st.delivered, held: st.held, written: st.written };
  if (st.writeErrno !== 0) out.writeError = errnoName(st.writeErrno);
  return out;
}
