// The POSIX rows of `ls --limits`: the mqueue sysctls (mq_overview(7)) and
// RLIMIT_MSGQUEUE, with what counts against them where Linux lets us see it.
// Same row shape as the System V rows of usage.ts, so one table shows both.
import type { PosixQueueInfo } from './listing.js';
import { messageQueueRlimit, type MqueueLimits, rlimitCharge } from './limits.js';
import type { PosixKind } from './names.js';

export interface PosixLimitRow {
  name: string;
  kind: PosixKind;
  description: string;
  limit: bigint | null;
  used: number | null;
  percent: number | null;
  unit: 'bytes' | 'count';
}

function percent(used: number | null, limit: bigint | null): number | null {
  if (used === null || limit === null) return null;
  if (limit === 0n) return 0;
  return Math.round((used / Number(limit)) * 10000) / 100;
}

/**
 * `queues` is null when /dev/mqueue is not mounted (nothing is counted
 * then). The RLIMIT_MSGQUEUE use is the kernel's charge for the queues this
 * user owns, and needs each queue's attributes (queue-counts.ts): null when
 * they were not read.
 */
export function posixLimitRows(l: MqueueLimits, queues: readonly PosixQueueInfo[] | null, kinds: readonly PosixKind[]): PosixLimitRow[] {
  if (!kinds.includes('pmq')) return [];
  const me = process.getuid?.() ?? -1;
  const mine = queues?.filter((q) => q.uid === me) ?? null;
  const charged = mine && mine.every((q) => q.maxmsg !== null) ? mine.reduce((sum, q) => sum + rlimitCharge(q.maxmsg!, q.msgsize!), 0) : null;
  const maxMsgs = queues && queues.length > 0 && queues.every((q) => q.msgs !== null) ? Math.max(...queues.map((q) => q.msgs!)) : null;
  const rl = messageQueueRlimit();
  const rows: Array<Omit<PosixLimitRow, 'percent'>> = [
    {
      name: 'queues_max',
      kind: 'pmq',
      description: 'number of POSIX message queues',
      limit: BigInt(l.queues_max),
      used: queues?.length ?? null,
      unit: 'count',
    },
    { name: 'msg_max', kind: 'pmq', description: 'max messages in a POSIX queue', limit: BigInt(l.msg_max), used: maxMsgs, unit: 'count' },
    { name: 'msgsize_max', kind: 'pmq', description: 'max size of a POSIX message (bytes)', limit: BigInt(l.msgsize_max), used: null, unit: 'bytes' },
    { name: 'msg_default', kind: 'pmq', description: 'default max messages of a new queue', limit: BigInt(l.msg_default), used: null, unit: 'count' },
    {
      name: 'msgsize_default',
      kind: 'pmq',
      description: 'default message size of a new queue (bytes)',
      limit: BigInt(l.msgsize_default),
      used: null,
      unit: 'bytes',
    },
    {
      name: 'RLIMIT_MSGQUEUE',
      kind: 'pmq',
      description: 'bytes of POSIX queues per user (ulimit -q)',
      limit: rl === null ? null : BigInt(rl),
      used: charged,
      unit: 'bytes',
    },
  ];
  return rows.map((r) => ({ ...r, percent: percent(r.used, r.limit) }));
}
