// How much of each system-wide limit is in use (like `lsipc --global`) and
// the totals `ipcs -u` prints, computed from the objects and the limits that
// procfs.ts read. No I/O here.
import type { IpcObject, Kind, KernelLimits } from './procfs.js';

export type LimitName = keyof KernelLimits;

export interface LimitRow {
  name: LimitName;
  kind: Kind;
  description: string;
  /** Exact: shmall and shmmax may exceed 2^53. */
  limit: bigint;
  /** What counts against the limit now; null when nothing system-wide does. */
  used: number | null;
  /** used / limit in percent, 2 decimals; null with used. */
  percent: number | null;
  /** What the limit counts, for the human view. */
  unit: 'bytes' | 'pages' | 'count';
}

const ROWS: Array<{ name: LimitName; kind: Kind; description: string; unit: LimitRow['unit'] }> = [
  { name: 'msgmni', kind: 'msgq', description: 'number of message queues', unit: 'count' },
  { name: 'msgmax', kind: 'msgq', description: 'max size of a message (bytes)', unit: 'bytes' },
  { name: 'msgmnb', kind: 'msgq', description: 'default max size of a queue (bytes)', unit: 'bytes' },
  { name: 'shmmni', kind: 'shm', description: 'number of shared memory segments', unit: 'count' },
  { name: 'shmall', kind: 'shm', description: 'shared memory in all segments (pages)', unit: 'pages' },
  { name: 'shmmax', kind: 'shm', description: 'max size of a segment (bytes)', unit: 'bytes' },
  { name: 'semmni', kind: 'sem', description: 'number of semaphore sets', unit: 'count' },
  { name: 'semmns', kind: 'sem', description: 'semaphores in all sets', unit: 'count' },
  { name: 'semmsl', kind: 'sem', description: 'max semaphores per set', unit: 'count' },
  { name: 'semopm', kind: 'sem', description: 'max operations per semop call', unit: 'count' },
  { name: 'semvmx', kind: 'sem', description: 'max value of a semaphore', unit: 'count' },
];

export interface Summary {
  msgq: { queues: number; messages: number; bytes: number };
  /** pages: allocated (each segment rounded up to whole pages, as the kernel counts). */
  shm: { segments: number; pages: number; resident: number; swapped: number };
  sem: { sets: number; semaphores: number };
}

export function summarize(objects: readonly IpcObject[], pageSize: number): Summary {
  const s: Summary = {
    msgq: { queues: 0, messages: 0, bytes: 0 },
    shm: { segments: 0, pages: 0, resident: 0, swapped: 0 },
    sem: { sets: 0, semaphores: 0 },
  };
  for (const o of objects) {
    if (o.kind === 'msgq') {
      s.msgq.queues++;
      s.msgq.messages += o.qnum;
      s.msgq.bytes += o.cbytes;
    } else if (o.kind === 'shm') {
      s.shm.segments++;
      s.shm.pages += Math.ceil(o.size / pageSize);
      s.shm.resident += Math.round(o.rss / pageSize);
      s.shm.swapped += Math.round(o.swap / pageSize);
    } else {
      s.sem.sets++;
      s.sem.semaphores += o.nsems;
    }
  }
  return s;
}

function percent(used: number, limit: bigint): number {
  if (limit === 0n) return 0;
  return Math.round((used / Number(limit)) * 10000) / 100;
}

/** One row per limit; `used` only where the kernel counts system-wide use. */
export function limitRows(limits: KernelLimits, summary: Summary, kinds: readonly Kind[]): LimitRow[] {
  const used: Partial<Record<LimitName, number>> = {
    msgmni: summary.msgq.queues,
    shmmni: summary.shm.segments,
    shmall: summary.shm.pages,
    semmni: summary.sem.sets,
    semmns: summary.sem.semaphores,
  };
  return ROWS.filter((r) => kinds.includes(r.kind)).map((r) => {
    const u = used[r.name];
    const limit = limits[r.name];
    return { ...r, limit, used: u ?? null, percent: u === undefined ? null : percent(u, limit) };
  });
}
