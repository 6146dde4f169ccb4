// All of stdin for commands that take XDR or RPC arguments from it, with a
// stdin that cannot be read (a directory, a closed fd) reported as one line
// naming the operation instead of escaping as an internal error.
import { errnoNumber, IpcError } from '../../errors.js';
import { readAll } from './input.js';

export function readStdinFor(op: string): Buffer {
  try {
    return readAll();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) {
      let errno: number;
      try {
        errno = errnoNumber(code);
      } catch {
        throw e;
      }
      throw new IpcError(errno, op, 'stdin', { detail: code === 'EISDIR' ? 'stdin is a directory' : undefined, exitCode: 1 });
    }
    throw e;
  }
}
