// The programs a server runs per connection or per datagram (--exec, --sh):
// started with posix_spawn, watched through a pidfd in the reactor, reaped
// the moment they exit (no zombie lingers), and at server exit sent SIGTERM,
// then SIGKILL after a grace period. Their stderr is read line by line so
// the server can prefix each line with the peer it serves.
import { POLLIN, PollSet } from '../../native/poll.js';
import * as sock from '../../native/net/socket.js';
import * as fdio from '../../native/fd.js';
import { AGAIN } from '../../native/net/socket.js';
import { IoBuffer } from '../../native/io-buffer.js';
import { childPipe, type ExitStatus, pidfdOpen, reap, SIGKILL, SIGTERM, signalProcess } from '../../native/spawn.js';
import type { Pollable } from './reactor.js';
import type { Launcher, Peer } from './launcher.js';
import type { Program } from './program.js';

export type { ExitStatus };

export interface ChildFds {
  stdin: number;
  stdout: number;
}

/** Where every child's stderr is read into: each read is turned into text at once. */
const errMem = new IoBuffer(4096);

/** One running child: its pidfd in the reactor, its stderr read by lines. */
export class Child implements Pollable {
  private errCarry = '';
  status: ExitStatus | null = null;

  /**
   * Start `program` with `fds` as its stdin and stdout; `done` hears the
   * child or the failure. The fds must stay open until then; the caller
   * closes its copies afterwards.
   */
  static start(
    launcher: Launcher,
    program: Program,
    peer: Peer,
    fds: ChildFds,
    onStderr: (line: string) => void,
    onExit: (s: ExitStatus) => void,
    done: (e: unknown, c: Child | null) => void,
  ): void {
    let errR: number;
    let errW: number;
    try {
      [errR, errW] = childPipe('read');
    } catch (e) {
      return done(e, null);
    }
    launcher.launch(program, peer, { stdin: fds.stdin, stdout: fds.stdout, stderr: errW }, (e, pid, pidfd) => {
      sock.close(errW);
      if (e !== null) {
        sock.close(errR);
        return done(e, null);
      }
      let child: Child;
      try {
        child = Child.adopt(pid, pidfd, errR, onStderr, onExit);
      } catch (err) {
        return done(err, null);
      }
      done(null, child);
    });
  }

  /**
   * A child started elsewhere (the helper's accept loop): its pid, its pidfd
   * (-1: open one now) and our end of its stderr pipe, which it now owns.
   */
  static adopt(pid: number, pidfd: number, errR: number, onStderr: (line: string) => void, onExit: (s: ExitStatus) => void): Child {
    if (pidfd < 0) {
      try {
        pidfd = pidfdOpen(pid);
      } catch (e) {
        sock.close(errR);
        throw e;
      }
    }
    return new Child(pid, pidfd, errR, onStderr, onExit);
  }

  private constructor(
    readonly pid: number,
    private pidfd: number,
    private errFd: number,
    private readonly onStderr: (line: string) => void,
    private readonly onExit: (s: ExitStatus) => void,
  ) {}

  get running(): boolean {
    return this.status === null;
  }

  private asked: Array<[number, number]> = [];

  interests(): Array<[number, number]> {
    const w: Array<[number, number]> = [];
    if (this.pidfd >= 0) w.push([this.pidfd, POLLIN]);
    if (this.errFd >= 0) w.push([this.errFd, POLLIN]);
    this.asked = w;
    return w;
  }

  ready(index: number): void {
    const which = this.asked[index]?.[0];
    if (which === this.pidfd) this.checkExit();
    else this.readStderr();
  }

  /** Reap it if it has exited. */
  checkExit(): void {
    if (this.status) return;
    const s = reap(this.pid);
    if (!s) return;
    this.status = s;
    sock.close(this.pidfd);
    this.pidfd = -1;
    // What it wrote to stderr before exiting comes first.
    this.readStderr();
    this.onExit(s);
  }

  private readStderr(): void {
    if (this.errFd < 0) return;
    for (let i = 0; i < 16; i++) {
      const n = fdio.read(this.errFd, errMem, 0, errMem.size);
      if (n === AGAIN) return;
      if (n === 0) {
        this.closeStderr();
        return;
      }
      const text = this.errCarry + errMem.view(0, n).toString('utf8');
      const lines = text.split('\n');
      this.errCarry = lines.pop()!;
      for (const l of lines) this.onStderr(l);
    }
  }

  private closeStderr(): void {
    if (this.errCarry !== '') this.onStderr(this.errCarry);
    this.errCarry = '';
    if (this.errFd >= 0) sock.close(this.errFd);
    this.errFd = -1;
  }

  /** Stop listening to it (its stderr may be held open by a grandchild). */
  release(): void {
    this.readStderr();
    this.closeStderr();
    if (this.pidfd >= 0 && this.status) {
      sock.close(this.pidfd);
      this.pidfd = -1;
    }
  }

  signal(sig: number): void {
    if (!this.status) signalProcess(this.pid, sig);
  }
}

/** Grace between SIGTERM and SIGKILL when the server stops. */
export const GRACE_MS = 2000;

/**
 * At server exit: SIGTERM to every child still running, SIGKILL to those
 * still there after `graceMs`, and every one reaped before this returns.
 */
export async function stopChildren(children: Iterable<Child>, graceMs = GRACE_MS): Promise<void> {
  const live = [...children].filter((c) => c.running);
  if (live.length === 0) return;
  for (const c of live) c.signal(SIGTERM);
  let again = false;
  const onSignal = () => (again = true);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const set = new PollSet(live.length);
  try {
    const deadline = Date.now() + graceMs;
    let killed = false;
    for (;;) {
      for (const c of live) c.checkExit();
      const left = live.filter((c) => c.running);
      if (left.length === 0) break;
      if (!killed && (again || Date.now() >= deadline)) {
        // A second Ctrl-C, or the grace is over.
        for (const c of left) c.signal(SIGKILL);
        killed = true;
      }
      set.clear();
      for (const c of left) for (const [fd, ev] of c.interests()) set.add(fd, ev);
      set.wait(20);
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    set.free();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const c of live) c.release();
  }
}
