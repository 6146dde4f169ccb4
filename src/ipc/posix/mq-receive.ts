// Receiving from a POSIX message queue into a byte stream: the policy of
// `pmq recv`, in one place. What is on the queue now is taken many messages
// per native call (--count, --all); an empty queue is waited on in poll for
// one message, then runs go on. Small outputs (single messages after a wait,
// JSON lines) are held up to HOLD_BYTES and written in one call.
//
// The rule ("Nothing lost" in DESIGN.md): a message taken is either
// delivered (its bytes all written, the write returned) or sent back with its
// priority (behind those of the same priority: the queue's order allows
// nothing else), and the command says how many went back. SIGINT, SIGTERM
// and SIGHUP stop the taking between messages; what is held goes out first.
// While waiting, Ctrl-C (130), SIGTERM (143), SIGHUP (129), --timeout (124)
// and a removed queue (4) end the wait with nothing taken.
import { EXIT, IpcError, OperationError } from '../../errors.js';
import { StopSignals, type StopSignal } from '../stop-signals.js';
import { OutputFailure, type Output } from '../transfer-output.js';
import { Deadline } from '../wait.js';
import type { PosixMessage, PosixQueue, ReceivedRun } from './mqueue.js';

export { OutputFailure, type Output } from '../transfer-output.js';
export { SIGNAL_EXIT } from '../stop-signals.js';

/** Output held before it is written, with --count/--all (one write for many small messages). */
export const HOLD_BYTES = 64 * 1024;
/** Messages one native call takes at the most. */
const RUN_MAX = 1 << 30;
/**
 * A drain that never needs to wait never returns to the event loop, where
 * signal listeners run: it lets them in this often (ms), so that a stop
 * signal ends a long stream within a few milliseconds and a batch.
 */
const SIGNALS_EVERY_MS = 5;
/** One turn of the event loop; the time after it. */
const letSignalsIn = () => new Promise<number>((resolve) => setImmediate(() => resolve(Date.now())));

export interface PmqReceiveOptions {
  /** How many messages (Infinity with all). */
  count: number;
  /** Take what is there now and end (exit 0 also when none). */
  all: boolean;
  /** More than one message may come (--count, --all): each text ends in `separator`, output is held. */
  several: boolean;
  /** Fail (EAGAIN, exit 3) rather than wait when fewer than `count` are there. */
  nowait: boolean;
  timeoutMs?: number;
  /** Byte after each text with several (10, 0). Ignored with encode. */
  separator: number;
  /** Each message's output bytes (JSON lines); without it, texts as they came. */
  encode?: (m: PosixMessage) => Buffer;
  /** Told when the receive starts and stops waiting (a spinner). */
  onWait?: (waiting: boolean) => void;
}

export interface PmqReceiveReport {
  /** Messages written to the output (and not put back). */
  delivered: number;
  /** A line for stderr when the reader went away and messages went back. */
  notice?: string;
  /** A stop signal ended the taking (exit 128 + its number); everything taken was delivered. */
  signal: StopSignal | null;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/**
 * Receive up to `count` messages from `q` into `out`, highest priority
 * first. Returns when done, stopped by a signal, or when the reader went
 * away (after putting back); throws on a failed write (after putting back
 * and saying how many), a timeout, a removed queue, or an empty one
 * (--nowait).
 */
export async function receiveFromQueue(q: PosixQueue, out: Output, opts: PmqReceiveOptions): Promise<PmqReceiveReport> {
  const signals = new StopSignals();
  const deadline = new Deadline(opts.timeoutMs);
  const held = new HeldOutput(out, opts.several ? HOLD_BYTES : 0);
  const runSeparator = opts.encode ? -1 : opts.separator;
  const sep = Buffer.from([opts.separator]);
  // Ctrl-C and SIGTERM end a wait through the poll loop itself; SIGHUP here.
  const stop = () => (signals.signal === 'SIGHUP' ? { signal: 'SIGHUP', code: EXIT.HANGUP } : null);
  let received = 0;
  let empty = false;
  let lastYield = Date.now();
  try {
    while (received < opts.count) {
      if (Date.now() - lastYield >= SIGNALS_EVERY_MS) lastYield = await letSignalsIn();
      if (signals.stopped) break;
      // Whatever is there now comes many messages per native call.
      const run = opts.several ? q.receiveRunNow(Math.min(opts.count - received, RUN_MAX), runSeparator) : null;
      if (run) {
        received += run.count;
        held.addRun(run, opts.encode);
        continue;
      }
      let m = opts.several ? null : q.receiveNow();
      if (!m && (opts.nowait || opts.all)) {
        empty = !opts.all;
        break;
      }
      if (!m) {
        held.flush(); // what we have goes out before we wait
        m = await waitForOne(q, deadline, stop, opts.onWait);
      }
      received++;
      if (opts.encode) held.add(m, opts.encode(m));
      else if (opts.several) held.add(m, m.data, sep);
      else held.add(m, m.data);
    }
    held.flush();
  } catch (e) {
    return await settle(q, held, e, received);
  } finally {
    signals.dispose();
  }
  if (empty) {
    const detail = received === 0 ? 'no message' : `only ${plural(received, 'message')}`;
    throw IpcError.of('EAGAIN', 'pmq recv', q.name, { detail, exitCode: EXIT.EMPTY });
  }
  return { delivered: received, signal: signals.signal };
}

async function waitForOne(q: PosixQueue, deadline: Deadline, stop: () => { signal: string; code: number } | null, onWait?: (waiting: boolean) => void) {
  onWait?.(true);
  try {
    return await q.receive(deadline, 'pmq recv', stop);
  } finally {
    onWait?.(false);
  }
}

/**
 * The receive ended by `e`. What is held is delivered first when the output
 * still works; what was taken and not delivered goes back on the queue,
 * each with its priority. A failed output is the error itself (exit 1, one
 * line with the put-back), a reader gone only a note; any other error
 * (timeout, signal, removed queue) is thrown as it came.
 */
async function settle(q: PosixQueue, held: HeldOutput, e: unknown, received: number): Promise<PmqReceiveReport> {
  let failure = e;
  if (!(e instanceof OutputFailure)) {
    try {
      held.flush();
    } catch (e2) {
      if (!(e2 instanceof OutputFailure)) throw e2;
      if (!e2.closed) failure = e2;
    }
  }
  const back = held.undelivered;
  const lost = await putBackAll(q, back);
  const putBack =
    back.length === 0
      ? ''
      : `; put ${plural(back.length - lost, 'message')} back on the queue (behind those of the same priority)` +
        (lost > 0 ? `; ${lost} could not go back (the queue stayed full, or no write permission)` : '');
  const what = `pmq recv ${q.name}`;
  if (!(failure instanceof OutputFailure)) throw failure;
  if (!failure.closed) throw new OperationError(`${what}: writing stdout: ${failure.code}, ${failure.detail}${putBack}`, EXIT.FAILED);
  // A reader that went away is not an error.
  return { delivered: received - back.length, notice: putBack ? `ipcctl: ${what}: output closed${putBack}\n` : undefined, signal: null };
}

/**
 * Put messages taken but not delivered back on `q`, each with its priority
 * (behind those of the same priority); how many could not go back (the
 * queue stayed full, or no write permission).
 */
async function putBackAll(q: PosixQueue, messages: PosixMessage[]): Promise<number> {
  let lost = 0;
  for (const m of messages) if (!(await q.putBack(m))) lost++;
  return lost;
}

/**
 * Output bytes of messages taken and not yet written, each part tagged with
 * its message: many small messages go out in one write, and after a failed
 * write exactly the messages not wholly written are known (`undelivered`).
 */
class HeldOutput {
  private parts: Uint8Array[] = [];
  private ends: number[] = [];
  private messages: PosixMessage[] = [];
  private bytes = 0;
  /** Taken and not delivered: set by the write that failed. */
  undelivered: PosixMessage[] = [];

  constructor(
    private readonly out: Output,
    private readonly limit: number,
  ) {}

  /** Hold `parts` as the output of `m`; write when the batch is full. */
  add(m: PosixMessage, ...parts: Uint8Array[]): void {
    for (const p of parts) {
      this.parts.push(p);
      this.bytes += p.length;
    }
    this.ends.push(this.bytes);
    this.messages.push(m);
    if (this.bytes >= this.limit) this.flush();
  }

  /**
   * A run as the native call left it: its bytes (texts and separators) are
   * written as they are, after what is held; encoded (JSON), each message
   * is held like any other.
   */
  addRun(run: ReceivedRun, encode?: (m: PosixMessage) => Buffer): void {
    if (encode) {
      for (const m of run.messages()) this.add(m, encode(m));
      return;
    }
    this.flush();
    try {
      this.out.write(run.bytes);
    } catch (e) {
      // Copies of the messages not wholly written: the run's memory is reused by the next one.
      if (e instanceof OutputFailure) this.undelivered = run.messages(run.firstUnwritten(e.written));
      throw e;
    }
  }

  flush(): void {
    if (this.bytes === 0) return;
    const data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bytes);
    const { ends, messages } = this;
    this.parts = [];
    this.ends = [];
    this.messages = [];
    this.bytes = 0;
    try {
      this.out.write(data);
    } catch (e) {
      if (e instanceof OutputFailure) this.undelivered = messages.filter((_, i) => ends[i]! > e.written);
      throw e;
    }
  }
}
