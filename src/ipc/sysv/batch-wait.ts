// How a message stream waits for a full queue to drain or an empty one to
// fill. With the C helper, a whole batch waits inside the kernel, on a
// worker thread, and this file ends that wait when it must: a stop signal,
// the --timeout deadline, or (for a receiver) messages held longer than
// HOLD_MS, so that what was taken reaches the output soon and at most one
// bounded batch is ever in hand. Without the helper no blocked thread could
// be ended, so the stream polls with IPC_NOWAIT instead (same results).
import type { WaitControl } from '../../native/sysv/msg-batch.js';
import type { StopSignals } from '../stop-signals.js';
import type { Deadline } from '../wait.js';
import { sleepSync } from '../../sleep.js';

/** A receiver hands on what it took at the latest this long after taking it. */
export const HOLD_MS = 20;
/** How often a waiting batch is looked at (hold time, deadline, repeated wakes). */
const TICK_MS = 10;
/** setTimeout's limit; longer deadlines are caught by the tick. */
const MAX_TIMER = 2 ** 31 - 1;

export interface WaitPlan {
  deadline: Deadline;
  signals: StopSignals;
  /** Wake the batch once it holds a message for HOLD_MS (receivers). */
  hold?: boolean;
  /** Called at each look at a waiting batch (every TICK_MS). */
  onTick?: () => void;
}

export interface Waited<T> {
  value: T;
  timedOut: boolean;
}

/**
 * Run `call` (a batch that may block in the kernel, ended by `ctl.wake()`)
 * and end it when the plan says so. Always waits for the call to return:
 * whatever it took comes back to the caller, never left on a thread.
 */
export async function waitInKernel<T>(ctl: WaitControl, plan: WaitPlan, call: () => Promise<T>): Promise<Waited<T>> {
  ctl.reset();
  let wanted = false;
  let timedOut = false;
  let heldSince = 0;
  let lastHeld = 0;
  const want = () => {
    wanted = true;
    ctl.wake();
  };
  const expire = () => {
    timedOut = true;
    want();
  };
  const left = plan.deadline.remaining();
  if (left === 0) return { value: await runWoken(ctl, call), timedOut: true };
  const timer = left !== undefined ? setTimeout(() => (plan.deadline.remaining() === 0 ? expire() : undefined), Math.min(left, MAX_TIMER)) : undefined;
  const tick = setInterval(() => {
    // A wake may land just before the thread enters the kernel: repeat it.
    if (wanted) return ctl.wake();
    plan.onTick?.();
    if (plan.deadline.remaining() === 0) return expire();
    // A loop that writes its messages itself holds fewer (or none) after each write: what
    // it holds then came after the last look.
    const held = ctl.held;
    if (plan.hold && held > 0) {
      const now = Date.now();
      if (heldSince === 0 || held < lastHeld) heldSince = now;
      else if (now - heldSince >= HOLD_MS) want();
    } else heldSince = 0;
    lastHeld = held;
  }, TICK_MS);
  const unsubscribe = plan.signals.onStop(want);
  try {
    return { value: await call(), timedOut };
  } finally {
    clearInterval(tick);
    clearTimeout(timer);
    unsubscribe();
  }
}

/** A call that must return at once: woken before it starts. */
async function runWoken<T>(ctl: WaitControl, call: () => Promise<T>): Promise<T> {
  const p = call();
  const tick = setInterval(() => ctl.wake(), 1);
  ctl.wake();
  try {
    return await p;
  } finally {
    clearInterval(tick);
  }
}

/** The first nap of a polling wait, and the longest (milliseconds). */
const FIRST_NAP_MS = 0.05;
const LONGEST_NAP_MS = 10;
/** Naps up to this long are taken on the spot (finer than a timer); longer ones through a timer. */
const SYNC_NAP_MS = 1;

/**
 * The polling wait of the fallback: a nap that doubles from 50 us to 10 ms
 * over successive calls (reset when the queue moved), or less when the
 * deadline is nearer. Short naps are slept on the spot, without spinning,
 * then the event loop gets a turn (a signal is seen); longer ones wait on a
 * timer that a stop signal cuts short. Returns why it ended: 'again' to try
 * the queue once more, 'timeout', or 'stop'.
 */
export class PollWait {
  private pause = FIRST_NAP_MS;

  constructor(private readonly plan: WaitPlan) {}

  reset(): void {
    this.pause = FIRST_NAP_MS;
  }

  async next(): Promise<'again' | 'timeout' | 'stop'> {
    if (this.plan.signals.stopped) return 'stop';
    const left = this.plan.deadline.remaining();
    if (left === 0) return 'timeout';
    const ms = Math.min(this.pause, left ?? Infinity);
    this.pause = Math.min(2 * this.pause, LONGEST_NAP_MS);
    if (ms <= SYNC_NAP_MS) {
      sleepSync(ms);
      await new Promise<void>((resolve) => setImmediate(resolve));
    } else {
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, ms);
        const unsubscribe = this.plan.signals.onStop(done);
        function done() {
          clearTimeout(t);
          unsubscribe();
          resolve();
        }
      });
    }
    if (this.plan.signals.stopped) return 'stop';
    return this.plan.deadline.remaining() === 0 ? 'timeout' : 'again';
  }
}
