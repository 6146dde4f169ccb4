// BSD sockets through libc: socket, setsockopt, bind, listen, accept4,
// connect, send/recv, sendto/recvfrom, shutdown, close, getsockname,
// getpeername. The fd plumbing the relays also need (pipe2, splice, sendfile,
// read, write, fcntl) is in fd.ts. Every socket is created non-blocking: the layers
// above wait with poll(2) (src/native/poll.ts), never on a native thread,
// because a blocking ffi call costs ~100 us and a slot of libuv's 4-thread pool.
//
// Calls that find nothing to do return AGAIN instead of throwing; every other
// failure throws IpcError naming the system call, which src/ipc re-describes.
//
// Why not hand connected fds to Node (`new net.Socket({fd})`)? It would be
// shorter for the echo server, but Node's streams copy every chunk into a JS
// Buffer and cannot splice(2): the bulk path here moves bytes from a pipe to
// a socket (and back) without them ever entering user space, which is the
// whole speed advantage over nc and socat. Keeping every fd in one poll loop
// also gives one idle timeout and one place that handles SIGINT.
import { errnoNumber, IpcError } from '../../errors.js';
import { AGAIN, bytesMoved as moved } from '../fd.js';
import { bind } from '../bind.js';
import { C } from '../library.js';
import { NativeMemory } from '../memory.js';
import { addressOf, type IoBuffer } from '../io-buffer.js';
import { linger } from '../layouts.js';
import { decodeSockAddr, encodeSockAddr, familyNumber, type SockAddr } from './sockaddr.js';

export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;

export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_ERROR = 4;
export const SO_BROADCAST = 6;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_LINGER = 13;
export const IPPROTO_TCP = 6;
export const TCP_NODELAY = 1;
export const IPPROTO_IPV6 = 41;
export const IPV6_V6ONLY = 26;

export const MSG_DONTWAIT = 0x40;
export const MSG_TRUNC = 0x20;
export const MSG_NOSIGNAL = 0x4000;

export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;

/** A non-blocking call that found nothing to do (EAGAIN); the socket calls return it too. */
export { AGAIN };

const EINTR = errnoNumber('EINTR');
const EAGAIN = errnoNumber('EAGAIN');
const EINPROGRESS = errnoNumber('EINPROGRESS');
const ECONNABORTED = errnoNumber('ECONNABORTED');
const ENOTCONN = errnoNumber('ENOTCONN');

const socketFn = bind('socket', C.int, [C.int, C.int, C.int]);
const setsockopt = bind('setsockopt', C.int, [C.int, C.int, C.int, C.ptr, C.uint]);
const getsockopt = bind('getsockopt', C.int, [C.int, C.int, C.int, C.ptr, C.ptr]);
const bindFn = bind('bind', C.int, [C.int, C.ptr, C.uint]);
const listenFn = bind('listen', C.int, [C.int, C.int]);
const accept4 = bind('accept4', C.int, [C.int, C.ptr, C.ptr, C.int]);
const connectFn = bind('connect', C.int, [C.int, C.ptr, C.uint]);
const sendFn = bind('send', C.ssize_t, [C.int, C.ptr, C.size_t, C.int]);
const recvFn = bind('recv', C.ssize_t, [C.int, C.ptr, C.size_t, C.int]);
// Exported for mmsg.ts's --echo replies: one params object for sendto.
export const sendtoFn = bind('sendto', C.ssize_t, [C.int, C.ptr, C.size_t, C.int, C.ptr, C.uint]);
const recvfromFn = bind('recvfrom', C.ssize_t, [C.int, C.ptr, C.size_t, C.int, C.ptr, C.ptr]);
const shutdownFn = bind('shutdown', C.int, [C.int, C.int]);
const closeFn = bind('close', C.int, [C.int]);
const getsockname = bind('getsockname', C.int, [C.int, C.ptr, C.ptr]);
const getpeername = bind('getpeername', C.int, [C.int, C.ptr, C.ptr]);

// One scratch block for addresses and option values: [0,128) a sockaddr,
// [128,132) its socklen_t, [136,144) an option value, [144,148) its length.
const scratch = new NativeMemory(160);
const ADDR = 0;
const ADDRLEN = 128;
const OPT = 136;
const OPTLEN = 144;

function fail(errno: number, op: string): never {
  throw new IpcError(errno, op, '');
}

/** A new non-blocking, close-on-exec socket. */
export function socket(family: number, type: number): number {
  const r = socketFn.call(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (r.value === -1) fail(r.errno, 'socket');
  return r.value;
}

export function setIntOption(fd: number, level: number, name: number, value: number): void {
  scratch.buf.writeInt32LE(value, OPT);
  const r = setsockopt.call(fd, level, name, scratch.addr + OPT, 4);
  if (r.value === -1) fail(r.errno, 'setsockopt');
}

export function getIntOption(fd: number, level: number, name: number): number {
  scratch.buf.writeUInt32LE(4, OPTLEN);
  const r = getsockopt.call(fd, level, name, scratch.addr + OPT, scratch.addr + OPTLEN);
  if (r.value === -1) fail(r.errno, 'getsockopt');
  return scratch.buf.readInt32LE(OPT);
}

/** SO_LINGER: close(2) waits up to `seconds` for unsent data (0: reset at once). */
export function setLinger(fd: number, seconds: number): void {
  scratch.buf.writeInt32LE(1, OPT + linger.fields.l_onoff);
  scratch.buf.writeInt32LE(seconds, OPT + linger.fields.l_linger);
  const r = setsockopt.call(fd, SOL_SOCKET, SO_LINGER, scratch.addr + OPT, linger.size);
  if (r.value === -1) fail(r.errno, 'setsockopt SO_LINGER');
}

export function bindTo(fd: number, addr: SockAddr): void {
  const len = encodeSockAddr(addr, scratch, ADDR);
  const r = bindFn.call(fd, scratch.addr + ADDR, len);
  if (r.value === -1) fail(r.errno, 'bind');
}

/** bind(2) with only the family: the kernel picks an abstract UNIX name (autobind). */
export function autobindUnix(fd: number): void {
  scratch.buf.writeUInt16LE(familyNumber({ family: 'unix', path: '' }), ADDR);
  const r = bindFn.call(fd, scratch.addr + ADDR, 2);
  if (r.value === -1) fail(r.errno, 'bind');
}

export function listen(fd: number, backlog: number): void {
  const r = listenFn.call(fd, backlog);
  if (r.value === -1) fail(r.errno, 'listen');
}

/** accept4: a new non-blocking connected socket and its peer, or null (none waiting). */
export function accept(fd: number): { fd: number; peer: SockAddr } | null {
  for (;;) {
    scratch.buf.writeUInt32LE(128, ADDRLEN);
    const r = accept4.call(fd, scratch.addr + ADDR, scratch.addr + ADDRLEN, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (r.value >= 0) return { fd: r.value, peer: decodeSockAddr(scratch, ADDR, scratch.buf.readUInt32LE(ADDRLEN)) };
    if (r.errno === EAGAIN) return null;
    // A client that gave up before we took it is not our failure.
    if (r.errno === EINTR || r.errno === ECONNABORTED) continue;
    fail(r.errno, 'accept4');
  }
}

/** Start connecting: true when connected at once, false when in progress (wait for POLLOUT, then connectResult). */
export function connectStart(fd: number, addr: SockAddr): boolean {
  const len = encodeSockAddr(addr, scratch, ADDR);
  const r = connectFn.call(fd, scratch.addr + ADDR, len);
  if (r.value === 0) return true;
  if (r.errno === EINPROGRESS || r.errno === EINTR) return false;
  fail(r.errno, 'connect');
}

/** The outcome of a non-blocking connect, read from SO_ERROR: throws when it failed. */
export function connectResult(fd: number): void {
  const err = getIntOption(fd, SOL_SOCKET, SO_ERROR);
  if (err !== 0) fail(err, 'connect');
}

export function shutdown(fd: number, how: number): void {
  const r = shutdownFn.call(fd, how);
  // ENOTCONN: the peer is already gone; nothing left to shut.
  if (r.value === -1 && r.errno !== ENOTCONN) fail(r.errno, 'shutdown');
}

export function close(fd: number): void {
  closeFn.call(fd);
}

function nameOf(fn: typeof getsockname, fd: number, op: string): SockAddr {
  scratch.buf.writeUInt32LE(128, ADDRLEN);
  const r = fn.call(fd, scratch.addr + ADDR, scratch.addr + ADDRLEN);
  if (r.value === -1) fail(r.errno, op);
  return decodeSockAddr(scratch, ADDR, scratch.buf.readUInt32LE(ADDRLEN));
}

export function localAddress(fd: number): SockAddr {
  return nameOf(getsockname, fd, 'getsockname');
}

export function peerAddress(fd: number): SockAddr {
  return nameOf(getpeername, fd, 'getpeername');
}

// Buffers are passed as (memory, offset, length): the address arithmetic
// stays here, and nothing above this layer handles a pointer.
export function send(fd: number, mem: IoBuffer, offset: number, len: number, flags = 0): number {
  return moved(() => sendFn.call(fd, addressOf(mem, offset), len, flags | MSG_DONTWAIT | MSG_NOSIGNAL), 'send');
}

export function recv(fd: number, mem: IoBuffer, offset: number, len: number, flags = 0): number {
  return moved(() => recvFn.call(fd, addressOf(mem, offset), len, flags | MSG_DONTWAIT), 'recv');
}

export function sendTo(fd: number, mem: IoBuffer, offset: number, len: number, to: SockAddr, flags = 0): number {
  const alen = encodeSockAddr(to, scratch, ADDR);
  return moved(() => sendtoFn.call(fd, addressOf(mem, offset), len, flags | MSG_DONTWAIT | MSG_NOSIGNAL, scratch.addr + ADDR, alen), 'sendto');
}

/** recvfrom: the datagram's size (its full size with MSG_TRUNC) and sender, or null. */
export function recvFrom(fd: number, mem: IoBuffer, offset: number, len: number, flags = 0): { size: number; from: SockAddr } | null {
  scratch.buf.writeUInt32LE(128, ADDRLEN);
  const n = moved(() => recvfromFn.call(fd, addressOf(mem, offset), len, flags | MSG_DONTWAIT, scratch.addr + ADDR, scratch.addr + ADDRLEN), 'recvfrom');
  if (n === AGAIN) return null;
  return { size: n, from: decodeSockAddr(scratch, ADDR, scratch.buf.readUInt32LE(ADDRLEN)) };
}
