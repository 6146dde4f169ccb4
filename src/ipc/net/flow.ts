// A Flow moves bytes one way between two fds (stdin -> socket, socket ->
// stdout, socket -> the same socket for --echo) without ever blocking, and
// picks the cheapest way the two ends allow:
//   direct   splice(2) straight through, socket -> a pipe (stdout)
//   staged   through a pipe of our own (two splices, still no copy): socket ->
//            file, /dev/null or socket, and a pipe (stdin) -> socket
//   sendfile a regular file -> socket
//   copy     read into a buffer, write it out (terminals, O_APPEND files, or
//            when the bytes must be seen, e.g. for --json data events)
import { fstatSync } from 'node:fs';
import { IpcError } from '../../errors.js';
import { IoBuffer, type IoBufferPool } from '../../native/io-buffer.js';
import { POLLIN, POLLOUT, readyNow } from '../../native/poll.js';
import { growPipe, isAppendOnly } from '../../native/fd.js';
import * as sock from '../../native/net/socket.js';
import * as fdio from '../../native/fd.js';
import { AGAIN } from '../../native/net/socket.js';
import type { Reactor } from './reactor.js';

export type FdKind = 'pipe' | 'file' | 'socket' | 'null' | 'other';

/** What kind of file `fd` is, which decides how bytes can move. */
export function fdKind(fd: number): FdKind {
  try {
    const st = fstatSync(fd);
    if (st.isFIFO()) return 'pipe';
    if (st.isSocket()) return 'socket';
    if (st.isFile()) return isAppendOnly(fd) ? 'other' : 'file';
    // /dev/null (char 1:3) takes splice like a file.
    if (st.isCharacterDevice() && st.rdev === 0x103) return 'null';
    return 'other';
  } catch {
    return 'other';
  }
}

/** Grow pipe `fd` towards `bytes`: the capacity now in effect (64 KiB, the default, if unknown). */
function pipeCapacity(fd: number, bytes: number): number {
  const size = growPipe(fd, bytes);
  return size > 0 ? size : 65536;
}

/** A failure of one end of a flow: the source (read side) or the destination. */
export class FlowError extends Error {
  constructor(
    readonly side: 'src' | 'dst',
    readonly failure: IpcError,
  ) {
    super(failure.message);
  }
  get code(): string {
    return this.failure.code;
  }
}

export interface FlowOptions {
  /** Where the bytes come from: an fd, or fixed bytes (--send TEXT). */
  src: number | Buffer;
  /** Where they go; null drops them (when `observe` is all that matters). */
  dst: number | null;
  /** Sees every chunk (forces the copy path). The Buffer is only valid during the call. */
  observe?: (chunk: Buffer) => void;
  /** Called once when the source is exhausted and everything was delivered. */
  onEnd?: () => void;
  /** Buffer or pipe size to ask for. */
  size?: number;
  /**
   * Never splice: read and send(MSG_DONTWAIT). For a socket shared with a
   * child (--exec), which must stay blocking for the child, while splice
   * would block on it with us.
   */
  copy?: boolean;
  /**
   * Rewrite each chunk before it goes out (--crlf); forces the copy path.
   * The result may be at most twice as long as the chunk. `observe` sees
   * the rewritten bytes, the ones that are sent.
   */
  transform?: (chunk: Buffer) => Buffer;
  /** What the two fds are, when the caller made them (spares two fstat calls per connection). */
  kinds?: { src: FdKind; dst: FdKind };
  /** Where the copy path takes its buffer from and gives it back to (else one of its own). */
  buffers?: IoBufferPool;
}

type Mode = 'direct' | 'staged' | 'sendfile' | 'copy';

/** Per slice, a flow moves at most this much before letting the others run. */
const BUDGET = 8 << 20;

export class Flow {
  private mode: Mode;
  private readonly src: number;
  private readonly dst: number | null;
  private readonly srcKind: FdKind;
  private readonly dstKind: FdKind;
  private pipeFds: [number, number] | null = null;
  private capacity: number;
  private mem: IoBuffer | null = null;
  private offset = 0;
  private pending = 0;
  private srcEof = false;
  private want: [number, number] | null = null;
  done = false;
  /** Bytes delivered to the destination (or observed, when it drops them). */
  bytes = 0;

  constructor(
    private readonly reactor: Reactor,
    private readonly opts: FlowOptions,
  ) {
    this.capacity = opts.size ?? 1 << 20;
    if (Buffer.isBuffer(opts.src)) {
      // Fixed bytes: already "read", the source is at its end.
      this.mode = 'copy';
      this.src = -1;
      this.srcKind = 'other';
      this.dst = opts.dst;
      this.dstKind = opts.dst === null ? 'other' : fdKind(opts.dst);
      const bytes = opts.transform ? opts.transform(opts.src) : opts.src;
      this.mem = new IoBuffer(bytes.length);
      this.mem.load(bytes);
      this.pending = bytes.length;
      opts.observe?.(bytes);
      this.srcEof = true;
      return;
    }
    this.src = opts.src;
    this.dst = opts.dst;
    this.srcKind = opts.kinds?.src ?? fdKind(this.src);
    this.dstKind = opts.dst === null ? 'other' : (opts.kinds?.dst ?? fdKind(opts.dst));
    this.mode = this.chooseMode();
    if (this.mode === 'staged') {
      this.pipeFds = fdio.pipe();
      this.capacity = pipeCapacity(this.pipeFds[1], this.capacity);
      // A bigger stdin pipe lets its writer run further ahead; best effort.
      if (this.srcKind === 'pipe') growPipe(this.src, this.capacity);
    } else if (this.mode === 'direct') {
      // A bigger pipe on our side of stdin/stdout means fewer wake-ups; best effort.
      const p = this.srcKind === 'pipe' ? this.src : this.dst!;
      this.capacity = pipeCapacity(p, this.capacity);
    } else if (this.mode === 'copy') {
      if (opts.buffers) {
        this.mem = opts.buffers.take();
        this.capacity = opts.buffers.size;
      } else {
        this.mem = new IoBuffer(this.capacity);
      }
    }
  }

  private chooseMode(): Mode {
    const { srcKind: s, dstKind: d } = this;
    if (this.opts.copy || this.opts.transform || this.opts.observe || this.dst === null) return 'copy';
    // pipe -> socket is staged, not direct: splice(2) holds the source pipe's
    // lock for the whole call, and a call into a TCP socket lasts as long as
    // the transmit (on loopback also the receiver's softirq work), so the
    // process writing our stdin (head, tar, ...) spins or sleeps on that lock
    // instead of running on the other core. Moving stdin's pages into our own
    // pipe takes the lock only for a pointer shuffle; the slow send then
    // holds only our pipe, and the writer keeps filling stdin meanwhile.
    if (s === 'socket' && d === 'pipe') return 'direct';
    if ((s === 'socket' && (d === 'file' || d === 'null' || d === 'socket')) || (s === 'pipe' && d === 'socket')) return 'staged';
    if (s === 'file' && d === 'socket') return 'sendfile';
    return 'copy';
  }

  interests(): Array<[number, number]> {
    return this.done || !this.want ? [] : [this.want];
  }

  /**
   * Wait for the source before the first pump: for a source that cannot
   * have anything yet (a child's stdout before the child runs), this spares
   * a read that would only say EAGAIN.
   */
  awaitSource(): void {
    if (!this.done && this.mode === 'copy' && this.src >= 0 && this.pending === 0) this.want = [this.src, POLLIN];
  }

  /** Move what can be moved now; afterwards `want` says what to wait for. */
  pump(): void {
    if (this.done) return;
    this.want = null;
    try {
      switch (this.mode) {
        case 'direct':
          return this.pumpDirect();
        case 'staged':
          return this.pumpStaged();
        case 'sendfile':
          return this.pumpSendfile();
        case 'copy':
          return this.pumpCopy();
      }
    } catch (e) {
      const failure = e instanceof FlowError ? e.failure : e;
      if (failure instanceof IpcError && failure.code === 'EINVAL' && this.mode !== 'copy' && this.bytes === 0 && this.pending === 0) {
        // This pair of files does not take splice/sendfile after all: copy.
        this.releasePipe();
        this.mode = 'copy';
        this.mem = new IoBuffer(this.capacity);
        return this.pump();
      }
      throw e;
    }
  }

  private moved(n: number): void {
    this.bytes += n;
    this.reactor.touch();
  }

  private fromSrc<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw e instanceof IpcError ? new FlowError('src', e) : e;
    }
  }

  private toDst<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw e instanceof IpcError ? new FlowError('dst', e) : e;
    }
  }

  private pumpDirect(): void {
    let budget = BUDGET;
    for (;;) {
      let n: number;
      try {
        n = fdio.splice(this.src, this.dst!, this.capacity);
      } catch (e) {
        if (!(e instanceof IpcError)) throw e;
        if (e.code === 'EINVAL') throw e;
        // A pipe end reports EPIPE; the socket end reports its own errors.
        const side = e.code === 'EPIPE' ? 'dst' : this.srcKind === 'socket' ? 'src' : 'dst';
        throw new FlowError(side, e);
      }
      if (n === 0) return this.finish();
      if (n === AGAIN) {
        // Either end may be the one that is not ready: ask the destination.
        const blockedOut = (readyNow(this.dst!, POLLOUT) & POLLOUT) === 0;
        this.want = blockedOut ? [this.dst!, POLLOUT] : [this.src, POLLIN];
        return;
      }
      this.moved(n);
      budget -= n;
      if (budget <= 0) {
        this.want = [this.src, POLLIN];
        return;
      }
    }
  }

  private pumpStaged(): void {
    const [pr, pw] = this.pipeFds!;
    let budget = BUDGET;
    for (;;) {
      if (this.pending > 0) {
        const n = this.toDst(() => fdio.splice(pr, this.dst!, this.pending));
        if (n === AGAIN || n === 0) {
          this.want = [this.dst!, POLLOUT];
          return;
        }
        this.pending -= n;
        this.moved(n);
        budget -= n;
        continue;
      }
      if (this.srcEof) return this.finish();
      if (budget <= 0) {
        this.want = [this.src, POLLIN];
        return;
      }
      // The pipe is empty here, so AGAIN can only mean the socket has nothing.
      const n = this.fromSrc(() => fdio.splice(this.src, pw, this.capacity));
      if (n === AGAIN) {
        this.want = [this.src, POLLIN];
        return;
      }
      if (n === 0) this.srcEof = true;
      else this.pending += n;
    }
  }

  private pumpSendfile(): void {
    let budget = BUDGET;
    for (;;) {
      const n = this.toDst(() => fdio.sendfile(this.dst!, this.src, this.capacity));
      if (n === 0) return this.finish();
      if (n === AGAIN) {
        this.want = [this.dst!, POLLOUT];
        return;
      }
      this.moved(n);
      budget -= n;
      if (budget <= 0) {
        this.want = [this.dst!, POLLOUT];
        return;
      }
    }
  }

  private pumpCopy(): void {
    const mem = this.mem!;
    // A blocking source (an inherited stdin) is read once per poll, never twice in a row.
    const srcMayBlock = this.srcKind !== 'socket' && this.srcKind !== 'file';
    let reads = 0;
    for (;;) {
      if (this.pending > 0) {
        if (this.dst === null) {
          this.moved(this.pending);
          this.pending = 0;
          continue;
        }
        const n = this.toDst(() =>
          this.dstKind === 'socket' ? sock.send(this.dst!, mem, this.offset, this.pending) : fdio.write(this.dst!, mem, this.offset, this.pending),
        );
        if (n === AGAIN) {
          this.want = [this.dst, POLLOUT];
          return;
        }
        this.offset += n;
        this.pending -= n;
        this.moved(n);
        continue;
      }
      if (this.srcEof) return this.finish();
      if (reads > 0 && (srcMayBlock || reads >= 64)) {
        this.want = [this.src, POLLIN];
        return;
      }
      // A transform may double the chunk: read at most half the buffer then.
      const room = this.opts.transform ? this.capacity >> 1 : this.capacity;
      let n = this.fromSrc(() => (this.srcKind === 'socket' ? sock.recv(this.src, mem, 0, room) : fdio.read(this.src, mem, 0, room)));
      reads++;
      if (n === AGAIN) {
        this.want = [this.src, POLLIN];
        return;
      }
      if (n === 0) {
        this.srcEof = true;
        continue;
      }
      if (this.opts.transform) {
        const out = this.opts.transform(mem.copyOut(0, n));
        mem.load(out.subarray(0, Math.min(out.length, this.capacity)));
        n = Math.min(out.length, this.capacity);
      }
      this.opts.observe?.(mem.view(0, n));
      this.offset = 0;
      this.pending = n;
    }
  }

  private finish(): void {
    this.done = true;
    this.want = null;
    this.release();
    this.opts.onEnd?.();
  }

  /** Stop here: whatever was not delivered is dropped. */
  stop(): void {
    this.done = true;
    this.want = null;
    this.release();
  }

  private releasePipe(): void {
    if (this.pipeFds) {
      sock.close(this.pipeFds[0]);
      sock.close(this.pipeFds[1]);
      this.pipeFds = null;
    }
  }

  private release(): void {
    this.releasePipe();
    if (this.mem && this.opts.buffers && this.mode === 'copy' && this.src !== -1) this.opts.buffers.give(this.mem);
    else this.mem?.free();
    this.mem = null;
  }
}
