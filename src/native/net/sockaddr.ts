// struct sockaddr_in, sockaddr_in6 and sockaddr_un: socket addresses as the
// kernel reads and writes them, and as the layers above see them (plain
// objects, never bytes). Numeric addresses only: inet_pton/inet_ntop do the
// text forms, so no resolver is ever involved.
import { UsageError } from '../../errors.js';
import { bind } from '../bind.js';
import { C } from '../library.js';
import { NativeMemory } from '../memory.js';
import { sockaddr_in, sockaddr_in6, sockaddr_storage, sockaddr_un } from '../layouts.js';

export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;

/** A socket address. `path` '' is an unnamed UNIX socket; '@name' the abstract namespace. */
export type SockAddr =
  { family: 'inet'; address: string; port: number } | { family: 'inet6'; address: string; port: number; scopeId: number } | { family: 'unix'; path: string };

export function familyNumber(a: SockAddr): number {
  return a.family === 'inet' ? AF_INET : a.family === 'inet6' ? AF_INET6 : AF_UNIX;
}

const inetPton = bind('inet_pton', C.int, [C.int, C.string, C.ptr]);
const inetNtop = bind('inet_ntop', C.ptr, [C.int, C.ptr, C.ptr, C.uint]);

const scratch = new NativeMemory(64);

/** The 4 or 16 bytes of a numeric address, or null when it is not one. */
export function addressBytes(family: 'inet' | 'inet6', text: string): Buffer | null {
  // inet_pton takes a C string: a NUL inside would silently cut it short.
  if (text.includes('\0')) return null;
  const r = inetPton.call(family === 'inet' ? AF_INET : AF_INET6, text, scratch.addr);
  if (r.value !== 1) return null;
  return Buffer.from(scratch.buf.subarray(0, family === 'inet' ? 4 : 16));
}

/** inet_ntop of bytes at `ptr`: the canonical text form (RFC 5952 for IPv6). */
function addressText(af: number, ptr: number): string {
  const out = scratch.addr + 16;
  const r = inetNtop.call(af, ptr, out, 46);
  if (r.value === 0) return '?';
  const b = scratch.buf.subarray(16, 16 + 46);
  return b.toString('latin1', 0, b.indexOf(0));
}

/** sun_path holds 108 bytes with the terminating NUL. */
export const UNIX_PATH_MAX = sockaddr_un.size - sockaddr_un.fields.sun_path - 1;

/**
 * Write `a` at `mem.addr + at` and return its length (the socklen_t the
 * kernel needs). `mem` must have sockaddr_storage.size bytes from `at`.
 */
export function encodeSockAddr(a: SockAddr, mem: NativeMemory, at = 0): number {
  const b = mem.buf;
  b.fill(0, at, at + sockaddr_storage.size);
  if (a.family === 'inet') {
    const f = sockaddr_in.fields;
    b.writeUInt16LE(AF_INET, at + f.sin_family);
    b.writeUInt16BE(a.port, at + f.sin_port);
    const bytes = addressBytes('inet', a.address);
    if (!bytes) throw new UsageError(`invalid IPv4 address '${a.address}'`);
    bytes.copy(b, at + f.sin_addr);
    return sockaddr_in.size;
  }
  if (a.family === 'inet6') {
    const f = sockaddr_in6.fields;
    b.writeUInt16LE(AF_INET6, at + f.sin6_family);
    b.writeUInt16BE(a.port, at + f.sin6_port);
    const bytes = addressBytes('inet6', a.address);
    if (!bytes) throw new UsageError(`invalid IPv6 address '${a.address}'`);
    bytes.copy(b, at + f.sin6_addr);
    b.writeUInt32LE(a.scopeId, at + f.sin6_scope_id);
    return sockaddr_in6.size;
  }
  const f = sockaddr_un.fields;
  b.writeUInt16LE(AF_UNIX, at + f.sun_family);
  const abstract = a.path.startsWith('@');
  const name = Buffer.from(abstract ? a.path.slice(1) : a.path);
  if (name.length + 1 > UNIX_PATH_MAX + 1 || (!abstract && name.includes(0))) {
    throw new UsageError(`socket path '${a.path}' is too long: ${name.length} bytes, the limit is ${UNIX_PATH_MAX}`, 'use a shorter path, e.g. under /tmp');
  }
  // Abstract names start with a NUL and are exactly as long as addrlen says.
  name.copy(b, at + f.sun_path + (abstract ? 1 : 0));
  return f.sun_path + (abstract ? 1 + name.length : name.length + 1);
}

/** Read the address the kernel wrote at `mem.addr + at` with length `len`. */
export function decodeSockAddr(mem: NativeMemory, at: number, len: number): SockAddr {
  const b = mem.buf;
  const family = len >= 2 ? b.readUInt16LE(at) : AF_UNIX;
  if (family === AF_INET) {
    const f = sockaddr_in.fields;
    return { family: 'inet', address: addressText(AF_INET, mem.addr + at + f.sin_addr), port: b.readUInt16BE(at + f.sin_port) };
  }
  if (family === AF_INET6) {
    const f = sockaddr_in6.fields;
    return {
      family: 'inet6',
      address: addressText(AF_INET6, mem.addr + at + f.sin6_addr),
      port: b.readUInt16BE(at + f.sin6_port),
      scopeId: b.readUInt32LE(at + f.sin6_scope_id),
    };
  }
  const start = at + sockaddr_un.fields.sun_path;
  const end = at + len;
  if (end <= start) return { family: 'unix', path: '' };
  if (b[start] === 0) return { family: 'unix', path: '@' + b.toString('utf8', start + 1, end) };
  const nul = b.indexOf(0, start);
  return { family: 'unix', path: b.toString('utf8', start, nul === -1 || nul > end ? end : nul) };
}
