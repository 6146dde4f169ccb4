// All of stdin for commands that take XDR or RPC arguments from it, with a
// stdin that cannot be read (a directory, a closed fd) reported as one line
// naming the operation instead of escaping as an internal error.
import { errnoNumber, IpcError, OperationError } from '../../errors.js';
import { readChunks } from './input.js';

/** More than this on stdin is refused rather than read for ever (stdin from /dev/zero). */
export const STDIN_LIMIT = 64 << 20;

export function readStdinFor(op: string, limit = STDIN_LIMIT): Buffer {
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (const c of readChunks()) {
      total += c.length;
      if (total > limit) throw new OperationError(`${op}: stdin holds more than ${limit >> 20} MiB; refused`);
      chunks.push(c);
    }
    return Buffer.concat(chunks);
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
