// Hints that turn an errno into something a user can act on: who owns the
// object and with what mode (EACCES), which limit ran out and the sysctl that
// raises it (ENOSPC). Facts come from /proc, so a hint never needs the
// permission whose lack caused the error.
import { type Kind, readObjects } from './sysv/procfs.js';
import { userName } from './users.js';

const nouns: Record<Kind, string> = { msgq: 'queue', shm: 'segment', sem: 'semaphore set' };

/** "queue 5 belongs to alice (uid 1000), mode 0600; you are uid 1001" */
export function permissionHint(kind: Kind, id: number): string | undefined {
  try {
    const o = readObjects([kind]).find((x) => x.id === id);
    if (!o) return undefined;
    const mode = (o.mode & 0o777).toString(8).padStart(4, '0');
    const me = process.getuid?.();
    return `${nouns[kind]} ${id} belongs to ${userName(o.uid)} (uid ${o.uid}), mode ${mode}${me === undefined ? '' : `; you are uid ${me}`}`;
  } catch {
    return undefined;
  }
}

const spaceLimits: Record<Kind, string> = {
  msgq: 'too many queues: the limit is kernel.msgmni; raise it with sysctl -w kernel.msgmni=N',
  shm: 'the limit is kernel.shmmni (segments) or kernel.shmall (pages); raise it with sysctl',
  sem: 'the limit is in kernel.sem (semmni sets, semmns semaphores); raise it with sysctl',
};

export function spaceHint(kind: Kind): string {
  return spaceLimits[kind];
}
