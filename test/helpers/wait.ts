// The one way a test waits for something another process does: poll a probe
// until it answers, bounded in time, and fail naming what never happened.
// (A test never sleeps and then assumes: it waits for the state itself.)

export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Time between two probes (default 25 ms). */
  everyMs?: number;
  /** What to add to the failure message, asked at the time it fails (what there was instead). */
  detail?: () => string;
}

/**
 * Resolve with the first answer of `probe` that is neither undefined, null
 * nor false; reject with "timed out waiting for WHAT" after timeoutMs. A probe
 * that throws counts as "not yet" (the process may not have started, a /proc
 * file may vanish between readdir and read); its last error is in the message.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const everyMs = opts.everyMs ?? 25;
  const end = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= end) {
      const why = lastError instanceof Error ? ` (last probe: ${lastError.message})` : '';
      const detail = opts.detail ? `\n${opts.detail()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}${detail}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
