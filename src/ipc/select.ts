// Choosing objects: the filters `ls` shows by and `rm --all` removes by.
// Pure functions over the facts procfs.ts gathered (plus "is that pid
// alive?"), so that `ls --orphans` lists exactly what `rm --all --orphans`
// would remove.
import { type IpcObject, type Kind, type SegmentInfo, processExists } from './procfs.js';

export interface Selection {
  kinds: readonly Kind[];
  /** key_t value (0 selects the private objects). */
  key?: number;
  /** Owner uid. */
  owner?: number;
  /** Creator pid: only segments record one. */
  creator?: number;
  /** Only segments nobody has attached whose creator process is gone. */
  orphans?: boolean;
  /** Only objects last changed (ctime) more than this many ms ago. */
  olderThanMs?: number;
  /** The time "now" for olderThanMs, in ms since the epoch. */
  nowMs?: number;
}

/**
 * A segment left behind: nattch 0 and its creator no longer running. A
 * creator pid of 0 (the creator lives in a pid namespace we cannot see) is
 * not known to be gone, so such a segment is never called an orphan.
 */
export function isOrphan(o: IpcObject): o is SegmentInfo {
  return o.kind === 'shm' && o.nattch === 0 && o.cpid > 0 && !processExists(o.cpid);
}

export function matches(o: IpcObject, sel: Selection): boolean {
  if (!sel.kinds.includes(o.kind)) return false;
  if (sel.key !== undefined && o.key !== sel.key) return false;
  if (sel.owner !== undefined && o.uid !== sel.owner) return false;
  if (sel.creator !== undefined && !(o.kind === 'shm' && o.cpid === sel.creator)) return false;
  if (sel.olderThanMs !== undefined) {
    const now = sel.nowMs ?? Date.now();
    if (o.ctime === null || o.ctime * 1000 > now - sel.olderThanMs) return false;
  }
  // Last: it asks the kernel about a process.
  if (sel.orphans && !isOrphan(o)) return false;
  return true;
}

export function select(objects: readonly IpcObject[], sel: Selection): IpcObject[] {
  return objects.filter((o) => matches(o, sel));
}
