// Sleeping without returning to the event loop, for the synchronous loops
// that meet a non-blocking fd (EAGAIN) or poll for another process: waits,
// does not spin.
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
