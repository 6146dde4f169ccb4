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

/**
 * The lines of one /proc/sysvipc file, split into cells, and where each
 * named column is. Rows are kept as string cells and converted field by
 * field into fixed-shape objects: with 2,000 objects, building a generic
 * name->value record per row cost several times more than all the rest.
 */
interface ProcTable {
  rows: string[][];
  /** Column name -> cell index; a column this kernel lacks is absent. */
  at: Record<string, number | undefined>;
}

export function parseTable(text: string): ProcTable {
  const lines = text.split('\n');
  const at: Record<string, number> = {};
  (lines[0] ?? '').trim().split(/\s+/).forEach((name, i) => (at[name] = i));
  const rows: string[][] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line !== '') rows.push(line.split(/\s+/));
  }
  return { rows, at };
}

/** A numeric cell (0 when the column is missing). */
function cell(row: string[], i: number | undefined): number {
  return i === undefined ? 0 : Number(row[i]);
}

/** A time cell: 0 means never. */
function timeCell(row: string[], i: number | undefined): number | null {
  const t = cell(row, i);
  return t === 0 || Number.isNaN(t) ? null : t;
}

/** The ipc_perm columns every file has, located once per file. */
function permColumns(t: ProcTable, idColumn: string) {
  const a = t.at;
  return { id: a[idColumn], key: a.key, perms: a.perms, uid: a.uid, gid: a.gid, cuid: a.cuid, cgid: a.cgid, ctime: a.ctime };
}

/** The ipc_perm fields of one row (key_t is signed; /proc prints it so). */
function permFields(r: string[], p: ReturnType<typeof permColumns>) {
  return {
    id: cell(r, p.id),
    key: cell(r, p.key) | 0,
    mode: p.perms === undefined ? 0 : parseInt(r[p.perms]!, 8),
    uid: cell(r, p.uid),
    gid: cell(r, p.gid),
    cuid: cell(r, p.cuid),
    cgid: cell(r, p.cgid),
    ctime: timeCell(r, p.ctime),
  };
}

export function readQueues(root = PROC_SYSVIPC): QueueInfo[] {
  const t = parseTable(readProc(`${root}/msg`));
  const p = permColumns(t, SOURCES.msgq.idColumn);
  const { qnum, cbytes, lspid, lrpid, stime, rtime } = t.at;
  return t.rows.map((r) => ({
    kind: 'msgq' as const,
    ...permFields(r, p),
    qnum: cell(r, qnum),
    cbytes: cell(r, cbytes),
    qbytes: null,
    lspid: cell(r, lspid),
    lrpid: cell(r, lrpid),
    stime: timeCell(r, stime),
    rtime: timeCell(r, rtime),
  }));
}

export function readSegments(root = PROC_SYSVIPC): SegmentInfo[] {
  const t = parseTable(readProc(`${root}/shm`));
  const p = permColumns(t, SOURCES.shm.idColumn);
  const { size, nattch, cpid, lpid, atime, dtime, rss, swap } = t.at;
  return t.rows.map((r) => ({
    kind: 'shm' as const,
    ...permFields(r, p),
    size: cell(r, size),
    nattch: cell(r, nattch),
    cpid: cell(r, cpid),
    lpid: cell(r, lpid),
    atime: timeCell(r, atime),
    dtime: timeCell(r, dtime),
    rss: cell(r, rss),
    swap: cell(r, swap),
  }));
}

export function readSemSets(root = PROC_SYSVIPC): SemSetInfo[] {
  const t = parseTable(readProc(`${root}/sem`));
  const p = permColumns(t, SOURCES.sem.idColumn);
  const { nsems, otime } = t.at;
  return t.rows.map((r) => ({
    kind: 'sem' as const,
    ...permFields(r, p),
    nsems: cell(r, nsems),
    otime: timeCell(r, otime),
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
