// fcntl(2) for the relays and bulk transfers: a pipe's buffer size, and
// whether a file is open for appending.
import { IpcError } from '../errors.js';
import { bind, C } from './libc.js';

const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;
const F_DUPFD_CLOEXEC = 1030;
const F_SETPIPE_SZ = 1031;
const F_GETPIPE_SZ = 1032;
const O_APPEND = 0o2000;

const fcntl = bind('fcntl', C.int, [C.int, C.int, C.long]);

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
