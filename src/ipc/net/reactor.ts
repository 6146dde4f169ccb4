// One poll(2) loop for every socket and pipe a command uses. It runs on the
// main thread with a short poll timeout and yields to Node's event loop
// between slices, so signals and the --timeout clock keep working while no
// native thread is ever parked in the kernel (a blocking ffi call would cost
// ~100 us and one of libuv's four pool threads per waiting fd).
import { CliError, EXIT, InterruptedError, TimeoutError } from '../../errors.js';
import { PollSet } from '../../native/poll.js';
import { formatMs } from '../wait.js';

/** Something that waits on fds: says what it wants, hears what is ready. */
export interface Pollable {
  /** [fd, events] pairs to wait for now; empty when it needs nothing. */
  interests(): Array<[number, number]>;
  /** Called with the index of the interest and what poll(2) reported. */
  ready(index: number, revents: number): void;
}

const SLICE_MS = 50;
const YIELD_EVERY_MS = 20;

/** SIGTERM ends a server as Ctrl-C does (so the UNIX socket file is removed), with 128+15. */
export class TerminatedError extends CliError {
  constructor(what: string) {
    super(`${what}: terminated`, EXIT.TERMINATED);
  }
}

export interface RunOptions {
  /** Says what timed out or was interrupted ("tcp serve 127.0.0.1:8080"). */
  what: string;
  /** Stop when this returns true (checked after every slice). */
  done: () => boolean;
  /** --timeout: exit 124 after this long without progress (see touch()). */
  idleMs?: number;
  /**
   * Instead of polling the members: one call that waits up to `ms` for
   * its own fds and does what is ready (the C engine of --exec, which
   * keeps its fds in an epoll set); true when something happened.
   */
  wait?: (ms: number) => boolean;
}

export class Reactor {
  private readonly members = new Set<Pollable>();
  private readonly set = new PollSet(16);
  private lastProgress = Date.now();
  private signal: NodeJS.Signals | null = null;

  add(p: Pollable): void {
    this.members.add(p);
  }

  remove(p: Pollable): void {
    this.members.delete(p);
  }

  private pending = 0;

  /**
   * Work finishing off the loop (a spawn on a native thread): its completion
   * can only run between slices, so while it is under way the loop polls in
   * short slices and yields to Node after each one.
   */
  track<T>(p: Promise<T>): Promise<T> {
    this.pending++;
    const done = () => {
      this.pending--;
    };
    p.then(done, done);
    return p;
  }

  /** Is tracked work still under way? */
  get busy(): boolean {
    return this.pending > 0;
  }

  /** Something moved: the idle clock starts again. */
  touch(): void {
    this.lastProgress = Date.now();
  }

  /** One poll(2) of what every member wants: how many fds are ready. */
  private poll(owners: Array<[Pollable, number]>, slice: number): number {
    this.set.clear();
    owners.length = 0;
    for (const p of this.members) {
      const wants = p.interests();
      for (let i = 0; i < wants.length; i++) {
        this.set.add(wants[i]![0], wants[i]![1]);
        owners.push([p, i]);
      }
    }
    return this.set.wait(slice);
  }

  async run(opts: RunOptions): Promise<void> {
    const onInt = () => (this.signal = 'SIGINT');
    const onTerm = () => (this.signal = 'SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    this.touch();
    try {
      let lastYield = Date.now();
      const owners: Array<[Pollable, number]> = [];
      while (!opts.done()) {
        let slice = this.pending > 0 ? 1 : SLICE_MS;
        if (opts.idleMs !== undefined) slice = Math.min(slice, Math.max(0, this.lastProgress + opts.idleMs - Date.now()));
        const n = opts.wait ? Number(opts.wait(slice)) : this.poll(owners, slice);
        if (n > 0 && !opts.wait) {
          for (let i = 0; i < owners.length; i++) {
            const rev = this.set.revents(i);
            if (rev !== 0 && this.members.has(owners[i]![0])) owners[i]![0].ready(owners[i]![1], rev);
          }
        }
        const now = Date.now();
        if (n === 0 || this.pending > 0 || now - lastYield >= YIELD_EVERY_MS) {
          // Let Node run signal handlers and timers.
          await new Promise((r) => setImmediate(r));
          lastYield = Date.now();
        }
        if (this.signal === 'SIGINT') throw new InterruptedError(`${opts.what}: interrupted`);
        if (this.signal === 'SIGTERM') throw new TerminatedError(opts.what);
        if (opts.idleMs !== undefined && !opts.done() && Date.now() - this.lastProgress >= opts.idleMs) {
          throw new TimeoutError(`${opts.what}: timed out after ${formatMs(opts.idleMs)}`);
        }
      }
    } finally {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    }
  }
}

/** Wait until `fd` is ready for `events` (or broken), with the usual signals and timeout. */
export async function waitReady(fd: number, events: number, what: string, idleMs?: number): Promise<void> {
  const reactor = new Reactor();
  let ready = false;
  reactor.add({
    interests: () => (ready ? [] : [[fd, events]]),
    ready: () => {
      ready = true;
    },
  });
  await reactor.run({ what, idleMs, done: () => ready });
}
