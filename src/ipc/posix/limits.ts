// The limits of POSIX message queues (mq_overview(7)): the sysctls in
// /proc/sys/fs/mqueue and the per-user RLIMIT_MSGQUEUE from /proc/self/limits.
// Plain file reads: `ipcctl ls --limits` shows them without libc.
import { readFileSync } from 'node:fs';

export interface MqueueLimits {
  queues_max: number;
  msg_max: number;
  msgsize_max: number;
  msg_default: number;
  msgsize_default: number;
}

export const MQUEUE_SYSCTL = '/proc/sys/fs/mqueue';

/** Priorities are 0 .. MQ_PRIO_MAX - 1 (sysconf(_SC_MQ_PRIO_MAX) is 32768 on Linux). */
export const MQ_PRIO_MAX = 32768;

function one(name: string, fallback: number, root: string): number {
  try {
    const n = Number(readFileSync(`${root}/${name}`, 'latin1').trim());
    return Number.isFinite(n) ? n : fallback;
  } catch {
    return fallback;
  }
}

/** Linux's defaults (3.5 and later) stand in where a file cannot be read. */
export function readMqueueLimits(root = MQUEUE_SYSCTL): MqueueLimits {
  return {
    queues_max: one('queues_max', 256, root),
    msg_max: one('msg_max', 10, root),
    msgsize_max: one('msgsize_max', 8192, root),
    msg_default: one('msg_default', 10, root),
    msgsize_default: one('msgsize_default', 8192, root),
  };
}

/**
 * RLIMIT_MSGQUEUE of this process (soft limit, bytes): the "Max msgqueue
 * size" line of /proc/self/limits. null for unlimited or unreadable.
 */
export function messageQueueRlimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'latin1')
      .split('\n')
      .find((l) => l.startsWith('Max msgqueue size'));
    const soft = line?.slice('Max msgqueue size'.length).trim().split(/\s+/)[0];
    return soft === undefined || soft === 'unlimited' ? null : Number(soft);
  } catch {
    return null;
  }
}

// The kernel's charge against RLIMIT_MSGQUEUE for one queue (ipc/mqueue.c,
// mqueue_get_inode): one struct msg_msg pointer tree node per message slot
// plus the payload space. sizeof(struct msg_msg) and of the tree node on
// 64-bit kernels.
const MSG_MSG_SIZE = 48;
const TREE_NODE_SIZE = 48;

/** Bytes a queue of maxmsg × msgsize counts against its creator's RLIMIT_MSGQUEUE. */
export function rlimitCharge(maxmsg: number, msgsize: number): number {
  return maxmsg * MSG_MSG_SIZE + Math.min(maxmsg, MQ_PRIO_MAX) * TREE_NODE_SIZE + maxmsg * msgsize;
}
