// `ls --limits` (like lsipc --global): each system-wide limit, its use and
// the percentage, System V from /proc and RLIMIT_MSGQUEUE for POSIX queues.
import type { PosixLimitRow } from '../../ipc/posix/limit-rows.js';
import { pageSize, readKernelLimits, readObjects } from '../../ipc/sysv/procfs.js';
import type { LimitRow } from '../../ipc/sysv/usage.js';
import { renderRows, type RowsStyle } from '../../output/rows.js';
import type { Column } from '../../output/table.js';
import type { Kinds, Report } from './ls-report.js';

/** 16E, 8K: bytes with binary suffixes up to exbibytes, from an exact count. */
function humanLimitBytes(n: bigint): string {
  if (n < 1024n) return `${n}B`;
  const units = ['K', 'M', 'G', 'T', 'P', 'E'];
  let u = -1;
  let v = Number(n);
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? Number(v.toFixed(1)) : Math.round(v)}${units[u]}`;
}

type AnyLimitRow = Pick<LimitRow, 'description' | 'used' | 'percent'> & { name: string; limit: bigint | null; unit: LimitRow['unit'] };

const LIMIT_COLUMNS: Array<{ header: string; json: keyof AnyLimitRow; human: (r: AnyLimitRow, bytes: boolean) => string; align?: 'right' }> = [
  { header: 'RESOURCE', json: 'name', human: (r) => r.name },
  { header: 'DESCRIPTION', json: 'description', human: (r) => r.description },
  {
    header: 'LIMIT',
    json: 'limit',
    human: (r, bytes) => (r.limit === null ? 'unlimited' : r.unit === 'bytes' && !bytes ? humanLimitBytes(r.limit) : r.limit.toString()),
    align: 'right',
  },
  { header: 'USED', json: 'used', human: (r) => (r.used === null ? '-' : String(r.used)), align: 'right' },
  { header: 'USE%', json: 'percent', human: (r) => (r.percent === null ? '-' : `${r.percent.toFixed(2)}%`), align: 'right' },
];

export async function limitsReport(kinds: Kinds, opts: { bytes?: boolean }, style: RowsStyle): Promise<Report> {
  const { limitRows, summarize } = await import('../../ipc/sysv/usage.js');
  const { exactJson } = await import('../../output/exact-json.js');
  const posix = kinds.posix.includes('pmq') ? await import('../../ipc/posix/listing.js') : null;
  const posixRows = async (): Promise<PosixLimitRow[]> => {
    if (!posix) return [];
    const { posixLimitRows } = await import('../../ipc/posix/limit-rows.js');
    const { readMqueueLimits } = await import('../../ipc/posix/limits.js');
    const queues = posix.mqueueMounted() ? posix.readPosixQueues() : null;
    // The RLIMIT_MSGQUEUE use needs each queue's attributes (libc): only when pmq was named.
    if (queues && kinds.named && queues.length > 0) (await import('../../ipc/posix/queue-counts.js')).countMessages(queues);
    return posixLimitRows(readMqueueLimits(), queues, kinds.posix);
  };
  const extra = await posixRows();
  const rows = (): AnyLimitRow[] => [
    ...(kinds.sysv.length > 0 ? limitRows(readKernelLimits(), summarize(readObjects(kinds.sysv), pageSize()), kinds.sysv) : []),
    ...extra,
  ];
  const columns: Column<AnyLimitRow>[] = LIMIT_COLUMNS.map((c) => ({ header: c.header, value: (r) => c.human(r, Boolean(opts.bytes)), align: c.align }));
  return {
    json: () => ({ limits: rows().map((r) => Object.fromEntries(LIMIT_COLUMNS.map((c) => [c.json === 'name' ? 'resource' : c.json, r[c.json]]))) }),
    text: () => renderRows(rows(), columns, style),
    serialize: (v, indent) => exactJson(v, indent),
  };
}
