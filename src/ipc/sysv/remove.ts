// Removing System V objects by kind and id (IPC_RMID), with each errno
// re-described for the kind of object the user named.
import { IpcError } from '../../errors.js';
import { msgRemove } from '../../native/sysv/msg.js';
import { semRemove } from '../../native/sysv/sem.js';
import { shmRemove } from '../../native/sysv/shm.js';
import type { Kind } from './procfs.js';
import { forgetId } from './keys.js';
import { detachKept } from './shm.js';

const nouns: Record<Kind, string> = { msgq: 'queue', shm: 'segment', sem: 'semaphore set' };

const removers: Record<Kind, (id: number) => void> = { msgq: msgRemove, shm: shmRemove, sem: semRemove };

function phrase(kind: Kind, code: string): string | undefined {
  const noun = nouns[kind];
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
  forgetId(kind, id);
  if (kind === 'shm') detachKept(id);
  try {
    removers[kind](id);
  } catch (e) {
    if (e instanceof IpcError) throw new IpcError(e.errno, `rm ${kind}`, String(id), { detail: phrase(kind, e.code) });
    throw e;
  }
}

/** Did removal fail only because the object is not there (any more)? */
export function isGone(e: unknown): boolean {
  return e instanceof IpcError && (e.code === 'EINVAL' || e.code === 'EIDRM');
}
