// fcntl(2) for the relays and bulk transfers: a pipe's buffer size, and
// whether a file is open for appending.
import { IpcError } from '../errors.js';
import { bind } from './bind.js';
import { C } from './library.js';
import { constants } from 'node:os';
import type { CallResult } from './bind.js';
import { NativeMemory } from './memory.js';
import { addressOf, type IoBuffer } from './io-buffer.js';

const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;
const F_DUPFD_CLOEXEC = 1030;
const F_SETPIPE_SZ = 1031;
const F_GETPIPE_SZ = 1032;
const O_APPEND = 0o2000;

const fcntl = bind('fcntl', C.int, [C.int, C.int, C.long]);

// Also here (from socket.ts): non-blocking pipes, and the calls that move
// bytes between fds (splice, sendfile, read, write), which return AGAIN
// instead of blocking or throwing.
const pipe2 = bind('pipe2', C.int, [C.ptr, C.int]);
const spliceFn = bind('splice', C.ssize_t, [C.int, C.ptr, C.int, C.ptr, C.size_t, C.uint]);
const sendfileFn = bind('sendfile', C.ssize_t, [C.int, C.int, C.ptr, C.size_t]);
const readFn = bind('read', C.ssize_t, [C.int, C.ptr, C.size_t]);
const writeFn = bind('write', C.ssize_t, [C.int, C.ptr, C.size_t]);

const SPLICE_F_MOVE = 1;
const SPLICE_F_NONBLOCK = 2;
const PIPE_O_NONBLOCK = 0o4000;
const PIPE_O_CLOEXEC = 0o2000000;
const { EINTR, EAGAIN } = constants.errno;

/** A non-blocking call that found nothing to do (EAGAIN). */
export const AGAIN = -1;

/** Run a byte-moving call: its count, AGAIN, or a throw naming `op`; EINTR retried. */
export function bytesMoved(fn: () => CallResult, op: string): number {
  for (;;) {
    const r = fn();
    if (r.value >= 0) return r.value;
    if (r.errno === EAGAIN) return AGAIN;
    if (r.errno !== EINTR) throw new IpcError(r.errno, op, '');
  }
}

// Two ints for pipe2's answer.
const fds = new NativeMemory(8);

/** pipe2 with O_CLOEXEC|O_NONBLOCK: [read end, write end]. */
export function pipe(): [number, number] {
  const r = pipe2.call(fds.addr, PIPE_O_CLOEXEC | PIPE_O_NONBLOCK);
  if (r.value === -1) throw new IpcError(r.errno, 'pipe2', '');
  return [fds.buf.readInt32LE(0), fds.buf.readInt32LE(4)];
}

/**
 * splice(2) between a pipe and anything: bytes moved without a copy through user space.
 * No SPLICE_F_MORE: into a TCP socket it means MSG_MORE, which corks the last
 * partial segment until more comes or TCP's 200 ms ceiling passes, so an
 * echoed line or an interactive client's line would arrive 200 ms late.
 * Within one call the kernel already sets MSG_MORE while the pipe holds more,
 * so bulk transfers still leave in full segments.
 */
export function splice(fdIn: number, fdOut: number, len: number): number {
  return bytesMoved(() => spliceFn.call(fdIn, 0, fdOut, 0, len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK), 'splice');
}

/** sendfile(2) from a regular file at its current offset to a socket. */
export function sendfile(fdOut: number, fdIn: number, len: number): number {
  return bytesMoved(() => sendfileFn.call(fdOut, fdIn, 0, len), 'sendfile');
}

// Buffers are passed as (memory, offset, length): the address arithmetic
// stays here, and nothing above this layer handles a pointer.
export function read(fd: number, mem: IoBuffer, offset: number, len: number): number {
  return bytesMoved(() => readFn.call(fd, addressOf(mem, offset), len), 'read');
}

export function write(fd: number, mem: IoBuffer, offset: number, len: number): number {
  return bytesMoved(() => writeFn.call(fd, addressOf(mem, offset), len), 'write');
}

/**
 * Grow the pipe on `fd` to `bytes` (rounded up by the kernel, capped by
 * /proc/sys/fs/pipe-max-size): fewer wake-ups between the two ends of a
 * pipe that carries hundreds of megabytes. Returns the size now in effect,
 * or -1 when fd is not a pipe or the kernel refused (harmless: it stays as is).
 */
export function growPipe(fd: number, bytes: number): number {
  const cur = fcntl.call(fd, F_GETPIPE_SZ, 0);
  if (cur.value === -1) return -1;
  if (cur.value >= bytes) return cur.value;
  const r = fcntl.call(fd, F_SETPIPE_SZ, bytes);
  return r.value === -1 ? cur.value : r.value;
}

/** Is fd open with O_APPEND (where splice and sendfile refuse to write)? */
export function isAppendOnly(fd: number): boolean {
  const r = fcntl.call(fd, F_GETFL, 0);
  return r.value !== -1 && (r.value & O_APPEND) !== 0;
}

/** Set or clear O_NONBLOCK (a socket shared with a child must block for the child). */
export function setNonBlocking(fd: number, on: boolean): void {
  const fl = fcntl.call(fd, F_GETFL, 0);
  if (fl.value === -1) throw new IpcError(fl.errno, 'fcntl', '');
  const want = on ? fl.value | O_NONBLOCK : fl.value & ~O_NONBLOCK;
  if (want === fl.value) return;
  const r = fcntl.call(fd, F_SETFL, want);
  if (r.value === -1) throw new IpcError(r.errno, 'fcntl', '');
}

/** A new descriptor for what `fd` refers to, closed on exec (children never inherit it). */
export function duplicateCloseOnExec(fd: number): number {
  const r = fcntl.call(fd, F_DUPFD_CLOEXEC, 0);
  if (r.value === -1) throw new IpcError(r.errno, 'fcntl F_DUPFD_CLOEXEC', String(fd));
  return r.value;
}
