// Leaving the process. Blocking libc calls run on libuv's thread pool, and
// Node's normal exit joins those threads: a msgrcv still waiting in the
// kernel would hold the exit for ever. The native layer counts such calls
// and installs a hard exit (_exit(2)) for that case; output is written
// synchronously, so nothing is lost by skipping the atexit handlers.

let pendingBlockingCalls = 0;
let blockingCallsMade = 0;
let hardExit: ((code: number) => never) | null = null;

export function blockingCallStarted(): void {
  pendingBlockingCalls++;
  blockingCallsMade++;
}

/** Has this process ever made a blocking call (whose callback may still be due)? */
export function madeBlockingCalls(): boolean {
  return blockingCallsMade > 0;
}

export function blockingCallEnded(): void {
  pendingBlockingCalls--;
}

export function installHardExit(fn: (code: number) => never): void {
  hardExit = fn;
}

export function exitProcess(code: number): never {
  if (pendingBlockingCalls > 0 && hardExit) hardExit(code);
  process.exit(code);
}
