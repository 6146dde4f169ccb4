// What each errno means for a POSIX object, chosen per kind on purpose (as
// posix_ipc does), and the hints a user can act on: who owns the object and
// with what mode (EACCES), which limit ran out and the sysctl or rlimit that
// raises it (ENOSPC, EMFILE, EMSGSIZE). Facts come from the object's file in
// /dev/mqueue or /dev/shm, so a hint never needs the permission that failed.
import { statSync } from 'node:fs';
import { EXIT, IpcError } from '../../errors.js';
import { userName } from '../users.js';
import { messageQueueRlimit, readMqueueLimits } from './limits.js';
import type { PosixKind } from './names.js';

const nouns: Record<PosixKind, string> = { pmq: 'queue', pshm: 'segment', psem: 'semaphore' };

/** The file behind a name, where Linux shows it. */
export function fileOf(kind: PosixKind, name: string): string {
  if (kind === 'pmq') return `/dev/mqueue${name}`;
  if (kind === 'pshm') return `/dev/shm${name}`;
  return `/dev/shm/sem.${name.slice(1)}`;
}

function ownerHint(kind: PosixKind, name: string): string | undefined {
  try {
    const st = statSync(fileOf(kind, name));
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    const me = process.getuid?.();
    return `${nouns[kind]} ${name} belongs to ${userName(st.uid)} (uid ${st.uid}), mode ${mode}${me === undefined ? '' : `; you are uid ${me}`}`;
  } catch {
    // Without an mqueue mount nothing shows a queue's owner.
    return kind === 'pmq' ? 'its owner and mode show in /dev/mqueue once mqueue is mounted there (mount -t mqueue none /dev/mqueue)' : undefined;
  }
}

function phrase(kind: PosixKind, code: string): { detail?: string; hint?: string; exitCode?: number } {
  const noun = nouns[kind];
  switch (code) {
    case 'ENOENT':
      return { detail: `no such ${noun}` };
    case 'EEXIST':
      return { detail: `a ${noun} with that name already exists`, hint: 'drop --exclusive to open it' };
    case 'EACCES':
      return { detail: 'permission denied' };
    case 'EPERM':
      return { detail: `not permitted: only the owner of the ${noun} or root may do this` };
    case 'ENAMETOOLONG':
      return { detail: 'the name is too long', exitCode: EXIT.USAGE };
    case 'ENFILE':
      return { detail: 'the system-wide limit of open files is reached', hint: 'see fs.file-max' };
    case 'ENOMEM':
      return { detail: 'out of memory' };
    case 'EINTR':
      return { detail: 'interrupted' };
    default:
      break;
  }
  if (kind === 'pmq') {
    const l = readMqueueLimits();
    switch (code) {
      case 'ENOSPC':
        return {
          detail: `too many queues: the system limit fs.mqueue.queues_max (${l.queues_max}) is reached`,
          hint: 'raise it with sysctl -w fs.mqueue.queues_max=N',
        };
      case 'EMFILE': {
        const rl = messageQueueRlimit();
        return {
          detail: `your message queues would pass RLIMIT_MSGQUEUE (${rl === null ? 'unlimited' : `${rl} bytes`}), or this process has too many open descriptors (RLIMIT_NOFILE)`,
          hint: 'see ulimit -q and ulimit -n; smaller --max-msgs or --msg-size need less',
        };
      }
      case 'EMSGSIZE':
        return { detail: "the message is larger than the queue's msgsize" };
      case 'EINVAL':
        return {
          detail: `--max-msgs must be 1 to fs.mqueue.msg_max (${l.msg_max}) and --msg-size 1 to fs.mqueue.msgsize_max (${l.msgsize_max})`,
          hint: 'raise them with sysctl, or run with CAP_SYS_RESOURCE',
          exitCode: EXIT.FAILED,
        };
      case 'EBADF':
        return { detail: 'the queue is not open for this' };
      default:
        return {};
    }
  }
  if (kind === 'pshm') {
    if (code === 'EINVAL') return { detail: 'invalid size or offset', exitCode: EXIT.FAILED };
    if (code === 'EFBIG') return { detail: 'size too large for /dev/shm', exitCode: EXIT.FAILED };
    if (code === 'ENOSPC') return { detail: 'no space left in /dev/shm', hint: 'df /dev/shm', exitCode: EXIT.FAILED };
    if (code === 'ENODEV') return { detail: '/dev/shm cannot be mapped' };
    return {};
  }
  if (code === 'EINVAL') return { detail: `the value is above SEM_VALUE_MAX`, exitCode: EXIT.FAILED };
  if (code === 'EOVERFLOW') return { detail: 'the value would pass SEM_VALUE_MAX (2147483647)' };
  if (code === 'ENOSPC') return { detail: 'no space left in /dev/shm', exitCode: EXIT.FAILED };
  return {};
}

/** Rethrow a native IpcError as `op name: CODE, meaning (hint)`. */
export function relabelPosix(kind: PosixKind, err: unknown, op: string, name: string): never {
  if (err instanceof IpcError) {
    const p = phrase(kind, err.code);
    const hint = err.code === 'EACCES' || err.code === 'EPERM' ? ownerHint(kind, name) : p.hint;
    throw new IpcError(err.errno, op, name, { detail: p.detail, hint, exitCode: p.exitCode });
  }
  throw err;
}
