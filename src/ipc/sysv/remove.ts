// Removing System V objects by kind and id (IPC_RMID, through the kind's row
// in kinds.ts), with each errno re-described for the kind of object the user
// named, as `rm <kind> <id>`.
import { IpcError } from '../../errors.js';
import type { Kind } from './procfs.js';
import { SYSV_KINDS } from './kinds.js';
import { removeById } from './object.js';

function phrase(kind: Kind, code: string): string | undefined {
  const noun = SYSV_KINDS[kind].noun;
  switch (code) {
    case 'EINVAL':
      return `no such ${noun}`;
    case 'EIDRM':
      return `the ${noun} was already removed`;
    case 'EPERM':
      return `permission denied (only the owner, the creator or root may remove a ${noun})`;
    case 'EACCES':
      return 'permission denied';
    default:
      return undefined;
  }
}

/** IPC_RMID on one object. Throws IpcError named `rm <kind> <id>`. */
export function removeObject(kind: Kind, id: number): void {
  try {
    removeById(kind, id);
  } catch (e) {
    if (e instanceof IpcError) throw new IpcError(e.errno, `rm ${kind}`, String(id), { detail: phrase(kind, e.code) });
    throw e;
  }
}

/** Did removal fail only because the object is not there (any more)? */
export function isGone(e: unknown): boolean {
  return e instanceof IpcError && (e.code === 'EINVAL' || e.code === 'EIDRM');
}
