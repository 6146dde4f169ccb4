// The policy of moving messages between a queue and a byte stream, in one
// place: how `msgq recv` takes messages and hands them to its output, how
// `msgq send` takes records from its input, how both wait, and what a
// failed write or a stop signal does to a message already taken.
//
// The rule ("Nothing lost" in DESIGN.md): a message taken off the queue is
// either delivered (its bytes all written, the write returned) or put back
// (at the tail, with its type), and the command says which and how many.
// Messages are taken in batches of at most RUN_COUNT messages / RUN_BYTES
// bytes, handed on at the latest HOLD_MS after the first of them was taken:
// only SIGKILL can lose anything, and then at most that one batch.
import { CliError, EXIT, IpcError, OperationError, TimeoutError } from '../../errors.js';
import type * as Batch from '../../native/sysv/msg-batch.js';
import { POLLERR, POLLHUP, POLLIN, readyNow } from '../../native/poll.js';
import type { Message, MessageQueue, ReceivedRun } from './msgq.js';
import { RecordBatch, RecordTooLong, type ReadInto } from './record-batch.js';
import { SIGNAL_EXIT, StopSignals, type StopSignal } from '../stop-signals.js';
import { Deadline, formatMs } from '../wait.js';
import { PollWait, waitInKernel, type WaitPlan } from './batch-wait.js';
import { OutputFailure, type Output } from '../transfer-output.js';

export { HOLD_MS } from './batch-wait.js';
export { RUN_BYTES } from './msgq.js';
/** Messages of one receive batch at most (the native index's size). */
export const RUN_COUNT = 8192;

const batch = (): typeof Batch => require('../../native/sysv/msg-batch.js') as typeof Batch;

export { OutputFailure, type Output };

/** A transfer ended by SIGINT/SIGTERM/SIGHUP: exit 130/143/129 with what was done. */
export class TransferStopped extends CliError {
  constructor(
    message: string,
    readonly signal: StopSignal,
  ) {
    super(message, SIGNAL_EXIT[signal]);
  }
}

const plural = (n: number, what = 'message') => `${n} ${what}${n === 1 ? '' : 's'}`;
const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface ReceiveStreamOptions {
  type: number;
  except: boolean;
  truncate: boolean;
  /** Fail (exit 3) rather than wait when fewer than `count` are there. */
  nowait: boolean;
  timeoutMs?: number;
  /** Receive buffer size per message. */
  capacity: number;
  /** How many messages (Infinity with all). */
  count: number;
  /** Take what is there now and end (exit 0 also when none). */
  all: boolean;
  /** More than one message may come: the count is part of reports. */
  several: boolean;
  /** Byte after each text (10, 0), or -1 for none. Ignored with encode. */
  separator: number;
  /** Each message's output bytes (JSON lines); without it, texts and separators as they came. */
  encode?: (m: Message) => Buffer;
  /** Told when the stream starts and stops waiting (a spinner). */
  onWait?: (waiting: boolean) => void;
}

export interface ReceiveReport {
  delivered: number;
  putBack: number;
  /** A line for stderr when the reader went away and messages went back. */
  notice?: string;
}

/**
 * Receive up to `count` messages from `q` into `out`, many per native call,
 * waiting in the kernel when the queue is empty (unless nowait/all).
 * Returns when done or when the reader went away (quietly, after putting
 * back); throws on a failed write, a stop signal, a timeout or an empty
 * queue, each time after putting back what it held and saying so.
 */
export async function receiveStream(q: MessageQueue, out: Output, opts: ReceiveStreamOptions): Promise<ReceiveReport> {
  const what = `msgq recv ${q.name}`;
  const signals = new StopSignals();
  const deadline = new Deadline(opts.timeoutMs);
  const plan: WaitPlan = { deadline, signals, hold: true };
  const ctl = batch().canWaitInBatch() ? new (batch().WaitControl)() : null;
  const poll = new PollWait(plan);
  const ropts = { type: opts.type, except: opts.except, truncate: opts.truncate, nowait: true, deadline };
  const sep = opts.encode ? -1 : opts.separator;
  let delivered = 0;
  let timedOut = false;
  let empty = false;
  let failure: OutputFailure | null = null;
  let inHand: Message[] = [];
  let waiting = false;
  const setWaiting = (on: boolean) => {
    if (on !== waiting) opts.onWait?.((waiting = on));
  };

  // Write a run; on a failed write keep (copies of) the messages not wholly written.
  const deliver = (run: ReceivedRun) => {
    let data: Uint8Array;
    let ends: number[] | null = null;
    if (opts.encode) {
      const parts = run.messages().map(opts.encode);
      ends = [];
      let at = 0;
      for (const p of parts) ends.push((at += p.length));
      data = parts.length === 1 ? parts[0]! : Buffer.concat(parts, at);
    } else data = run.bytes;
    try {
      out.write(data);
      delivered += run.count;
    } catch (e) {
      if (!(e instanceof OutputFailure)) throw e;
      const first = ends ? ends.filter((end) => end <= e.written).length : run.firstUnwritten(e.written);
      delivered += first;
      inHand = run.messages(first);
      failure = e;
    }
  };

  // Take what is there from this thread first, unless the last batch emptied the queue: then
  // a producer is feeding it, and the next batch goes straight to the call that waits in the
  // kernel (with the helper), which keeps taking as the messages come. Taking the few that a
  // small queue holds from here, one turn of JS and one write per queueful, would make this end
  // slower than the producer, which would then wait on a full queue at every turn.
  let takeNow = true;
  const mayWait = ctl !== null && !opts.all && !opts.nowait;
  // With the helper, and an output that takes raw bytes on a descriptor, the native loop
  // receives and writes on the stream's thread, one call for the whole stream; it writes
  // out in large writes, and what it holds while it waits for more within the hold time
  // (it is woken then, writes it out and returns). A failed write comes back with the
  // messages not all written, which are put back as below.
  const direct = mayWait && !opts.encode && out.direct !== undefined && Number.isFinite(opts.count) && batch().canReceiveWriting();
  const directPlan: WaitPlan = { ...plan, onTick: () => setWaiting(ctl!.waiting) };
  try {
    while (delivered < opts.count && !signals.stopped && !timedOut) {
      if (direct) {
        const w = await waitInKernel(ctl!, directPlan, () => q.receiveWritingWaiting(out.direct!.fd, opts.capacity, ropts, opts.count - delivered, sep, ctl!));
        setWaiting(false);
        delivered += w.value.delivered;
        timedOut = w.timedOut;
        if (w.value.unwritten) {
          const { run, written, code } = w.value.unwritten;
          const first = run.firstUnwritten(written);
          delivered += first;
          inHand = run.messages(first);
          failure = out.direct!.failure(written, code);
          break;
        }
        w.value.failure?.();
        continue;
      }
      const max = Math.min(opts.count - delivered, RUN_COUNT);
      let run: ReceivedRun | null = takeNow || !mayWait ? q.receiveRunNow(opts.capacity, ropts, max, sep) : null;
      if (!run) {
        if (opts.all || opts.nowait) {
          empty = !opts.all;
          break;
        }
        setWaiting(true);
        if (ctl) {
          const w = await waitInKernel(ctl, plan, () => q.receiveRunWaiting(opts.capacity, ropts, max, sep, ctl));
          run = w.value;
          timedOut = w.timedOut;
        } else {
          const why = await poll.next();
          timedOut = why === 'timeout';
          continue;
        }
        if (!run) continue;
      }
      setWaiting(false);
      poll.reset();
      takeNow = run.count === max || run.full;
      deliver(run);
      if (failure) break;
      // Let a signal in between batches: a drain may never need to wait.
      await nextTick();
    }
  } finally {
    setWaiting(false);
    signals.dispose();
    ctl?.free();
  }

  const back = await putBack(q, inHand);
  const counts = `delivered ${delivered}, put back ${back.done}${back.lost ? `; ${back.lost}` : ''}`;
  const f = failure as OutputFailure | null;
  if (f) {
    if (f.closed) {
      return {
        delivered,
        putBack: back.done,
        notice:
          back.done > 0 || back.lost
            ? `ipcctl: ${what}: output closed; put ${plural(back.done)} back on the queue (at its tail); delivered ${delivered}${back.lost ? `; ${back.lost}` : ''}\n`
            : undefined,
      };
    }
    throw new OperationError(`${what}: writing stdout: ${f.code}, ${f.detail}; ${counts}`, EXIT.FAILED);
  }
  if (signals.signal) {
    const sig = signals.signal;
    const quiet = !opts.several && delivered === 0 && back.done === 0;
    throw new TransferStopped(`${what}: interrupted${sig === 'SIGINT' && quiet ? '' : ` by ${sig}`}${quiet ? '' : `; ${counts}`}`, sig);
  }
  if (timedOut && delivered < opts.count) {
    throw new TimeoutError(`${what}: timed out after ${formatMs(deadline.total!)}${opts.several ? `; received ${delivered} of ${opts.count}` : ''}`);
  }
  if (empty) {
    throw IpcError.of('ENOMSG', 'msgq recv', q.name, {
      detail: delivered === 0 ? 'no message' + (opts.type !== 0 ? ` of type ${opts.type}` : '') : `only ${plural(delivered)}`,
      exitCode: EXIT.EMPTY,
    });
  }
  return { delivered, putBack: 0 };
}

/**
 * Put `messages` back, in order, each with its type. A full queue is
 * waited for up to two seconds in all; what still cannot go back is
 * counted and named (the queue stayed full, or is gone).
 */
async function putBack(q: MessageQueue, messages: Message[]): Promise<{ done: number; lost: string }> {
  const end = Date.now() + 2000;
  let done = 0;
  for (const m of messages) {
    if (!(await q.putBack(m, Math.max(0, end - Date.now())))) break;
    done++;
  }
  const left = messages.length - done;
  if (left === 0) return { done, lost: '' };
  let gone = false;
  try {
    q.stat('msgq recv');
  } catch {
    gone = true;
  }
  return { done, lost: `${plural(left)} could not go back (${gone ? 'the queue is gone' : 'the queue stayed full'}) and are lost` };
}

export interface SendStreamOptions {
  type: number;
  nowait: boolean;
  timeoutMs?: number;
  /** Record separator: 10 (--lines) or 0 (--null). */
  separator: number;
  onWait?: (waiting: boolean) => void;
}

/** Where records come from: a reader, and the descriptor it reads (looked at before blocking), if any. */
export interface Input {
  read: ReadInto;
  fd?: number;
}

/**
 * Send each record of `input` as one message, many per native call,
 * waiting in the kernel when the queue is full (unless nowait). Exactly the
 * first `sent` records are on the queue whatever happens; every error and
 * a stop signal say how many that is.
 */
export async function sendStream(q: MessageQueue, input: Input, opts: SendStreamOptions): Promise<{ sent: number }> {
  const what = `msgq send ${q.name}`;
  const signals = new StopSignals();
  const deadline = new Deadline(opts.timeoutMs);
  const plan: WaitPlan = { deadline, signals };
  const ctl = batch().canWaitInBatch() ? new (batch().WaitControl)() : null;
  const poll = new PollWait(plan);
  const limit = q.messageLimit();
  const records = new RecordBatch(opts.separator, limit.bytes);
  const read = guardedReader(input, what);
  let sent = 0;
  const after = () => ` (after sending ${plural(sent)})`;
  const annotate = (e: unknown) => {
    if (sent > 0 && e instanceof CliError && !(e instanceof IpcError && e.code === 'EAGAIN')) e.message += after();
    return e;
  };
  let waiting = false;
  const setWaiting = (on: boolean) => {
    if (on !== waiting) opts.onWait?.((waiting = on));
  };
  let timedOut = false;
  // With the helper, and input from a descriptor, the native loop reads, splits and sends
  // on the stream's thread, one call for the whole stream; what it stops at (the end of
  // input, a record too long, a failure) is judged by the code below, as without it.
  const fd = input.fd;
  const inNative = ctl !== null && fd !== undefined && !opts.nowait && batch().canSendReading();
  const nativePlan: WaitPlan = { ...plan, onTick: () => setWaiting(ctl!.waiting) };
  try {
    outer: while (!signals.stopped) {
      if (inNative) {
        const w = await waitInKernel(ctl!, nativePlan, () => q.sendReadingWaiting(records, fd!, opts.separator, opts.type, ctl!));
        setWaiting(false);
        sent += w.value.sent;
        if (w.value.error) throw annotate(w.value.error);
        if (w.value.readError) throw annotate(readFailure(w.value.readError, what));
        if (w.value.woken) {
          if (w.timedOut) timedOut = true;
          if (w.timedOut || signals.stopped) break;
          continue;
        }
      }
      let more: boolean | null;
      try {
        more = records.next(read);
      } catch (e) {
        if (e instanceof RecordTooLong) {
          throw annotate(new OperationError(`${what}: a record of more than ${limit.bytes} bytes is above ${limit.what}; stopped reading there`, EXIT.FAILED));
        }
        throw annotate(e);
      }
      if (more === false) break;
      if (more === null) {
        // Nothing to read now (an idle pipe): wait without blocking, so that a signal is seen.
        const why = await poll.next();
        if (why === 'timeout') {
          timedOut = true;
          break;
        }
        continue;
      }
      poll.reset();
      for (let i = 0; i < records.count;) {
        const r = q.sendBatchNow(records, i, opts.type);
        i += r.sent;
        sent += r.sent;
        if (r.error) throw annotate(r.error);
        if (i === records.count) break;
        if (records.length(i) > limit.bytes) {
          try {
            q.checkSize(records.length(i));
          } catch (e) {
            throw annotate(e);
          }
        }
        // The queue is full.
        if (opts.nowait) throw full(q, sent);
        if (signals.stopped) break outer;
        setWaiting(true);
        if (ctl) {
          const w = await waitInKernel(ctl, plan, () => q.sendBatchWaiting(records, i, opts.type, ctl));
          i += w.value.sent;
          sent += w.value.sent;
          if (w.value.error) throw annotate(w.value.error);
          if (w.timedOut && i < records.count) {
            timedOut = true;
            break outer;
          }
        } else {
          const why = await poll.next();
          if (why === 'timeout') {
            timedOut = true;
            break outer;
          }
          if (why === 'stop') break outer;
        }
        setWaiting(false);
        poll.reset();
      }
      await nextTick();
    }
  } finally {
    setWaiting(false);
    signals.dispose();
    ctl?.free();
    records.free();
  }
  if (signals.signal) throw new TransferStopped(`${what}: interrupted by ${signals.signal}; sent ${plural(sent)}`, signals.signal);
  if (timedOut) throw new TimeoutError(`${what}: timed out after ${formatMs(deadline.total!)}; sent ${plural(sent)}`);
  return { sent };
}

function full(q: MessageQueue, sent: number): IpcError {
  return IpcError.of('EAGAIN', 'msgq send', q.name, { detail: `the queue is full; sent ${plural(sent)}`, exitCode: EXIT.EMPTY });
}

/**
 * Send all of `input` as one message (bounded as readWholeMessage says),
 * waiting for room unless nowait (then a full queue is EAGAIN, exit 3).
 */
export async function sendWhole(q: MessageQueue, input: Input, opts: { type: number; nowait: boolean; timeoutMs?: number }): Promise<{ sent: number }> {
  const payload = readWholeMessage(q, input);
  if (!(await q.send(payload, { type: opts.type, nowait: opts.nowait, deadline: new Deadline(opts.timeoutMs) }))) throw full(q, 0);
  return { sent: 1 };
}

export interface PeekOptions {
  type: number;
  except: boolean;
  truncate: boolean;
  capacity: number;
  count: number;
  /** Output of one message: its bytes (text and separator, or a JSON line). */
  encode: (m: Message) => Buffer;
}

/** Does a message of type `t` match what --type/--except ask for? */
function typeMatches(t: number, want: number, except: boolean): boolean {
  if (want === 0) return true;
  if (want > 0) return except ? t !== want : t === want;
  return t <= -want;
}

/**
 * --peek: copy up to `count` messages without removing them (MSG_COPY, by
 * position; --type filters the copies here). Nothing is taken, so nothing
 * needs putting back; a reader that went away just ends it.
 */
export function peekStream(q: MessageQueue, out: Output, opts: PeekOptions): { copied: number } {
  let copied = 0;
  const pending: Buffer[] = [];
  let bytes = 0;
  const flush = () => {
    if (pending.length) out.write(pending.length === 1 ? pending[0]! : Buffer.concat(pending, bytes));
    pending.length = 0;
    bytes = 0;
  };
  try {
    for (let index = 0; copied < opts.count; index++) {
      const m = q.peek(index, opts.capacity, opts.truncate);
      if (!m) break;
      if (!typeMatches(m.type, opts.type, opts.except)) continue;
      const b = opts.encode(m);
      pending.push(b);
      bytes += b.length;
      copied++;
      if (bytes >= 64 * 1024) flush();
    }
    flush();
  } catch (e) {
    if (e instanceof OutputFailure && e.closed) return { copied };
    if (e instanceof OutputFailure) throw new OperationError(`msgq recv --peek ${q.name}: writing stdout: ${e.code}, ${e.detail}`, EXIT.FAILED);
    throw e;
  }
  if (copied === 0) {
    throw IpcError.of('ENOMSG', 'msgq recv', q.name, { detail: 'no message' + (opts.type !== 0 ? ` of type ${opts.type}` : ''), exitCode: EXIT.EMPTY });
  }
  return { copied };
}

/**
 * Read all of `input` as one message, stopping one byte past the largest
 * message the queue can take: more than that is refused before anything is
 * sent (reading /dev/zero ends at once, memory stays bounded).
 */
export function readWholeMessage(q: MessageQueue, input: Input): Buffer {
  const what = `msgq send ${q.name}`;
  const limit = q.messageLimit();
  const read = guardedReader({ read: input.read }, what);
  const buf = Buffer.allocUnsafe(limit.bytes + 1);
  let filled = 0;
  while (filled < buf.length) {
    const n = read(buf, filled, buf.length - filled);
    if (n <= 0) break;
    filled += n;
  }
  if (filled > limit.bytes) {
    throw new OperationError(
      `${what}: stdin holds more than ${limit.bytes} bytes, above ${limit.what}; nothing sent`,
      EXIT.FAILED,
      limit.what.startsWith('the system') ? 'raise it with sysctl kernel.msgmax' : "raise it with 'ipcctl msgq set --max-bytes'",
    );
  }
  return buf.subarray(0, filled);
}

/**
 * The input's reader, with its errors (EISDIR: stdin is a directory) named
 * as one line, and -1 instead of blocking when its descriptor has nothing.
 */
function guardedReader(input: Input, what: string): ReadInto {
  return (into, offset, length) => {
    if (input.fd !== undefined && readyNow(input.fd, POLLIN | POLLHUP | POLLERR) === 0) return -1;
    try {
      return input.read(into, offset, length);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) throw e;
      throw readFailure(code, what);
    }
  };
}

/** A failed read of the input (errno name `code`) as one line. */
function readFailure(code: string, what: string): IpcError {
  const detail = code === 'EISDIR' ? 'stdin is a directory' : 'reading stdin failed';
  return IpcError.of(code, what, '', { detail, exitCode: EXIT.FAILED });
}
