// Child processes for `serve --exec`: posix_spawnp(3), pidfd_open(2),
// waitpid(2) and kill(2). Why not Node's child_process? Its spawn forks the
// whole Node process (~1 ms of page-table copying here, on the main thread),
// which caps a per-connection server below socat; glibc's posix_spawn uses
// clone(CLONE_VM|CLONE_VFORK) and costs a fraction of that. A pidfd becomes
// readable when its process exits, so the reactor's one poll(2) loop sees
// exits beside the sockets and pipes, and each child is reaped by pid with
// WNOHANG (never waitpid(-1): Node's own children stay Node's).
import { errnoNumber, IpcError } from '../errors.js';
import { setNonBlocking } from './fd.js';
import { bind } from './bind.js';
import { C, openHelper } from './library.js';
import { IoBuffer } from './io-buffer.js';
import { NativeMemory } from './memory.js';
import { AGAIN, close } from './net/socket.js';
import { read, write } from './fd.js';

const posixSpawnp = bind('posix_spawnp', C.int, [C.ptr, C.string, C.ptr, C.ptr, C.ptr, C.ptr]);
const faInit = bind('posix_spawn_file_actions_init', C.int, [C.ptr]);
const faDestroy = bind('posix_spawn_file_actions_destroy', C.int, [C.ptr]);
const faDup2 = bind('posix_spawn_file_actions_adddup2', C.int, [C.ptr, C.int, C.int]);
const attrInit = bind('posix_spawnattr_init', C.int, [C.ptr]);
const attrSetFlags = bind('posix_spawnattr_setflags', C.int, [C.ptr, C.int]);
const attrSetSigDefault = bind('posix_spawnattr_setsigdefault', C.int, [C.ptr, C.ptr]);
const attrSetSigMask = bind('posix_spawnattr_setsigmask', C.int, [C.ptr, C.ptr]);
const sigFill = bind('sigfillset', C.int, [C.ptr]);
const sigEmpty = bind('sigemptyset', C.int, [C.ptr]);
const pidfdOpenFn = bind('pidfd_open', C.int, [C.int, C.uint]);
const waitpidFn = bind('waitpid', C.int, [C.int, C.ptr, C.int]);
const killFn = bind('kill', C.int, [C.int, C.int]);
const pipe2 = bind('pipe2', C.int, [C.ptr, C.int]);

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const WNOHANG = 1;
const O_CLOEXEC = 0o2000000;
const ESRCH = errnoNumber('ESRCH');
const ECHILD = errnoNumber('ECHILD');
const EINTR = errnoNumber('EINTR');

export const SIGTERM = 15;
export const SIGKILL = 9;

// glibc: posix_spawnattr_t is 336 bytes, posix_spawn_file_actions_t 80,
// sigset_t 128; the blocks are larger than that on purpose.
const ATTR = 0;
const SIGSET = 768;
const STATUS = 1032;
const FDS = 1040;
const scratch = new NativeMemory(1088);

let attrReady = false;
/**
 * The child starts with every signal at its default and none blocked: Node
 * ignores SIGPIPE, and an ignored signal would survive the exec (a `cat`
 * whose reader left would then spin on EPIPE instead of dying).
 */
function attr(): number {
  if (!attrReady) {
    attrInit.call(scratch.addr + ATTR);
    sigFill.call(scratch.addr + SIGSET);
    attrSetSigDefault.call(scratch.addr + ATTR, scratch.addr + SIGSET);
    sigEmpty.call(scratch.addr + SIGSET);
    attrSetSigMask.call(scratch.addr + ATTR, scratch.addr + SIGSET);
    attrSetFlags.call(scratch.addr + ATTR, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    attrReady = true;
  }
  return scratch.addr + ATTR;
}

/** A NULL-terminated char*[] with its strings, in one block of native memory. */
export class StringArray {
  readonly mem: NativeMemory;
  constructor(items: string[]) {
    const bytes = items.map((s) => Buffer.from(s + '\0'));
    const table = (items.length + 1) * 8;
    this.mem = new NativeMemory(table + bytes.reduce((n, b) => n + b.length, 0));
    let at = table;
    bytes.forEach((b, i) => {
      this.mem.buf.writeBigUInt64LE(BigInt(this.mem.addr + at), i * 8);
      b.copy(this.mem.buf, at);
      at += b.length;
    });
    this.mem.buf.writeBigUInt64LE(0n, items.length * 8);
  }
  get addr(): number {
    return this.mem.addr;
  }
  /** The address of string `i` (for this layer's own records). */
  pointer(i: number): number {
    return Number(this.mem.buf.readBigUInt64LE(i * 8));
  }
  free(): void {
    this.mem.free();
  }
}

/** A NULL-terminated pointer table made of runs [from, from+count) of several StringArrays (envp = ours + the peer's). */
export class PointerTable {
  private readonly mem: NativeMemory;
  constructor(parts: Array<[StringArray, number, number]>) {
    const n = parts.reduce((k, [, , c]) => k + c, 0);
    this.mem = new NativeMemory((n + 1) * 8);
    let at = 0;
    for (const [a, from, c] of parts) {
      a.mem.buf.copy(this.mem.buf, at, from * 8, (from + c) * 8);
      at += c * 8;
    }
    this.mem.buf.writeBigUInt64LE(0n, at);
  }
  get addr(): number {
    return this.mem.addr;
  }
  free(): void {
    this.mem.free();
  }
}

/** Anything that is a char** in native memory. */
export interface Table {
  readonly addr: number;
}

export interface SpawnFds {
  stdin: number;
  stdout: number;
  stderr: number;
}

/**
 * posix_spawnp, with `fds` as the child's 0, 1 and 2 (every other fd of ours
 * is close-on-exec, so the child gets nothing else), on a thread of its own: the vfork underneath suspends only
 * the calling thread until the child has exec'd (about a millisecond for a
 * small program), and the main thread goes on serving the others meanwhile.
 */
export async function spawnAsync(file: string, argv: Table, env: Table, fds: SpawnFds): Promise<number> {
  // Per call: several spawns may be under way at once.
  const mem = new NativeMemory(256);
  const fa = mem.addr;
  faInit.call(fa);
  try {
    faDup2.call(fa, fds.stdin, 0);
    faDup2.call(fa, fds.stdout, 1);
    faDup2.call(fa, fds.stderr, 2);
    const r = await posixSpawnp.callBlocking(mem.addr + 128, file, fa, attr(), argv.addr, env.addr);
    if (r.value !== 0) throw new IpcError(r.value, 'posix_spawnp', file);
    return mem.buf.readInt32LE(128);
  } finally {
    faDestroy.call(fa);
    mem.free();
  }
}

/** An fd that becomes readable when process `pid` exits. */
export function pidfdOpen(pid: number): number {
  const r = pidfdOpenFn.call(pid, 0);
  if (r.value === -1) throw new IpcError(r.errno, 'pidfd_open', String(pid));
  // pidfds are always close-on-exec.
  return r.value;
}

export interface ExitStatus {
  /** Exit code when it exited, else null. */
  code: number | null;
  /** Signal number when a signal ended it, else null. */
  signal: number | null;
}

/** waitpid(pid, WNOHANG): its status when it has ended (and is now reaped), else null. */
export function reap(pid: number): ExitStatus | null {
  for (;;) {
    const r = waitpidFn.call(pid, scratch.addr + STATUS, WNOHANG);
    if (r.value === pid) {
      const s = scratch.buf.readInt32LE(STATUS);
      // WIFEXITED: low 7 bits zero; WIFSIGNALED: low 7 bits the signal.
      return (s & 0x7f) === 0 ? { code: (s >> 8) & 0xff, signal: null } : { code: null, signal: s & 0x7f };
    }
    if (r.value === 0) return null;
    if (r.errno === EINTR) continue;
    if (r.errno === ECHILD) return { code: null, signal: null }; // reaped elsewhere
    throw new IpcError(r.errno, 'waitpid', String(pid));
  }
}

/** kill(2); a process already gone is not an error. */
export function signalProcess(pid: number, sig: number): void {
  const r = killFn.call(pid, sig);
  if (r.value === -1 && r.errno !== ESRCH) throw new IpcError(r.errno, 'kill', String(pid));
}

/**
 * A pipe whose one end is ours (non-blocking) and the other the child's
 * (blocking, as programs expect; it loses close-on-exec only by the dup2
 * into 0, 1 or 2). Returns [read end, write end].
 */
export function childPipe(ours: 'read' | 'write'): [number, number] {
  const r = pipe2.call(scratch.addr + FDS, O_CLOEXEC);
  if (r.value === -1) throw new IpcError(r.errno, 'pipe2', '');
  const fds: [number, number] = [scratch.buf.readInt32LE(FDS), scratch.buf.readInt32LE(FDS + 4)];
  setNonBlocking(ours === 'read' ? fds[0] : fds[1], true);
  return fds;
}

// The spawner threads (src/native/c/spawner.c): children started off the
// main thread, with jobs and replies as records on two pipes, so a reply
// wakes the poll loop like any other fd. Without the C helper, spawnAsync
// above does the same through ffi-rs's thread per call (slower: a new
// thread each time, and its completion seen only between poll slices).
export const HELPER = 'ipcctl-spawn';
/** struct job: id, file, argv, envp, fd[3], close_fd[2], owns_env, reply_fd, pad. */
const JOB = 64;
/** struct reply: id, pid, err, pidfd, pad. */
const REPLY = 24;
/** Spawns under way at once: each thread waits for its child's exec. */
const SPAWN_THREADS = 4;
export interface SpawnRequest {
  /** The program's path: string `index` of `strings`. */
  file: { strings: StringArray; index: number };
  argv: Table;
  env: Table;
  fds: SpawnFds;
}

export interface SpawnReply {
  id: number;
  /** -1 when the child could not start. */
  pid: number;
  /** The errno value when it could not. */
  err: number;
  /** A pidfd of the child (from CLONE_PIDFD), or -1: then open one. */
  pidfd: number;
}

let started: Spawner | null | undefined;

export class Spawner {
  /** The fd to poll for replies. */
  readonly replies: number;
  private readonly requests: number;
  private readonly mem = new IoBuffer(JOB + REPLY * 64);
  private nextId = 1;

  private constructor(requests: number, replies: number) {
    this.requests = requests;
    this.replies = replies;
  }

  /** The spawner threads (started once per process), or null when the C helper is not built (or IPCCTL_NO_C_HELPER=1). */
  static get(): Spawner | null {
    if (started === undefined) started = Spawner.start();
    return started;
  }

  private static start(): Spawner | null {
    if (!openHelper(HELPER, 'libipcctl-spawn.so')) return null;
    const startFn = bind('ipcctl_spawner_start', C.int, [C.int, C.int, C.int, C.int], HELPER);
    // Jobs: we write (blocking: 64-byte records never fill it for long), the threads read.
    const [reqR, reqW] = childPipe('read');
    setNonBlocking(reqR, false);
    // Replies: the threads write (blocking), we read without blocking.
    const [repR, repW] = childPipe('read');
    const err = startFn.call(reqR, reqW, repW, SPAWN_THREADS).value;
    if (err !== 0) {
      for (const fd of [reqR, reqW, repR, repW]) close(fd);
      return null;
    }
    return new Spawner(reqW, repR);
  }

  /** Ask for a child; its id comes back in a reply. */
  request(r: SpawnRequest): number {
    const id = this.nextId++;
    const b = this.mem.view();
    b.writeBigUInt64LE(BigInt(id), 0);
    b.writeBigUInt64LE(BigInt(r.file.strings.pointer(r.file.index)), 8);
    b.writeBigUInt64LE(BigInt(r.argv.addr), 16);
    b.writeBigUInt64LE(BigInt(r.env.addr), 24);
    b.writeInt32LE(r.fds.stdin, 32);
    b.writeInt32LE(r.fds.stdout, 36);
    b.writeInt32LE(r.fds.stderr, 40);
    // Nothing for the thread to close or free: the caller does that.
    b.writeInt32LE(-1, 44);
    b.writeInt32LE(-1, 48);
    b.writeInt32LE(0, 52);
    // The reply goes to our reply pipe.
    b.writeInt32LE(-1, 56);
    b.writeInt32LE(0, 60);
    let done = 0;
    while (done < JOB) {
      const n = write(this.requests, this.mem, done, JOB - done);
      if (n === AGAIN) continue; // the request pipe is blocking: not reached
      done += n;
    }
    return id;
  }

  /** Replies that have arrived. */
  takeReplies(): SpawnReply[] {
    const out: SpawnReply[] = [];
    for (;;) {
      const n = read(this.replies, this.mem, JOB, REPLY * 64);
      if (n === AGAIN || n <= 0) return out;
      const more = n === REPLY * 64;
      // Records are 24 bytes and pipe writes of that size are atomic: never split.
      for (let at = JOB; at < JOB + n; at += REPLY) {
        const b = this.mem.view();
        out.push({ id: Number(b.readBigUInt64LE(at)), pid: b.readInt32LE(at + 8), err: b.readInt32LE(at + 12), pidfd: b.readInt32LE(at + 16) });
      }
      // A pipe read that returned less than asked emptied the pipe: a reply
      // written since wakes the poll loop again, no read needed to see EAGAIN.
      if (!more) return out;
    }
  }
}
