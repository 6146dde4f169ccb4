// Socket errors re-described for the command the user ran: the native layer
// names the system call (bind, connect, splice), this names the endpoint
// ("tcp serve 127.0.0.1:8080") and says what the errno means there.
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { EXIT, IpcError } from '../../errors.js';
import type { SockAddr } from '../../native/net/sockaddr.js';
import { FlowError } from './flow.js';

/** What is at a UNIX socket path, to say why connect/bind failed there. */
function whatIsAt(path: string): 'socket' | 'directory' | 'other' | 'missing' | 'no-dir' {
  try {
    const st = statSync(path);
    return st.isSocket() ? 'socket' : st.isDirectory() ? 'directory' : 'other';
  } catch {
    try {
      return statSync(dirname(path)).isDirectory() ? 'missing' : 'no-dir';
    } catch {
      return 'no-dir';
    }
  }
}

function phrase(code: string, a: SockAddr | null): { detail?: string; hint?: string; exitCode?: number } {
  const unix = a?.family === 'unix';
  const path = a?.family === 'unix' && !a.path.startsWith('@') ? a.path : undefined;
  const at = path !== undefined && (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ENOTSOCK') ? whatIsAt(path) : undefined;
  if (at === 'directory') return { detail: 'that path is a directory, not a socket', exitCode: EXIT.FAILED };
  if (at === 'other') return { detail: 'that path is a file, not a socket', exitCode: EXIT.FAILED };
  if (at === 'no-dir') return { detail: `the directory ${dirname(path!)} does not exist`, exitCode: EXIT.NO_OBJECT };
  const port = a && a.family !== 'unix' ? a.port : undefined;
  switch (code) {
    case 'EADDRINUSE':
      return unix
        ? { detail: 'a socket is already bound to that path' }
        : {
            detail: `port ${port} is already in use`,
            hint: `another program listens there (ss -ltnup 'sport = :${port}'), or an old connection holds it: retry with --reuseaddr`,
            exitCode: EXIT.FAILED,
          };
    case 'EACCES':
      return port !== undefined && port < 1024
        ? { detail: `ports below 1024 need root (CAP_NET_BIND_SERVICE)` }
        : { detail: 'permission denied' + (port !== undefined ? ' (for broadcast, give --broadcast)' : '') };
    case 'EADDRNOTAVAIL':
      return { detail: 'that address is not on this machine', exitCode: EXIT.FAILED };
    case 'ECONNREFUSED':
      return unix
        ? { detail: 'connection refused: nobody listens on that socket (a stale socket file?)', exitCode: EXIT.FAILED }
        : { detail: 'connection refused', exitCode: EXIT.FAILED };
    case 'ENOENT':
      return { detail: 'no such socket file' };
    case 'ENOTDIR':
      return { detail: 'a component of the path is not a directory', exitCode: EXIT.NO_OBJECT };
    case 'EPROTOTYPE':
      return { detail: unix ? 'the socket is of the other kind (stream vs --dgram)' : 'wrong socket type', exitCode: EXIT.FAILED };
    case 'EINVAL':
      return { detail: 'invalid argument', exitCode: EXIT.FAILED };
    case 'EMSGSIZE':
      return { detail: 'datagram too large for one send (the limit is 65507 bytes for UDP over IPv4)', exitCode: EXIT.FAILED };
    case 'ENOBUFS':
      return { detail: 'the kernel is out of socket buffer space', exitCode: EXIT.FAILED };
    default:
      return {};
  }
}

/** Re-throw a native socket error as `<op> <endpoint>: ERRNO, meaning`. */
export function rethrowSocketError(err: unknown, op: string, endpoint: string, a: SockAddr | null): never {
  const e = err instanceof FlowError ? err.failure : err;
  if (e instanceof IpcError) throw new IpcError(e.errno, op, endpoint, phrase(e.code, a));
  throw err;
}
