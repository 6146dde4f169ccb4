// The file of a UNIX socket: before binding, a stale file left by a dead
// server is replaced, but a live one is never stolen; after the server ends
// (normally, on error, on Ctrl-C or SIGTERM) its file is removed, and only if
// it is still the file we made. Abstract names (@name) have no file.
import { lstatSync, unlinkSync } from 'node:fs';
import { EXIT, OperationError } from '../../errors.js';
import { AF_UNIX, type SockAddr } from '../../native/net/sockaddr.js';
import * as sock from '../../native/net/socket.js';
import { IpcError } from '../../errors.js';

export interface Claim {
  path: string;
  dev: number;
  ino: number;
}

/**
 * Is a socket bound to `path`? Probed with a datagram socket: connecting one
 * creates no connection on a stream server (a --once server would otherwise
 * take the probe for its client); a stream server answers EPROTOTYPE, a
 * datagram server accepts, and a dead file gives ECONNREFUSED.
 */
function isLive(path: string): boolean {
  const fd = sock.socket(AF_UNIX, sock.SOCK_DGRAM);
  try {
    sock.connectStart(fd, { family: 'unix', path });
    return true;
  } catch (e) {
    return !(e instanceof IpcError && e.code === 'ECONNREFUSED');
  } finally {
    sock.close(fd);
  }
}

/** Make `path` free for bind(2), removing only a dead server's socket file. */
export function prepare(op: string, path: string): void {
  if (path.startsWith('@')) return;
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // nothing there (or a directory we cannot read: bind will say)
  }
  if (!st.isSocket()) {
    throw new OperationError(`${op} ${path}: EEXIST, the path exists and is not a socket; not replacing it`, EXIT.FAILED);
  }
  if (isLive(path)) {
    throw new OperationError(`${op} ${path}: EADDRINUSE, a server is listening on this socket`, EXIT.FAILED, 'stop it first, or choose another path');
  }
  unlinkSync(path);
}

/** Remember the file bind(2) just made. */
export function claim(a: SockAddr): Claim | null {
  if (a.family !== 'unix' || a.path === '' || a.path.startsWith('@')) return null;
  const st = lstatSync(a.path);
  return { path: a.path, dev: st.dev, ino: st.ino };
}

/** Remove our socket file, if it is still ours. */
export function release(c: Claim | null): void {
  if (!c) return;
  try {
    const st = lstatSync(c.path);
    if (st.dev === c.dev && st.ino === c.ino) unlinkSync(c.path);
  } catch {
    /* already gone */
  }
}
