// What POSIX objects exist, from the file systems Linux shows them in:
// queues in /dev/mqueue (an mqueue mount; each file reads "QSIZE:n ..."),
// segments and semaphores in /dev/shm (a semaphore is the 32-byte file
// sem.NAME). Plain file reads, no libc: `ipcctl ls` runs without ffi-rs.
// The one fact no file shows, a queue's message count, comes from
// mq_getattr in queue-counts.ts, loaded only when asked for.
import { closeSync, fstatSync, openSync, readdirSync, readSync, statfsSync, statSync, type Stats } from 'node:fs';
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

/**
 * One queue's file: its owner, mode and times from fstat, and QSIZE from its
 * text ("QSIZE:n NOTIFY:..."), through one descriptor (no path looked up
 * twice, no Buffer per file). A queue we may not read keeps a size of 0, as
 * lsipc shows it; null when the queue went away meanwhile.
 */
function readQueueFile(path: string, buf: Buffer): { st: Stats; used: number } | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    try {
      return { st: statSync(path), used: 0 };
    } catch {
      return null; // removed while we looked
    }
  }
  try {
    const st = fstatSync(fd);
    let used = 0;
    try {
      const n = readSync(fd, buf, 0, buf.length, 0);
      used = Number(/QSIZE:\s*([0-9]+)/.exec(buf.toString('latin1', 0, n))?.[1] ?? 0);
    } catch {
      /* unreadable: 0 */
    }
    return { st, used };
  } finally {
    closeSync(fd);
  }
}

export function readPosixQueues(root = DEFAULT_ROOTS.mqueue): PosixQueueInfo[] {
  if (!mqueueMounted(root)) return [];
  const out: PosixQueueInfo[] = [];
  const buf = Buffer.allocUnsafe(256);
  for (const e of entries(root)) {
    const q = readQueueFile(`${root}/${e}`, buf);
    if (!q) continue;
    const { st, used } = q;
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
  }
  return out;
}

/** Regular files of /dev/shm that are not semaphores: what shm_open made. */
export function readPosixSegments(root = DEFAULT_ROOTS.shm, names = entries(root)): PosixSegmentInfo[] {
  const out: PosixSegmentInfo[] = [];
  for (const e of names) {
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

/**
 * A semaphore's file, through one descriptor: fstat, and its value from the
 * first word of the sem_t (null when unreadable). null when the file is not
 * a semaphore's (not a regular file of 32 bytes) or went away meanwhile.
 */
function readSemFile(path: string, buf: Buffer): { st: Stats; value: number | null } | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    // No read permission: the owner and mode still show, the value does not.
    try {
      const st = statSync(path);
      return st.isFile() && st.size === SEM_T_SIZE ? { st, value: null } : null;
    } catch {
      return null;
    }
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size !== SEM_T_SIZE) return null;
    let value: number | null = null;
    try {
      value = readSync(fd, buf, 0, SEM_T_SIZE, 0) >= 4 ? buf.readUInt32LE(0) : null;
    } catch {
      /* unreadable: null */
    }
    return { st, value };
  } finally {
    closeSync(fd);
  }
}

export function readPosixSemaphores(root = DEFAULT_ROOTS.shm, names = entries(root)): PosixSemInfo[] {
  const out: PosixSemInfo[] = [];
  const buf = Buffer.alloc(SEM_T_SIZE);
  for (const e of names) {
    if (!e.startsWith('sem.') || e.length === 4) continue;
    const s = readSemFile(`${root}/${e}`, buf);
    if (!s) continue;
    const { st, value } = s;
    out.push({
      kind: 'psem',
      name: '/' + e.slice(4),
      mode: st.mode & 0o777,
      uid: st.uid,
      gid: st.gid,
      mtime: sec(st.mtimeMs),
      ctime: sec(st.ctimeMs),
      value,
    });
  }
  return out;
}

/** Every POSIX object of the given kinds, kind by kind, each sorted by name. */
export function readPosixObjects(kinds: readonly PosixKind[], roots: PosixRoots = DEFAULT_ROOTS): PosixObject[] {
  const all: PosixObject[] = [];
  let shmNames: string[] | null = null; // /dev/shm holds both segments and semaphores: listed once
  for (const k of kinds) {
    const list: PosixObject[] =
      k === 'pmq'
        ? readPosixQueues(roots.mqueue)
        : k === 'pshm'
          ? readPosixSegments(roots.shm, (shmNames ??= entries(roots.shm)))
          : readPosixSemaphores(roots.shm, (shmNames ??= entries(roots.shm)));
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
