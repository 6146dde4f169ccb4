// The hint that turns EACCES/EPERM into something a user can act on: who
// owns the object and with what mode. Facts come from /proc, so the hint
// never needs the permission whose lack caused the error. (What ENOSPC means
// is a fixed text of each kind: sysv/kinds.ts.)
import { type Kind, readObjects } from './sysv/procfs.js';
import { userName } from './users.js';

/** "queue 5 belongs to alice (uid 1000), mode 0600; you are uid 1001" */
export function permissionHint(kind: Kind, noun: string, id: number): string | undefined {
  try {
    const o = readObjects([kind]).find((x) => x.id === id);
    if (!o) return undefined;
    const mode = (o.mode & 0o777).toString(8).padStart(4, '0');
    const me = process.getuid?.();
    return `${noun} ${id} belongs to ${userName(o.uid)} (uid ${o.uid}), mode ${mode}${me === undefined ? '' : `; you are uid ${me}`}`;
  } catch {
    return undefined;
  }
}
