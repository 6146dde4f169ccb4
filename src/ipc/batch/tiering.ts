// How soon V8 optimizes the batch's code. A batch runs the same few hundred
// functions for every line, each line cheap; with V8's default budget its
// optimizing compiler (TurboFan) recompiles dozens of them within the first
// thousand lines, and that compiling costs more than it saves: measured
// with valgrind on the README counter loop (sem op, shm read, shm write,
// sem op; Node 20), 1,000 lines took 679K instructions a line with the
// default budget and 386K with fifteen times its budget; 4,000 lines 431K
// and 339K. Code that stays hot over a long batch is still optimized, only
// later, and a very long batch pays a little for that: 16,000 lines took
// 270K a line with the default budget and 294K with this one. The flag (--interrupt-budget, the bytecode executed between
// tiering checks) has been in V8 under that name from Node 20 to 24; it is
// read whenever a function's budget is renewed, so setting it at run time
// takes effect for the code that follows. Not where Node's compile cache is
// on (bin/ipcctl turns it on from Node 22.1): V8 checks cached code against
// a hash of the flags that differ from their defaults, so code compiled
// after the change would not match the cache of every other ipcctl start.
import * as nodeModule from 'node:module';
import { setFlagsFromString } from 'node:v8';

/** Fifteen times V8's default (66 KiB of bytecode on Node 20). */
const BUDGET = 1_000_000;

export function optimizeLater(): void {
  if (!compileCacheMayBeOn()) setFlagsFromString(`--interrupt-budget=${BUDGET}`);
}

/** Node 22.8+ says whether the cache is on; 22.1-22.7 only that it could be. */
function compileCacheMayBeOn(): boolean {
  const m = nodeModule as { getCompileCacheDir?: () => string | undefined; enableCompileCache?: unknown };
  return m.getCompileCacheDir ? m.getCompileCacheDir() !== undefined : typeof m.enableCompileCache === 'function';
}
