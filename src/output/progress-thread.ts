// The --progress line for transfers that run as one synchronous loop (shm
// read/write): that loop never lets a timer of the main thread run, and may
// sit in read(2) waiting for a slow producer. So the line is drawn here, on a
// worker thread, from a byte count the loop stores in shared memory: the loop
// itself does nothing more than that store.
import { writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { liveLine, RateWindow, REDRAW_MS } from './progress-format.js';

const { shared, startMs } = workerData as { shared: SharedArrayBuffer; startMs: number };
const counter = new Float64Array(shared);
const rate = new RateWindow();
rate.sample(startMs, 0);

setInterval(() => {
  const now = Date.now();
  const bytes = counter[0]!;
  try {
    writeSync(2, liveLine(bytes, rate.sample(now, bytes), (now - startMs) / 1000));
  } catch {
    /* stderr went away: nothing to draw on */
  }
}, REDRAW_MS);
