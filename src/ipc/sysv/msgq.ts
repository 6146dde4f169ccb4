// MessageQueue: a System V message queue as the commands use it. Typed
// values in, typed values or IpcError out; never prints. Every errno of the
// native layer is re-described here in terms of queues.
import { EXIT, IpcError, OperationError, UsageError } from '../../errors.js';
import * as native from '../../native/sysv/msg.js';
import type * as Batch from '../../native/sysv/msg-batch.js';
import type { RecordBatch } from './record-batch.js';
import { IPC_CREAT, IPC_EXCL, IPC_NOWAIT } from '../../native/sysv/ipc.js';
import { relabelFor } from './relabel.js';
import { type KeySpec, describeKey, resolveKey } from './keys.js';
import { type MsqChanges, type MsqStat, SYSV_KINDS } from './kinds.js';
import { kernelLimit } from './limits.js';
import { SysvObject } from './object.js';
import { Deadline, isStopping, waitFor } from '../wait.js';

export type { MsqStat };

export interface Message {
  type: number;
  data: Buffer;
}

const relabel = relabelFor('msgq');

export interface CreateOptions {
  key: KeySpec;
  mode: number;
  exclusive: boolean;
}

export interface SendOptions {
  type: number;
  nowait: boolean;
  deadline: Deadline;
}

export interface ReceiveOptions {
  type: number;
  except: boolean;
  truncate: boolean;
  nowait: boolean;
  deadline: Deadline;
}

// The batch loops (and the C helper they open) load with the first batch:
// `msgq stat` and single messages never need them.
const batch = (): typeof Batch => require('../../native/sysv/msg-batch.js') as typeof Batch;

/** Outcome of sendBatchNow/sendBatchWaiting: how many went, and the error that stopped it, if any. */
export interface ManySent {
  sent: number;
  error?: unknown;
}

/** Bytes of one receive batch (the bound on what is in hand at once, with RUN_COUNT). */
export const RUN_BYTES = 1 << 20;

export class MessageQueue extends SysvObject<MsqStat, MsqChanges> {
  static readonly kind = SYSV_KINDS.msgq;
  private buffer: native.MsgBuffer | null = null;
  private receiveArea: Batch.ReceiveArea | null = null;
  private qbytesCache: number | null = null;
  private msgmaxCache: number | null = null;

  static async create(opts: CreateOptions): Promise<number> {
    const key = await resolveKey(opts.key);
    const flags = IPC_CREAT | (opts.exclusive ? IPC_EXCL : 0) | opts.mode;
    try {
      return native.msgCalls.get(key, flags);
    } catch (e) {
      return relabel(e, 'msgq create', `key ${describeKey(key)}`);
    }
  }

  // The byte limit may have changed: checkSize must not judge by the old one.
  protected override changed(): void {
    this.qbytesCache = null;
  }

  /** The largest message this queue can ever hold (its byte limit). */
  private qbytes(): number | null {
    if (this.qbytesCache === null) {
      try {
        this.qbytesCache = native.msgCalls.stat(this.id).qbytes;
      } catch {
        return null; // no read permission: the kernel will judge
      }
    }
    return this.qbytesCache;
  }

  private bufferFor(size: number): native.MsgBuffer {
    if (!this.buffer || this.buffer.capacity < size) {
      this.buffer?.free();
      this.buffer = new native.MsgBuffer(Math.max(size, 1024));
    }
    return this.buffer;
  }

  /**
   * Refuse a message the kernel could never take, before anything is sent:
   * above msgmax msgsnd fails with a bare EINVAL, and above the queue's byte
   * limit it would block for ever.
   */
  checkSize(size: number, op = 'msgq send'): void {
    const msgmax = (this.msgmaxCache ??= kernelLimit('msgmax', 8192));
    if (size > msgmax) {
      throw new OperationError(
        `${op} ${this.name}: message of ${size} bytes is above the system limit msgmax=${msgmax}`,
        EXIT.FAILED,
        'raise it with sysctl kernel.msgmax',
      );
    }
    const qbytes = this.qbytes();
    if (qbytes !== null && size > qbytes) {
      throw new OperationError(
        `${op} ${this.name}: message of ${size} bytes is above the queue's limit of ${qbytes} bytes`,
        EXIT.FAILED,
        "raise it with 'ipcctl msgq set --max-bytes'",
      );
    }
  }

  /**
   * Send one message. Returns false when the queue is full under --nowait.
   * Tries without blocking first: a native thread costs ~0.1 ms, a plain
   * call a few microseconds.
   */
  async send(data: Uint8Array, opts: SendOptions): Promise<boolean> {
    if (this.sendNow(data, opts.type)) return true;
    if (opts.nowait) return false;
    return this.sendWaiting(data, opts);
  }

  /**
   * Send without waiting: false when the queue is full. Synchronous, for the
   * loops that send many messages (an await per message costs more than the
   * system call).
   */
  sendNow(data: Uint8Array, type: number): boolean {
    if (data.length > 8192 || this.qbytesCache === null || data.length > this.qbytesCache) this.checkSize(data.length);
    const mb = this.bufferFor(data.length);
    mb.load(type, data);
    try {
      return native.msgSend(this.id, mb, data.length, IPC_NOWAIT) === 0;
    } catch (e) {
      return relabel(e, 'msgq send', this.name);
    }
  }

  /**
   * Send records[from...] without waiting, many per native call (the loop
   * of `send --lines`). Stops at a full queue, and before a record larger
   * than messageLimit() (checkSize says why it cannot go).
   * Exactly the first `sent` records are on the queue, also with an error.
   */
  sendBatchNow(records: RecordBatch, from: number, type: number): ManySent {
    const end = this.batchEnd(records, from);
    let sent = 0;
    while (from + sent < end) {
      const r = batch().msgSendBatch(this.id, records.native, from + sent, end, type, IPC_NOWAIT);
      sent += r.done;
      if (r.error === undefined || r.error === 'EINTR') continue;
      if (r.error === 'EAGAIN') break;
      return { sent, error: this.sendError(r.error) };
    }
    return { sent };
  }

  /** Where the run of records from `from` that the queue can take ends (the next is too large). */
  private batchEnd(records: RecordBatch, from: number): number {
    const limit = this.messageLimit().bytes;
    let end = from;
    while (end < records.count && records.length(end) <= limit) end++;
    return end;
  }

  /**
   * The largest message this queue can ever take, and what sets it: msgmax,
   * or the queue's byte limit when that is lower.
   */
  messageLimit(): { bytes: number; what: string } {
    const msgmax = (this.msgmaxCache ??= kernelLimit('msgmax', 8192));
    const qbytes = this.qbytes();
    if (qbytes !== null && qbytes < msgmax) return { bytes: qbytes, what: `the queue's limit of ${qbytes} bytes` };
    return { bytes: msgmax, what: `the system limit msgmax=${msgmax}` };
  }

  /**
   * Send records[from...] waiting in the kernel for room, in one native call
   * on a worker thread (C helper only: Batch.canWaitInBatch()). Stops like
   * sendBatchNow, and when `ctl` is woken (`woken` is then true).
   */
  async sendBatchWaiting(records: RecordBatch, from: number, type: number, ctl: Batch.WaitControl): Promise<ManySent & { woken: boolean }> {
    const end = this.batchEnd(records, from);
    if (end === from) return { sent: 0, woken: false };
    const r = await batch().msgSendBatchWaiting(this.id, records.native, from, end, type, ctl);
    if (r.error === undefined) return { sent: r.done, woken: false };
    if (r.error === 'EINTR') return { sent: r.done, woken: true };
    return { sent: r.done, woken: false, error: this.sendError(r.error) };
  }

  /**
   * Read records from `fd` and send them, waiting for room and for input, in
   * one native call on the stream's thread (Batch.canSendReading()), from
   * where `records` stands (all of its current batch sent). Returns when
   * the input ended, a record is too long for the queue, at a failure, or
   * when `ctl` is woken; `records` then holds what is left for the
   * TypeScript path to judge (the last record, the record too long).
   */
  async sendReadingWaiting(
    records: RecordBatch,
    fd: number,
    sep: number,
    type: number,
    ctl: Batch.WaitControl,
  ): Promise<ManySent & { woken: boolean; readError?: string }> {
    records.handOver();
    const r = await batch().msgSendReadingWaiting(this.id, records.native, fd, sep, this.messageLimit().bytes, type, ctl);
    records.takeBack();
    if (r.error === undefined) return { sent: r.done, woken: false, readError: r.readError };
    if (r.error === 'EINTR') return { sent: r.done, woken: true };
    return { sent: r.done, woken: false, error: this.sendError(r.error) };
  }

  private sendError(code: string): unknown {
    try {
      relabel(IpcError.of(code, 'msgsnd', this.name), 'msgq send', this.name);
    } catch (e) {
      return e;
    }
  }

  /** Send, waiting on a native thread for room (after sendNow found none). */
  async sendWaiting(data: Uint8Array, opts: SendOptions): Promise<boolean> {
    this.checkSize(data.length);
    const mb = this.bufferFor(data.length);
    mb.load(opts.type, data);
    try {
      const what = `msgq send ${this.name}`;
      const r = await waitFor(native.msgSendBlocking(this.id, mb, data.length, 0), {
        what,
        timeoutMs: opts.deadline.remaining(),
        totalMs: opts.deadline.total,
      });
      return r === 0;
    } catch (e) {
      return relabel(e, 'msgq send', this.name);
    }
  }

  /**
   * Buffer size for receiving: the given one, or the largest message the
   * queue can hold now: its byte limit, or msgmax when that is lower (the
   * kernel refuses larger messages; the byte limit may be 100 MB).
   */
  receiveCapacity(maxSize: number | undefined): number {
    const msgmax = (this.msgmaxCache ??= kernelLimit('msgmax', 8192));
    // No message is ever larger than msgmax: a bigger buffer only wastes memory.
    if (maxSize !== undefined && maxSize > msgmax) throw new UsageError(`invalid --max-size ${maxSize}: no message is larger than msgmax (${msgmax} bytes)`);
    if (maxSize !== undefined) return maxSize;
    return Math.min(this.qbytes() ?? msgmax, msgmax);
  }

  private flags(opts: ReceiveOptions): number {
    return (opts.except ? native.MSG_EXCEPT : 0) | (opts.truncate ? native.MSG_NOERROR : 0);
  }

  /** Take one message if one matches now; null otherwise. Synchronous. */
  receiveNow(capacity: number, opts: ReceiveOptions): Message | null {
    const mb = this.bufferFor(capacity);
    try {
      const size = native.msgReceive(this.id, mb, opts.type, this.flags(opts) | IPC_NOWAIT, capacity);
      return size === native.EMPTY ? null : mb.unload(size);
    } catch (e) {
      return this.receiveError(e, capacity);
    }
  }

  /**
   * Take up to `max` messages that match now, many per native call (the
   * loop of `recv --all/--count`), as one run of texts each followed by
   * `sep` (a byte, or -1 for none); null when none matches. Synchronous.
   * When a failure follows some messages, those are returned and the next
   * call meets the failure.
   */
  receiveRunNow(capacity: number, opts: ReceiveOptions, max: number, sep: number): ReceivedRun | null {
    const area = this.areaFor(capacity);
    for (;;) {
      const r = batch().msgReceiveRun(this.id, area, opts.type, this.flags(opts) | IPC_NOWAIT, max, sep);
      if (r.done > 0) return new ReceivedRun(area, r.done, sep === -1 ? 0 : 1);
      if (r.error === 'EINTR') continue;
      if (r.error === 'ENOMSG' || r.error === 'EAGAIN') return null;
      return this.receiveError(IpcError.of(r.error ?? 'EIO', 'msgrcv', this.name), capacity);
    }
  }

  /**
   * The same, each msgrcv waiting in the kernel, in one native call on a
   * worker thread (C helper only: Batch.canWaitInBatch()), until `max`
   * messages, a full area, or `ctl` is woken. Returns the messages taken
   * (possibly none when woken); a failure after some messages is met by
   * the next call.
   */
  async receiveRunWaiting(capacity: number, opts: ReceiveOptions, max: number, sep: number, ctl: Batch.WaitControl): Promise<ReceivedRun | null> {
    const area = this.areaFor(capacity);
    const r = await batch().msgReceiveRunWaiting(this.id, area, opts.type, this.flags(opts), max, sep, ctl);
    if (r.done > 0) return new ReceivedRun(area, r.done, sep === -1 ? 0 : 1);
    if (r.error === undefined || r.error === 'EINTR' || r.error === 'ENOMSG' || r.error === 'EAGAIN') return null;
    return this.receiveError(IpcError.of(r.error, 'msgrcv', this.name), capacity);
  }

  /**
   * Receive up to `max` messages waiting in the kernel and write them to
   * `fd` as they come, in one native call on the stream's thread
   * (Batch.canReceiveWriting()), until `max`, a failed write, or `ctl` is
   * woken (after writing what it held). A failed write leaves `unwritten`:
   * the run of messages taken and not all written, with how many of its
   * bytes were, for the caller to put back the rest. A failed msgrcv
   * throws, as receiveRunWaiting's does, once what came before is written.
   */
  async receiveWritingWaiting(
    fd: number,
    capacity: number,
    opts: ReceiveOptions,
    max: number,
    sep: number,
    ctl: Batch.WaitControl,
  ): Promise<{ delivered: number; unwritten?: { run: ReceivedRun; written: number; code: string }; failure?: () => never }> {
    const area = this.areaFor(capacity);
    const r = await batch().msgReceiveWritingWaiting(this.id, area, fd, opts.type, this.flags(opts), max, sep, ctl);
    const out: { delivered: number; unwritten?: { run: ReceivedRun; written: number; code: string }; failure?: () => never } = { delivered: r.delivered };
    if (r.writeError) out.unwritten = { run: new ReceivedRun(area, r.held, sep === -1 ? 0 : 1), written: r.written, code: r.writeError };
    else if (r.error !== undefined && r.error !== 'EINTR' && r.error !== 'ENOMSG' && r.error !== 'EAGAIN') {
      const code = r.error;
      out.failure = () => this.receiveError(IpcError.of(code, 'msgrcv', this.name), capacity);
    }
    return out;
  }

  private areaFor(capacity: number): Batch.ReceiveArea {
    if (this.receiveArea && this.receiveArea.capacity !== capacity) {
      this.receiveArea.free();
      this.receiveArea = null;
    }
    // Room for many messages of the common small sizes, and at least 16 of the largest.
    return (this.receiveArea ??= new (batch().ReceiveArea)(Math.max(RUN_BYTES, 16 * (capacity + 1)), capacity));
  }

  private receiveError(e: unknown, capacity: number): never {
    if (e instanceof IpcError && e.code === 'E2BIG') {
      throw new IpcError(e.errno, 'msgq recv', this.name, {
        detail: `the next message is larger than the receive buffer of ${capacity} bytes; it stays on the queue`,
        hint: 'use --max-size or --truncate',
        exitCode: EXIT.FAILED,
      });
    }
    return relabel(e, 'msgq recv', this.name);
  }

  /**
   * Take one message. Returns null when nothing matches under --nowait.
   * The returned data is a copy: safe to hold while receiving more.
   */
  async receive(capacity: number, opts: ReceiveOptions): Promise<Message | null> {
    const now = this.receiveNow(capacity, opts);
    if (now || opts.nowait) return now;
    const mb = this.bufferFor(capacity);
    try {
      const size = await waitFor(native.msgReceiveBlocking(this.id, mb, opts.type, this.flags(opts), capacity, isStopping), {
        what: `msgq recv ${this.name}`,
        timeoutMs: opts.deadline.remaining(),
        totalMs: opts.deadline.total,
        // We stopped waiting, but the thread took a message anyway: put it back.
        onLateResult: (late: number) => {
          if (late >= 0) this.putBackNow(mb.unload(late));
        },
      });
      return size === native.EMPTY ? null : mb.unload(size);
    } catch (e) {
      return this.receiveError(e, capacity);
    }
  }

  /** Copy message number `index` (0 = the oldest) without removing it: MSG_COPY. */
  peek(index: number, capacity: number, truncate: boolean): Message | null {
    const mb = this.bufferFor(capacity);
    try {
      const size = native.msgReceive(this.id, mb, index, native.MSG_COPY | IPC_NOWAIT | (truncate ? native.MSG_NOERROR : 0), capacity);
      return size === native.EMPTY ? null : mb.unload(size);
    } catch (e) {
      if (e instanceof IpcError && e.code === 'ENOSYS') {
        throw new IpcError(e.errno, 'msgq recv --peek', this.name, { detail: 'this kernel has no MSG_COPY (CONFIG_CHECKPOINT_RESTORE)' });
      }
      if (e instanceof IpcError && e.code === 'E2BIG') {
        throw new IpcError(e.errno, 'msgq recv --peek', this.name, {
          detail: `message ${index} is larger than ${capacity} bytes`,
          hint: 'use --max-size or --truncate',
          exitCode: EXIT.FAILED,
        });
      }
      return relabel(e, 'msgq recv --peek', this.name);
    }
  }

  /**
   * Put a taken message back (at the tail: System V has no way to insert at
   * the head). A full queue is waited for by polling, for up to `waitMs`
   * (no thread: nothing may block past the end of the command). False when
   * it could not go back: the queue stayed full, or is gone.
   */
  async putBack(msg: Message, waitMs = 1000): Promise<boolean> {
    const end = Date.now() + waitMs;
    for (let pause = 1; ; pause = Math.min(2 * pause, 50)) {
      const r = this.putBackNow(msg);
      if (r !== 'full') return r === 'back';
      if (Date.now() >= end) return false;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /** One try, never waiting. */
  putBackNow(msg: Message): 'back' | 'full' | 'failed' {
    const mb = this.bufferFor(msg.data.length);
    try {
      mb.load(msg.type, msg.data);
      return native.msgSend(this.id, mb, msg.data.length, IPC_NOWAIT) === 0 ? 'back' : 'full';
    } catch {
      return 'failed';
    }
  }

  close(): void {
    this.buffer?.free();
    this.buffer = null;
    this.receiveArea?.free();
    this.receiveArea = null;
  }
}

/**
 * Messages taken by receiveRunNow: their texts (and separators) back to back
 * in native memory, valid until the queue's next receive.
 */
export class ReceivedRun {
  constructor(
    private readonly area: Batch.ReceiveArea,
    readonly count: number,
    private readonly sepLength: number,
  ) {}

  /** Everything, ready to write (a view, not a copy). */
  get bytes(): Buffer {
    return this.area.bytes(0, this.area.endOf(this.count - 1));
  }

  /** Messages [from, count), copied out of native memory with one copy. */
  messages(from = 0): Message[] {
    const base = this.area.endOf(from - 1);
    const copy = Buffer.from(this.area.bytes(base, this.area.endOf(this.count - 1)));
    const out: Message[] = [];
    for (let i = from; i < this.count; i++) {
      const start = this.area.endOf(i - 1) - base;
      const end = this.area.endOf(i) - base - this.sepLength;
      out.push({ type: this.area.typeOf(i), data: copy.subarray(start, end) });
    }
    return out;
  }

  /** Did the run stop because the area had no room for one more message of the largest size? */
  get full(): boolean {
    return this.count >= this.area.room || this.area.endOf(this.count - 1) + this.area.capacity + 1 > this.area.size;
  }

  /** The first message not wholly within the first `written` bytes. */
  firstUnwritten(written: number): number {
    let i = 0;
    while (i < this.count && this.area.endOf(i) <= written) i++;
    return i;
  }
}
