// What a process we started is doing, read from /proc.
import { readdirSync, readFileSync } from 'node:fs';
import { waitFor } from './wait.js';

/**
 * msgrcv's number in /proc/PID/task/TID/syscall, per architecture: x86-64
 * has its own table; arm64, riscv64 and loongarch64 use the generic one
 * (asm-generic/unistd.h). Elsewhere the tests that need it say so and fail.
 */
const MSGRCV_BY_ARCH: Partial<Record<NodeJS.Architecture, number>> = { x64: 70, arm64: 188, riscv64: 188, loong64: 188 };

function msgrcvNumber(): number {
  const nr = MSGRCV_BY_ARCH[process.arch];
  if (nr === undefined) throw new Error(`msgrcv's system call number on ${process.arch} is not known to test/helpers/proc.ts`);
  return nr;
}

/** Resolve once some thread of `pid` sits in msgrcv(2): the command is really waiting. */
export async function waitUntilInMsgrcv(pid: number): Promise<void> {
  const SYS_msgrcv = msgrcvNumber();
  await waitFor(
    `process ${pid} to block in msgrcv`,
    () => readdirSync(`/proc/${pid}/task`).some((tid) => Number(readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8').split(' ')[0]) === SYS_msgrcv),
    { timeoutMs: 10_000 },
  );
}

/**
 * Resolve once `pid` has `library` mapped and its main thread sleeps in the
 * kernel function `wchan` (default: epoll_wait, its event loop; a command
 * that polls sleeps there between two tries; /futex/ for one that sleeps
 * synchronously through Atomics.wait): it has loaded what it needs and waits.
 */
export async function waitUntilIdleWith(pid: number, library: string, wchan: RegExp = /^do_epoll_wait$/): Promise<void> {
  await waitFor(`process ${pid} to map ${library} and sleep in ${wchan.source}`, () => {
    if (!readFileSync(`/proc/${pid}/maps`, 'utf8').includes(library)) return false;
    return wchan.test(readFileSync(`/proc/${pid}/wchan`, 'utf8'));
  });
}
