// --progress on bulk transfers: bytes moved and the current rate, redrawn on
// stderr a few times a second, then one summary line (total, seconds, average
// rate). Only on a terminal and never under --json; elsewhere --progress is
// silently ignored. The transfer is never slowed per chunk: the line is drawn
// from a timer that polls a byte counter the transfer keeps anyway.
import { join } from 'node:path';
import { ERASE_LINE, liveLine, RateWindow, REDRAW_MS, summaryLine } from './progress-format.js';
import { setStderrLiveLine, writeStderr, writeStderrRaw as writeRaw } from './sink.js';
import { stderrIsLive } from './spinner.js';

/** --progress given, and somewhere to show it. */
export function progressWanted(flag: boolean | undefined): boolean {
  return Boolean(flag) && stderrIsLive();
}

export interface Progress {
  /** Stop drawing and print the summary line; `detail` is appended to it. Idempotent. */
  finish(detail?: string): void;
}

const NO_PROGRESS: Progress = { finish() {} };

/**
 * For transfers that yield to the event loop (the socket reactor does, every
 * few milliseconds): a timer on this thread reads `bytes()`, e.g. Flow.bytes.
 */
export function pollProgress(op: string, bytes: () => number, wanted: boolean): Progress {
  if (!wanted) return NO_PROGRESS;
  const start = performance.now();
  const rate = new RateWindow();
  rate.sample(start, bytes());
  let drawn = false;
  let finished = false;
  const erase = () => {
    if (drawn) writeRaw(ERASE_LINE);
    drawn = false;
  };
  const timer = setInterval(() => {
    const now = performance.now();
    const n = bytes();
    writeRaw(liveLine(n, rate.sample(now, n), (now - start) / 1000));
    drawn = true;
  }, REDRAW_MS);
  timer.unref();
  // A diagnostic written meanwhile (-v) must not land on the end of our line.
  setStderrLiveLine(erase);
  return {
    finish(detail?: string) {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      setStderrLiveLine(null);
      erase();
      writeStderr(summaryLine(op, bytes(), (performance.now() - start) / 1000, detail));
    },
  };
}

export interface ThreadProgress {
  /** The transfer stores its running byte count in counter[0]. */
  readonly counter: Float64Array;
  /** Stop drawing and print the summary line. */
  finish(detail?: string): Promise<void>;
  /** Stop drawing and erase the line, no summary (the transfer failed). */
  abandon(): Promise<void>;
}

/**
 * For transfers that run as one synchronous loop (no timer of ours could run
 * during it): the line is drawn by a worker thread reading a shared counter.
 */
export function threadProgress(op: string, wanted: boolean): ThreadProgress {
  if (!wanted) return { counter: new Float64Array(1), finish: async () => {}, abandon: async () => {} };
  const shared = new SharedArrayBuffer(8);
  const counter = new Float64Array(shared);
  const start = performance.now();
  // stdout/stderr true: the worker's own streams are not piped into ours.
  // Piping them would open process.stdout here as a libuv stream, which
  // makes fd 1 non-blocking and turns every full pipe into a retry loop in
  // the transfer (measured: a 1 GiB shm read 50% slower).
  // node:worker_threads on first use: it is not in Node's start-up snapshot, and compiling it costs every command a few ms.
  const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
  const worker = new Worker(join(__dirname, 'progress-thread.js'), {
    workerData: { shared, startMs: Date.now() },
    stdout: true,
    stderr: true,
  });
  worker.unref();
  worker.on('error', () => {}); // a drawing that failed is no reason to fail the transfer
  let finished = false;
  const stop = async (): Promise<boolean> => {
    if (finished) return false;
    finished = true;
    // Gone for sure before we write: its last line cannot follow ours.
    await worker.terminate();
    writeRaw(ERASE_LINE);
    return true;
  };
  return {
    counter,
    async finish(detail?: string) {
      const seconds = (performance.now() - start) / 1000;
      if (await stop()) writeStderr(summaryLine(op, counter[0]!, seconds, detail));
    },
    async abandon() {
      await stop();
    },
  };
}
