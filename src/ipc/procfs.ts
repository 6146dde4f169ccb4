// What exists, read from /proc: /proc/sysvipc/{msg,shm,sem} for the objects
// and /proc/sys/kernel for the limits. This module only gathers facts; every
// view (tables, JSON, summaries, filters) is built elsewhere from them. It
// must never import the native layer: `ipcctl ls` runs without ffi-rs.
//
// /proc/sysvipc prints one header line naming the columns and one line per
// object. Columns are found by their header names, not by position (the
// kernel appended rss/swap to shm once, and may append again). The key is
// printed as a signed decimal (key_t is an int), the mode in octal.
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { OperationError } from '../errors.js';

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

function readProc(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    const why = code === 'ENOENT' ? 'System V IPC is not available here (no /proc/sysvipc)' : 'cannot read it';
    throw new OperationError(`ls ${path}: ${code}, ${why}`);
  }
}

/** One /proc/sysvipc file as rows of named numeric fields. */
export function parseTable(text: string): Array<Record<string, number>> {
  const lines = text.split('\n');
  const names = (lines[0] ?? '').trim().split(/\s+/);
  const rows: Array<Record<string, number>> = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const cells = line.trim().split(/\s+/);
    const row: Record<string, number> = {};
    for (let c = 0; c < names.length && c < cells.length; c++) {
      // perms is octal; everything else decimal.
      row[names[c]!] = names[c] === 'perms' ? parseInt(cells[c]!, 8) : Number(cells[c]);
    }
    rows.push(row);
  }
  return rows;
}

const never = (t: number | undefined): number | null => (t === undefined || t === 0 ? null : t);

function base(kind: Kind, r: Record<string, number>): ObjectBase {
  return {
    kind,
    id: r[SOURCES[kind].idColumn] ?? -1,
    key: (r.key ?? 0) | 0,
    mode: r.perms ?? 0,
    uid: r.uid ?? 0,
    gid: r.gid ?? 0,
    cuid: r.cuid ?? 0,
    cgid: r.cgid ?? 0,
    ctime: never(r.ctime),
  };
}

export function readQueues(root = PROC_SYSVIPC): QueueInfo[] {
  return parseTable(readProc(`${root}/msg`)).map((r) => ({
    ...base('msgq', r),
    kind: 'msgq' as const,
    qnum: r.qnum ?? 0,
    cbytes: r.cbytes ?? 0,
    qbytes: null,
    lspid: r.lspid ?? 0,
    lrpid: r.lrpid ?? 0,
    stime: never(r.stime),
    rtime: never(r.rtime),
  }));
}

export function readSegments(root = PROC_SYSVIPC): SegmentInfo[] {
  return parseTable(readProc(`${root}/shm`)).map((r) => ({
    ...base('shm', r),
    kind: 'shm' as const,
    size: r.size ?? 0,
    nattch: r.nattch ?? 0,
    cpid: r.cpid ?? 0,
    lpid: r.lpid ?? 0,
    atime: never(r.atime),
    dtime: never(r.dtime),
    rss: r.rss ?? 0,
    swap: r.swap ?? 0,
  }));
}

export function readSemSets(root = PROC_SYSVIPC): SemSetInfo[] {
  return parseTable(readProc(`${root}/sem`)).map((r) => ({
    ...base('sem', r),
    kind: 'sem' as const,
    nsems: r.nsems ?? 0,
    otime: never(r.otime),
  }));
}

const readers: Record<Kind, (root?: string) => IpcObject[]> = { msgq: readQueues, shm: readSegments, sem: readSemSets };

/** Every object of the given kinds, kind by kind, each sorted by id. */
export function readObjects(kinds: readonly Kind[] = KINDS, root = PROC_SYSVIPC): IpcObject[] {
  return kinds.flatMap((k) => readers[k](root).sort((a, b) => a.id - b.id));
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
