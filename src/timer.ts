// Timers for any duration the parsers accept. Node's setTimeout takes at most
// 2^31-1 ms (about 24.8 days): a longer delay fires at once with a
// TimeoutOverflowWarning. A long wait here is a chain of pieces each within
// that limit, so `--timeout 1000h` really waits 1000 hours.

/** The longest delay one setTimeout honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimer {
  clear(): void;
  /** Do not keep the process alive for this timer alone. */
  unref(): LongTimer;
}

export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  const end = Date.now() + Math.max(0, ms);
  let handle: NodeJS.Timeout | undefined;
  let unrefd = false;
  const arm = () => {
    const left = end - Date.now();
    if (left <= 0) {
      handle = undefined;
      fn();
      return;
    }
    handle = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    if (unrefd) handle.unref();
  };
  handle = setTimeout(arm, Math.min(Math.max(0, ms), MAX_TIMER_MS));
  const timer: LongTimer = {
    clear: () => {
      if (handle) clearTimeout(handle);
      handle = undefined;
    },
    unref: () => {
      unrefd = true;
      handle?.unref();
      return timer;
    },
  };
  return timer;
}

/** A promise that resolves after `ms`, however long. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setLongTimeout(r, ms));
}
