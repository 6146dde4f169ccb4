// Waiting until a POSIX queue descriptor is ready, in poll(2) on the main
// thread (the Reactor's loop), so Ctrl-C (130), SIGTERM and --timeout (124)
// work as for every other wait and no native thread is parked in the
// kernel. Every so often `stillThere` is asked whether the object the
// descriptor refers to still has its name: a POSIX queue that is unlinked
// stays usable through open descriptors, and a waiting receiver would
// otherwise wait for ever on a queue nobody can reach.
import { CliError, TimeoutError } from '../../errors.js';
import { Reactor } from '../net/reactor.js';
import { type Deadline, formatMs } from '../wait.js';

const CHECK_EVERY_MS = 250;

/** A wait ended by a signal the Reactor does not watch (SIGHUP): 128 + its number. */
export class StoppedError extends CliError {
  constructor(what: string, signal: string, code: number) {
    super(`${what}: ${signal}, stopped`, code);
  }
}

export async function waitUntilReady(
  fd: number,
  events: number,
  what: string,
  deadline: Deadline,
  stillThere: () => void,
  stop: () => { signal: string; code: number } | null = () => null,
): Promise<void> {
  for (;;) {
    const stopped = stop();
    if (stopped) throw new StoppedError(what, stopped.signal, stopped.code);
    const left = deadline.remaining();
    if (left === 0) throw new TimeoutError(`${what}: timed out after ${formatMs(deadline.total!)}`);
    const sliceEnd = Date.now() + Math.min(CHECK_EVERY_MS, left ?? CHECK_EVERY_MS);
    let ready = false;
    const reactor = new Reactor();
    reactor.add({ interests: () => (ready ? [] : [[fd, events]]), ready: () => (ready = true) });
    await reactor.run({ what, done: () => ready || Date.now() >= sliceEnd || stop() !== null });
    if (ready) return;
    stillThere();
  }
}
