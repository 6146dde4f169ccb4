// Re-describing a native error for the operation the user ran, the same way
// for queues, segments and semaphore sets: the meaning of each errno for that
// kind of object, and a hint where one helps (who owns it and with what mode
// for EACCES/EPERM, which limit ran out for ENOSPC).
import { IpcError } from '../../errors.js';
import type * as Hints from '../hints.js';
import { forgetId } from './keys.js';
import type { Kind } from './procfs.js';

// The hints read /proc and the user database: loaded only when an error
// needs one, not at the start of every command.
const hints = (): typeof Hints => require('../hints.js') as typeof Hints;

function hintFor(kind: Kind, code: string, object: string): string | undefined {
  if ((code === 'EACCES' || code === 'EPERM') && /^[0-9]+$/.test(object)) return hints().permissionHint(kind, Number(object));
  if (code === 'ENOSPC') return hints().spaceHint(kind);
  if (code === 'EEXIST') return 'drop --exclusive to open it';
  if (code === 'ENOSYS') return 'this kernel or container offers no System V IPC';
  return undefined;
}

export function relabeller(kind: Kind, phrases: Record<string, string>) {
  return function relabel(err: unknown, op: string, object: string): never {
    if (err instanceof IpcError) {
      if ((err.code === 'EIDRM' || err.code === 'EINVAL') && /^[0-9]+$/.test(object)) forgetId(kind, Number(object));
      throw new IpcError(err.errno, op, object, { detail: phrases[err.code], hint: hintFor(kind, err.code, object) });
    }
    throw err;
  };
}
