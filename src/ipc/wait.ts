// Waiting on a blocking call without losing the ability to stop: the call
// runs on a native thread, and here it races against SIGINT and --timeout.
import { InterruptedError, TimeoutError } from '../errors.js';
import { type LongTimer, setLongTimeout } from '../timer.js';

let stopping = false;

// One SIGINT listener for the life of the process, installed at the first
// wait. It must stay installed: listeners that come and go let other code's
// handlers (ora's signal-exit) believe nobody handles SIGINT and kill the
// process before our own message is written.
const activeWaits = new Set<() => void>();
let sigintInstalled = false;
// In a batch, SIGINT between waits is the batch's business (it decides
// whether the process ends), and a stop applies to one command only.
let sigintEndsProcess = true;

function onSigint(): void {
  stopping = true;
  if (activeWaits.size > 0) {
    for (const interrupt of [...activeWaits]) interrupt();
    return;
  }
  if (!sigintEndsProcess) return;
  // Between waits: the next wait rejects at once; if none comes, still stop.
  setTimeout(() => {
    process.exit(130);
  }, 2000).unref();
}

function ensureSigintHandler(): void {
  if (sigintInstalled) return;
  sigintInstalled = true;
  process.on('SIGINT', onSigint);
}

/** For batch: SIGINT interrupts waits but never ends the process from here. */
export function keepProcessOnSigint(): void {
  sigintEndsProcess = false;
  ensureSigintHandler();
}

/** For batch: the next command starts with nothing stopping it. */
export function clearStopping(): void {
  stopping = false;
}

/** Interrupt every wait now, as SIGINT would (batch's SIGTERM). */
export function interruptWaits(): void {
  stopping = true;
  for (const interrupt of [...activeWaits]) interrupt();
}

/** True once SIGINT arrived or a timeout expired: EINTR must not be retried. */
export function isStopping(): boolean {
  return stopping;
}

export interface WaitOptions {
  /** Milliseconds, or undefined for no limit. */
  timeoutMs?: number;
  /** Says what timed out, for the error line ("msgq recv 5"). */
  what: string;
  /** The --timeout the user gave, for the message (defaults to timeoutMs). */
  totalMs?: number;
  /**
   * Called when the wait is abandoned and the call finishes later anyway
   * (a message arrived just as we stopped): undo what it did.
   */
  onLateResult?: (value: never) => void;
}

export function waitFor<T>(work: Promise<T>, opts: WaitOptions): Promise<T> {
  ensureSigintHandler();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timer: LongTimer | undefined;
    const finish = () => {
      settled = true;
      timer?.clear();
      activeWaits.delete(interrupt);
    };
    const abandon = (err: Error) => {
      stopping = true;
      finish();
      if (opts.onLateResult)
        work.then(
          (v) => opts.onLateResult!(v as never),
          () => {},
        );
      reject(err);
    };
    const interrupt = () => !settled && abandon(new InterruptedError(`${opts.what}: interrupted`));
    if (stopping) return interrupt();
    activeWaits.add(interrupt);
    if (opts.timeoutMs !== undefined) {
      timer = setLongTimeout(
        () => !settled && abandon(new TimeoutError(`${opts.what}: timed out after ${formatMs(opts.totalMs ?? opts.timeoutMs!)}`)),
        opts.timeoutMs,
      );
    }
    work.then(
      (v) => {
        if (settled) return;
        finish();
        resolve(v);
      },
      (e: unknown) => {
        if (settled) return;
        finish();
        reject(e);
      },
    );
  });
}

/** A deadline shared by several waits of one command (`--timeout` covers them all). */
export class Deadline {
  private readonly end: number | undefined;
  constructor(private readonly totalMs: number | undefined) {
    const timeoutMs = totalMs;
    this.end = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  }
  get total(): number | undefined {
    return this.totalMs;
  }
  remaining(): number | undefined {
    return this.end === undefined ? undefined : Math.max(0, this.end - Date.now());
  }
}

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
