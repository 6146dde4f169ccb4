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
  /** Only segments nobody has attached, whose creator is gone, left alone for olderThanMs (default 1h). */
  orphans?: boolean;
  /** Only objects last changed (ctime) more than this many ms ago; with orphans, also last attached/detached. */
  olderThanMs?: number;
  /** The time "now" for olderThanMs, in ms since the epoch. */
  nowMs?: number;
}

/** How long a segment must have been left alone to be an orphan when --older-than does not say. */
export const ORPHAN_AGE_MS = 3_600_000;

/**
 * A segment left behind: nobody attached, its creator no longer running,
 * and nothing attached, detached or changed for `ageMs` (default 1h). The
 * age keeps a fresh segment out: `ipcctl shm create` always exits at once,
 * so a segment it made a second ago would otherwise count. A creator pid of
 * 0 (the creator lives in a pid namespace we cannot see) is not known to be
 * gone, so such a segment is never called an orphan.
 */
export function isOrphan(o: IpcObject, ageMs: number = ORPHAN_AGE_MS, nowMs: number = Date.now()): o is SegmentInfo {
  if (o.kind !== 'shm' || o.nattch !== 0 || o.cpid <= 0) return false;
  const last = Math.max(o.atime ?? 0, o.dtime ?? 0, o.ctime ?? 0) * 1000;
  if (last > nowMs - ageMs) return false;
  return !processExists(o.cpid);
}

export function matches(o: IpcObject, sel: Selection): boolean {
  if (!sel.kinds.includes(o.kind)) return false;
  if (sel.key !== undefined && o.key !== sel.key) return false;
  if (sel.owner !== undefined && o.uid !== sel.owner) return false;
  if (sel.creator !== undefined && !(o.kind === 'shm' && o.cpid === sel.creator)) return false;
  const now = sel.nowMs ?? Date.now();
  if (sel.olderThanMs !== undefined) {
    if (o.ctime === null || o.ctime * 1000 > now - sel.olderThanMs) return false;
  }
  // Last: it asks the kernel about a process.
  if (sel.orphans && !isOrphan(o, sel.olderThanMs ?? ORPHAN_AGE_MS, now)) return false;
  return true;
}

/**
 * Could this process remove `o` (IPC_RMID)? The owner, the creator, or a
 * process with CAP_SYS_ADMIN may; `--dry-run` says so before anyone tries.
 */
export function mayRemove(o: IpcObject, euid: number, sysAdmin: boolean): boolean {
  return sysAdmin || euid === o.uid || euid === o.cuid;
}

export function select(objects: readonly IpcObject[], sel: Selection): IpcObject[] {
  return objects.filter((o) => matches(o, sel));
}
