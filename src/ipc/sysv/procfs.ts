// What exists, read from /proc: /proc/sysvipc/{msg,shm,sem} for the objects
// and /proc/sys/kernel for the limits. This module only gathers facts; every
// view (tables, JSON, summaries, filters) is built elsewhere from them. It
// must never import the native layer: `ipcctl ls` runs without ffi-rs.
//
// /proc/sysvipc prints one header line naming the columns and one line per
// object. Columns are found by their header names, not by position (the
// kernel appended rss/swap to shm once, and may append again). The key is
// printed as a signed decimal (key_t is an int), the mode in octal.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { OperationError } from '../../errors.js';
import { ProcRows } from './proc-rows.js';

export type Kind = 'msgq' | 'shm' | 'sem';
export const KINDS: readonly Kind[] = ['msgq', 'shm', 'sem'];

/** The ipc_perm part every object has, plus its last change time. */
export interface ObjectBase {
  kind: Kind;
  id: number;
  /** key_t as the kernel holds it: a signed 32-bit number (0 is IPC_PRIVATE). */
  key: number;
  /** Permission bits and the mechanism's flag bits (SHM_DEST, SHM_LOCKED). */
  mode: number;
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  /** Seconds since the epoch; null for never. */
  ctime: number | null;
}

export interface QueueInfo extends ObjectBase {
  kind: 'msgq';
  qnum: number;
  cbytes: number;
  /** Not in /proc (only msgctl IPC_STAT has it), so always null here. */
  qbytes: null;
  lspid: number;
  lrpid: number;
  stime: number | null;
  rtime: number | null;
}

export interface SegmentInfo extends ObjectBase {
  kind: 'shm';
  size: number;
  nattch: number;
  cpid: number;
  lpid: number;
  atime: number | null;
  dtime: number | null;
  /** Bytes resident in memory and in swap (0 on kernels that do not say). */
  rss: number;
  swap: number;
}

export interface SemSetInfo extends ObjectBase {
  kind: 'sem';
  nsems: number;
  otime: number | null;
}

export type IpcObject = QueueInfo | SegmentInfo | SemSetInfo;

/** The files behind each kind, and the name /proc gives the id column. */
const SOURCES: Record<Kind, { file: string; idColumn: string }> = {
  msgq: { file: 'msg', idColumn: 'msqid' },
  shm: { file: 'shm', idColumn: 'shmid' },
  sem: { file: 'sem', idColumn: 'semid' },
};

export const PROC_SYSVIPC = '/proc/sysvipc';

/**
 * The whole of a /proc file. /proc files report size 0, so readFileSync reads
 * them in small pieces and joins them; this reads into one buffer kept for
 * the next file (grown when a file fills it), a few reads per file.
 */
let procBuffer = Buffer.allocUnsafe(256 << 10);

function readProc(path: string): string {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    let filled = 0;
    for (;;) {
      if (filled === procBuffer.length) {
        const bigger = Buffer.allocUnsafe(procBuffer.length * 2);
        procBuffer.copy(bigger, 0, 0, filled);
        procBuffer = bigger;
      }
      const n = readSync(fd, procBuffer, filled, procBuffer.length - filled, null);
      if (n === 0) break;
      filled += n;
    }
    return procBuffer.toString('latin1', 0, filled);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    const why = code === 'ENOENT' ? 'System V IPC is not available here (no /proc/sysvipc)' : 'cannot read it';
    throw new OperationError(`ls ${path}: ${code}, ${why}`);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** A time cell: 0 means never (and so does a cell that is not a number). */
function time(t: number): number | null {
  return t === 0 || Number.isNaN(t) ? null : t;
}

/**
 * Each reader builds its objects as one literal of one shape, straight from
 * the row's numbers, the ipc_perm part written out in each (a spread of a
 * helper's object would cost one more object per row).
 */
export function readQueues(root = PROC_SYSVIPC): QueueInfo[] {
  const t = new ProcRows(readProc(`${root}/msg`), 'perms');
  const [id, key, mode, uid, gid, cuid, cgid, ctime] = permColumns(t, SOURCES.msgq.idColumn);
  const [qnum, cbytes, lspid, lrpid, stime, rtime] = columns(t, 'qnum', 'cbytes', 'lspid', 'lrpid', 'stime', 'rtime');
  const v = t.values;
  const out: QueueInfo[] = [];
  while (t.next()) {
    out.push({
      kind: 'msgq',
      id: v[id],
      key: v[key] | 0,
      mode: v[mode],
      uid: v[uid],
      gid: v[gid],
      cuid: v[cuid],
      cgid: v[cgid],
      ctime: time(v[ctime]),
      qnum: v[qnum],
      cbytes: v[cbytes],
      qbytes: null,
      lspid: v[lspid],
      lrpid: v[lrpid],
      stime: time(v[stime]),
      rtime: time(v[rtime]),
    });
  }
  return out;
}

export function readSegments(root = PROC_SYSVIPC): SegmentInfo[] {
  const t = new ProcRows(readProc(`${root}/shm`), 'perms');
  const [id, key, mode, uid, gid, cuid, cgid, ctime] = permColumns(t, SOURCES.shm.idColumn);
  const [size, nattch, cpid, lpid, atime, dtime, rss, swap] = columns(t, 'size', 'nattch', 'cpid', 'lpid', 'atime', 'dtime', 'rss', 'swap');
  const v = t.values;
  const out: SegmentInfo[] = [];
  while (t.next()) {
    out.push({
      kind: 'shm',
      id: v[id],
      key: v[key] | 0,
      mode: v[mode],
      uid: v[uid],
      gid: v[gid],
      cuid: v[cuid],
      cgid: v[cgid],
      ctime: time(v[ctime]),
      size: v[size],
      nattch: v[nattch],
      cpid: v[cpid],
      lpid: v[lpid],
      atime: time(v[atime]),
      dtime: time(v[dtime]),
      rss: v[rss],
      swap: v[swap],
    });
  }
  return out;
}

export function readSemSets(root = PROC_SYSVIPC): SemSetInfo[] {
  const t = new ProcRows(readProc(`${root}/sem`), 'perms');
  const [id, key, mode, uid, gid, cuid, cgid, ctime] = permColumns(t, SOURCES.sem.idColumn);
  const [nsems, otime] = columns(t, 'nsems', 'otime');
  const v = t.values;
  const out: SemSetInfo[] = [];
  while (t.next()) {
    out.push({
      kind: 'sem',
      id: v[id],
      key: v[key] | 0,
      mode: v[mode],
      uid: v[uid],
      gid: v[gid],
      cuid: v[cuid],
      cgid: v[cgid],
      ctime: time(v[ctime]),
      nsems: v[nsems],
      otime: time(v[otime]),
    });
  }
  return out;
}

/** Where each named column is in the row's values. */
function columns(t: ProcRows, ...names: string[]): number[] {
  return names.map((n) => t.index(n));
}

/** Where the ipc_perm columns are (key_t is signed, so each reader takes the key as `| 0`; the mode is parsed as octal). */
function permColumns(t: ProcRows, idColumn: string): number[] {
  return columns(t, idColumn, 'key', 'perms', 'uid', 'gid', 'cuid', 'cgid', 'ctime');
}

const readers: Record<Kind, (root?: string) => IpcObject[]> = { msgq: readQueues, shm: readSegments, sem: readSemSets };

/** Every object of the given kinds, kind by kind, each sorted by id. */
export function readObjects(kinds: readonly Kind[] = KINDS, root = PROC_SYSVIPC): IpcObject[] {
  const all: IpcObject[] = [];
  for (const k of kinds) {
    const objects = readers[k](root);
    if (!sortedById(objects)) objects.sort((a, b) => a.id - b.id);
    for (const o of objects) all.push(o);
  }
  return all;
}

/**
 * /proc lists objects by slot, which is id order until a slot is reused.
 * Checking first is cheap; the sort's comparator calls into JS once per
 * comparison even on sorted input, a millisecond for a few thousand objects.
 */
function sortedById(objects: readonly IpcObject[]): boolean {
  for (let i = 1; i < objects.length; i++) if (objects[i - 1]!.id > objects[i]!.id) return false;
  return true;
}

/**
 * A /proc/sys/kernel value as exact integers. bigint because shmall and
 * shmmax default to nearly 2^64, beyond what a double holds exactly.
 */
export function readKernelValues(name: string, root = '/proc/sys/kernel'): bigint[] {
  const text = readProc(`${root}/${name}`).trim();
  return text === '' ? [] : text.split(/\s+/).map((v) => BigInt(v));
}

export interface KernelLimits {
  msgmax: bigint;
  msgmnb: bigint;
  msgmni: bigint;
  shmmax: bigint;
  shmall: bigint;
  shmmni: bigint;
  semmsl: bigint;
  semmns: bigint;
  semopm: bigint;
  semmni: bigint;
  /** SEMVMX, the largest value of a semaphore: fixed in the kernel (<linux/sem.h>), no sysctl. */
  semvmx: bigint;
}

export function readKernelLimits(root = '/proc/sys/kernel'): KernelLimits {
  const one = (name: string) => readKernelValues(name, root)[0] ?? 0n;
  // /proc/sys/kernel/sem is "SEMMSL SEMMNS SEMOPM SEMMNI", in that order (proc(5)).
  const [semmsl = 0n, semmns = 0n, semopm = 0n, semmni = 0n] = readKernelValues('sem', root);
  return {
    msgmax: one('msgmax'),
    msgmnb: one('msgmnb'),
    msgmni: one('msgmni'),
    shmmax: one('shmmax'),
    shmall: one('shmall'),
    shmmni: one('shmmni'),
    semmsl,
    semmns,
    semopm,
    semmni,
    semvmx: 32767n,
  };
}

let pageSizeCache: number | null = null;

/**
 * The kernel's page size, from AT_PAGESZ in /proc/self/auxv (pairs of
 * native-endian 64-bit words), without libc. shmall and ipcs -u count pages.
 */
export function pageSize(): number {
  if (pageSizeCache !== null) return pageSizeCache;
  const AT_PAGESZ = 6n;
  try {
    const auxv = readFileSync('/proc/self/auxv');
    const word = endianness() === 'LE' ? (at: number) => auxv.readBigUInt64LE(at) : (at: number) => auxv.readBigUInt64BE(at);
    for (let at = 0; at + 16 <= auxv.length; at += 16) {
      if (word(at) === AT_PAGESZ) return (pageSizeCache = Number(word(at + 8)));
    }
  } catch {
    /* fall through */
  }
  return (pageSizeCache = 4096);
}

/** Does a process with this pid exist (in our pid namespace)? */
export function processExists(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** CAP_SYS_ADMIN: lets IPC_RMID and IPC_SET act on objects of other users. */
export const CAP_SYS_ADMIN = 21;

/** Does this process hold capability `bit` (its effective set, /proc/self/status CapEff)? */
export function hasCapability(bit: number): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'latin1'));
    return m !== null && ((BigInt('0x' + m[1]) >> BigInt(bit)) & 1n) === 1n;
  } catch {
    return false;
  }
}
