// The programs a server runs per connection or per datagram (--exec, --sh):
// started with posix_spawn, watched through a pidfd in the reactor, reaped
// the moment they exit (no zombie lingers), and at server exit sent SIGTERM,
// then SIGKILL after a grace period. Their stderr is read line by line so
// the server can prefix each line with the peer it serves.
import { UsageError } from '../../errors.js';
import { accessSync, constants } from 'node:fs';
import { POLLIN, PollSet } from '../../native/poll.js';
import * as sock from '../../native/socket.js';
import { AGAIN } from '../../native/socket.js';
import { NativeMemory } from '../../native/libc.js';
import { childPipe, type ExitStatus, pidfdOpen, PointerTable, reap, SIGKILL, SIGTERM, signalProcess, spawnAsync, Spawner, StringArray, type SpawnFds } from '../../native/spawn.js';
import { IpcError } from '../../errors.js';
import type { Pollable, Reactor } from '../reactor.js';

export type { ExitStatus };

/** What to run: argv[0] is searched in PATH. */
export interface Program {
  argv: string[];
  /** argv[0] found in PATH once, at start: posix_spawnp would try every PATH entry per child. */
  file: string;
}

/**
 * `--exec 'CMD ARGS'` split into words as a shell would split them, without
 * expansion: whitespace separates, '...' and "..." quote, \ escapes.
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) cur += text[++i];
      else cur += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new UsageError(`--exec: unterminated ${quote} in '${text}'`);
  if (inWord) words.push(cur);
  return words;
}

/** The program of --exec CMD or --sh CMD, checked before anything listens. */
export function programFor(op: string, exec: string | undefined, sh: string | undefined): Program {
  if (sh !== undefined) {
    if (sh.trim() === '') throw new UsageError(`${op}: --sh needs a command`);
    return { argv: ['/bin/sh', '-c', sh], file: '/bin/sh' };
  }
  const argv = splitCommand(exec ?? '');
  if (argv.length === 0) throw new UsageError(`${op}: --exec needs a command`);
  const file = findInPath(argv[0]!);
  if (file === null) throw new UsageError(`${op}: --exec: command '${argv[0]}' not found or not executable`, 'give a path, or a program in PATH');
  return { argv, file };
}

function findInPath(file: string): string | null {
  const ok = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (file.includes('/')) return ok(file) ? file : null;
  for (const d of (process.env.PATH ?? '/usr/bin:/bin').split(':')) if (ok(`${d || '.'}/${file}`)) return `${d || '.'}/${file}`;
  return null;
}

/** How a child ended, in words: "exit 0", "killed by signal 15". */
export function describeExit(s: ExitStatus): string {
  if (s.code !== null) return `exit ${s.code}`;
  if (s.signal !== null) return `killed by signal ${s.signal}`;
  return 'ended';
}

export interface ChildFds {
  stdin: number;
  stdout: number;
}

/** One running child: its pidfd in the reactor, its stderr read by lines. */
export class Child implements Pollable {
  private errMem: NativeMemory | null = new NativeMemory(4096);
  private errCarry = '';
  status: ExitStatus | null = null;

  /**
   * Start `program` with `fds` as its stdin and stdout; `done` hears the
   * child or the failure. The fds must stay open until then; the caller
   * closes its copies afterwards.
   */
  static start(launcher: Launcher, program: Program, peer: Peer, fds: ChildFds, onStderr: (line: string) => void, onExit: (s: ExitStatus) => void, done: (e: unknown, c: Child | null) => void): void {
    let errR: number;
    let errW: number;
    try {
      [errR, errW] = childPipe('read');
    } catch (e) {
      return done(e, null);
    }
    launcher.launch(program, peer, { stdin: fds.stdin, stdout: fds.stdout, stderr: errW }, (e, pid) => {
      sock.close(errW);
      if (e !== null) {
        sock.close(errR);
        return done(e, null);
      }
      let pidfd: number;
      try {
        pidfd = pidfdOpen(pid);
      } catch (err) {
        sock.close(errR);
        return done(err, null);
      }
      done(null, new Child(pid, pidfd, errR, onStderr, onExit));
    });
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
    if (this.errFd < 0 || !this.errMem) return;
    for (let i = 0; i < 16; i++) {
      const n = sock.read(this.errFd, this.errMem, 0, this.errMem.size);
      if (n === AGAIN) return;
      if (n === 0) {
        this.closeStderr();
        return;
      }
      const text = this.errCarry + this.errMem.buf.toString('utf8', 0, n);
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
    this.errMem?.free();
    this.errMem = null;
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

/** Who a child serves: IPCCTL_PEER_ADDR, and IPCCTL_PEER_PORT unless it is a UNIX peer. */
export interface Peer {
  addr: string;
  port: number | null;
}

export function peerOf(a: import('../../native/sockaddr.js').SockAddr): Peer {
  return a.family === 'unix' ? { addr: a.path, port: null } : { addr: a.address, port: a.port };
}

let spawner: Spawner | null | undefined;

/**
 * Starts children for one server: through the spawner thread when the C
 * helper is there (its replies are an fd in the server's reactor), else
 * through a native thread per child.
 */
export class Launcher implements Pollable {
  private readonly waiting = new Map<number, { release: () => void; file: string; done: (e: unknown, pid: number) => void }>();
  private readonly spawner: Spawner | null;

  constructor(private readonly reactor: Reactor) {
    if (spawner === undefined) spawner = Spawner.start();
    this.spawner = spawner;
    if (this.spawner) reactor.add(this);
  }

  // Made once per server: our environment (without IPCCTL_PEER_*) and each
  // program's argv; per child only the peer's two strings are new.
  private baseEnv: { table: StringArray; count: number } | null = null;
  private readonly argvs = new Map<Program, StringArray>();

  private env(): { table: StringArray; count: number } {
    if (!this.baseEnv) {
      const entries = Object.entries(process.env).filter(([k, v]) => v !== undefined && k !== 'IPCCTL_PEER_ADDR' && k !== 'IPCCTL_PEER_PORT');
      this.baseEnv = { table: new StringArray(entries.map(([k, v]) => `${k}=${v}`)), count: entries.length };
    }
    return this.baseEnv;
  }

  launch(program: Program, peer: Peer, fds: SpawnFds, done: (e: unknown, pid: number) => void): void {
    let argv = this.argvs.get(program);
    if (!argv) this.argvs.set(program, (argv = new StringArray(program.argv)));
    const extra = new StringArray([program.file, `IPCCTL_PEER_ADDR=${peer.addr}`, ...(peer.port !== null ? [`IPCCTL_PEER_PORT=${peer.port}`] : [])]);
    const base = this.env();
    // extra holds the file first; the environment takes the rest of it.
    const envp = new PointerTable([
      [base.table, 0, base.count],
      [extra, 1, peer.port !== null ? 2 : 1],
    ]);
    const release = () => {
      extra.free();
      envp.free();
    };
    if (!this.spawner) {
      this.reactor.track(spawnAsync(program.file, argv, envp, fds)).then(
        (pid) => {
          release();
          done(null, pid);
        },
        (e: unknown) => {
          release();
          done(e, -1);
        },
      );
      return;
    }
    const id = this.spawner.request({ file: extra.pointer(0), argv, env: envp, fds });
    this.waiting.set(id, { release, file: program.file, done });
  }

  interests(): Array<[number, number]> {
    return this.spawner && this.waiting.size > 0 ? [[this.spawner.replies, POLLIN]] : [];
  }

  ready(): void {
    for (const [id, pid, err] of this.spawner!.takeReplies()) {
      const w = this.waiting.get(id);
      if (!w) continue;
      this.waiting.delete(id);
      w.release();
      this.reactor.touch();
      if (pid >= 0) w.done(null, pid);
      else w.done(new IpcError(err, 'posix_spawn', w.file), -1);
    }
  }

  /** At server exit: wait for the answers to every request still out (each takes about a millisecond). */
  async settle(): Promise<void> {
    const set = new PollSet(1);
    try {
      const deadline = Date.now() + 10_000;
      while (this.spawner && this.waiting.size > 0 && Date.now() < deadline) {
        set.clear();
        set.add(this.spawner.replies, POLLIN);
        if (set.wait(10) > 0) this.ready();
      }
    } finally {
      set.free();
    }
    // The fallback's threads report through promises.
    while (this.reactor.busy) await new Promise((r) => setTimeout(r, 1));
    if (this.spawner) this.reactor.remove(this);
    this.baseEnv?.table.free();
    this.baseEnv = null;
    for (const a of this.argvs.values()) a.free();
    this.argvs.clear();
  }
}
