// What a process we started is doing, read from /proc.
import { readdirSync, readFileSync } from 'node:fs';
import { sleep } from './run.js';

const SYS_msgrcv = 70; // x86_64

/** Resolve once some thread of `pid` sits in msgrcv(2): the command is really waiting. */
export async function waitUntilInMsgrcv(pid: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const nr = Number(readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8').split(' ')[0]);
        if (nr === SYS_msgrcv) return;
      }
    } catch {
      /* thread gone between readdir and read */
    }
    await sleep(25);
  }
  throw new Error(`process ${pid} never blocked in msgrcv`);
}

