// Re-describing a native error for the operation the user ran, the same way
// for queues, segments and semaphore sets: the meaning of each errno for that
// kind of object (its row in kinds.ts), and a hint where one helps (who owns
// it and with what mode for EACCES/EPERM, which limit ran out for ENOSPC).
import { IpcError } from '../../errors.js';
import type * as Hints from '../hints.js';
import { forgetId } from './keys.js';
import { SYSV_KINDS } from './kinds.js';
import type { Kind } from './procfs.js';

// The hints read /proc and the user database: loaded only when an error
// needs one, not at the start of every command.
const hints = (): typeof Hints => require('../hints.js') as typeof Hints;

export type Relabel = (err: unknown, op: string, object: string) => never;

function hintFor(kind: Kind, code: string, object: string): string | undefined {
  if ((code === 'EACCES' || code === 'EPERM') && /^[0-9]+$/.test(object)) return hints().permissionHint(kind, SYSV_KINDS[kind].noun, Number(object));
  if (code === 'ENOSPC') return SYSV_KINDS[kind].spaceHint;
  if (code === 'EEXIST') return 'drop --exclusive to open it';
  if (code === 'ENOSYS') return 'this kernel or container offers no System V IPC';
  return undefined;
}

/** A relabel with `phrases` of its own (an event set is a semaphore set to the kernel). */
export function relabeller(kind: Kind, phrases: () => Record<string, string>): Relabel {
  return function relabel(err: unknown, op: string, object: string): never {
    if (err instanceof IpcError) {
      if ((err.code === 'EIDRM' || err.code === 'EINVAL') && /^[0-9]+$/.test(object)) forgetId(kind, Number(object));
      throw new IpcError(err.errno, op, object, { detail: phrases()[err.code], hint: hintFor(kind, err.code, object) });
    }
    throw err;
  };
}

const byKind = new Map<Kind, Relabel>();

/** The relabel of `kind`, in the words of its row in kinds.ts. */
export function relabelFor(kind: Kind): Relabel {
  let r = byKind.get(kind);
  if (!r) {
    let phrases: Record<string, string> | undefined;
    r = relabeller(kind, () => (phrases ??= SYSV_KINDS[kind].phrases()));
    byKind.set(kind, r);
  }
  return r;
}
