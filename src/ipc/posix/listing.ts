// What POSIX objects exist, from the file systems Linux shows them in:
// queues in /dev/mqueue (an mqueue mount; each file reads "QSIZE:n ..."),
// segments and semaphores in /dev/shm (a semaphore is the 32-byte file
// sem.NAME). Plain file reads, no libc: `ipcctl ls` runs without ffi-rs.
// The one fact no file shows, a queue's message count, comes from
// mq_getattr in queue-counts.ts, loaded only when asked for.
import { readdirSync, readFileSync, statfsSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { OperationError } from '../../errors.js';
import type { PosixKind } from './names.js';

export interface PosixBase {
  kind: PosixKind;
  /** With its leading slash, as mq_open/shm_open/sem_open take it. */
  name: string;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  ctime: number;
}

export interface PosixQueueInfo extends PosixBase {
  kind: 'pmq';
  /** Bytes in the queue's messages (QSIZE). */
  usedbytes: number;
  /** Messages on the queue (mq_curmsgs); null until counted (queue-counts.ts). */
  msgs: number | null;
  /** mq_maxmsg and mq_msgsize, with the count; null until counted. */
  maxmsg: number | null;
  msgsize: number | null;
}

export interface PosixSegmentInfo extends PosixBase {
  kind: 'pshm';
  size: number;
}

export interface PosixSemInfo extends PosixBase {
  kind: 'psem';
  /** The semaphore's value; null when its file cannot be read. */
  value: number | null;
}

export type PosixObject = PosixQueueInfo | PosixSegmentInfo | PosixSemInfo;

export interface PosixRoots {
  mqueue: string;
  shm: string;
}

export const DEFAULT_ROOTS: PosixRoots = { mqueue: '/dev/mqueue', shm: '/dev/shm' };

const MQUEUE_MAGIC = 0x19800202;

/** Is an mqueue file system mounted at `path`? */
export function mqueueMounted(path = DEFAULT_ROOTS.mqueue): boolean {
  try {
    return statfsSync(path).type === MQUEUE_MAGIC;
  } catch {
    return false;
  }
}

/** The words that say plainly what is missing and how to get it. */
export function mqueueNotMounted(path = DEFAULT_ROOTS.mqueue): OperationError {
  return new OperationError(
    `ls pmq: no mqueue file system is mounted at ${path}, so POSIX queues cannot be listed`,
    1,
    `as root: mkdir -p ${path} && mount -t mqueue none ${path}`,
  );
}

const sec = (ms: number) => Math.floor(ms / 1000);

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

export function readPosixQueues(root = DEFAULT_ROOTS.mqueue): PosixQueueInfo[] {
  if (!mqueueMounted(root)) return [];
  const out: PosixQueueInfo[] = [];
  for (const e of entries(root)) {
    try {
      const path = `${root}/${e}`;
      const st = statSync(path);
      let used = 0;
      try {
        used = Number(/QSIZE:\s*([0-9]+)/.exec(readFileSync(path, 'latin1'))?.[1] ?? 0);
      } catch {
        /* no read permission: the size stays 0 as lsipc shows it */
      }
      out.push({
        kind: 'pmq',
        name: '/' + e,
        mode: st.mode & 0o777,
        uid: st.uid,
        gid: st.gid,
        mtime: sec(st.mtimeMs),
        ctime: sec(st.ctimeMs),
        usedbytes: used,
        msgs: null,
        maxmsg: null,
        msgsize: null,
      });
    } catch {
      /* removed while we looked */
    }
  }
  return out;
}

/** Regular files of /dev/shm that are not semaphores: what shm_open made. */
export function readPosixSegments(root = DEFAULT_ROOTS.shm): PosixSegmentInfo[] {
  const out: PosixSegmentInfo[] = [];
  for (const e of entries(root)) {
    if (e.startsWith('sem.')) continue;
    try {
      const st = statSync(`${root}/${e}`);
      if (!st.isFile()) continue;
      out.push({ kind: 'pshm', name: '/' + e, mode: st.mode & 0o777, uid: st.uid, gid: st.gid, mtime: sec(st.mtimeMs), ctime: sec(st.ctimeMs), size: st.size });
    } catch {
      /* removed while we looked */
    }
  }
  return out;
}

// glibc's sem_t on 64-bit targets: a 64-bit word whose low 32 bits are the
// value and high 32 bits the number of waiters (nptl's struct new_sem).
const SEM_T_SIZE = 32;

function semValue(path: string, buf: Buffer): number | null {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    return readSync(fd, buf, 0, SEM_T_SIZE, 0) >= 4 ? buf.readUInt32LE(0) : null;
  } catch {
    return null;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

export function readPosixSemaphores(root = DEFAULT_ROOTS.shm): PosixSemInfo[] {
  const out: PosixSemInfo[] = [];
  const buf = Buffer.alloc(SEM_T_SIZE);
  for (const e of entries(root)) {
    if (!e.startsWith('sem.') || e.length === 4) continue;
    try {
      const path = `${root}/${e}`;
      const st = statSync(path);
      if (!st.isFile() || st.size !== SEM_T_SIZE) continue;
      out.push({
        kind: 'psem',
        name: '/' + e.slice(4),
        mode: st.mode & 0o777,
        uid: st.uid,
        gid: st.gid,
        mtime: sec(st.mtimeMs),
        ctime: sec(st.ctimeMs),
        value: semValue(path, buf),
      });
    } catch {
      /* removed while we looked */
    }
  }
  return out;
}

/** Every POSIX object of the given kinds, kind by kind, each sorted by name. */
export function readPosixObjects(kinds: readonly PosixKind[], roots: PosixRoots = DEFAULT_ROOTS): PosixObject[] {
  const all: PosixObject[] = [];
  for (const k of kinds) {
    const list: PosixObject[] = k === 'pmq' ? readPosixQueues(roots.mqueue) : k === 'pshm' ? readPosixSegments(roots.shm) : readPosixSemaphores(roots.shm);
    for (const o of list) all.push(o);
  }
  return all;
}

/** The filters of `ls`/`rm --all` that POSIX objects have: owner and age (by mtime). Key, creator and orphans name System V facts only. */
export function selectPosix(
  objects: readonly PosixObject[],
  sel: { key?: number; owner?: number; creator?: number; orphans?: boolean; olderThanMs?: number; nowMs?: number },
): PosixObject[] {
  if (sel.key !== undefined || sel.creator !== undefined || sel.orphans) return [];
  const now = sel.nowMs ?? Date.now();
  return objects.filter((o) => (sel.owner === undefined || o.uid === sel.owner) && (sel.olderThanMs === undefined || o.mtime * 1000 <= now - sel.olderThanMs));
}
