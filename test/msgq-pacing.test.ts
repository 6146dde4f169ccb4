// How a waiting message stream paces itself (src/native/c/msg_batch.c,
// "Ping-pong on one CPU"): when both ends of a small queue share one CPU,
// each wake-up would preempt the other end, so the waiting loop's thread
// runs as SCHED_BATCH while that goes on, and goes back to SCHED_OTHER
// before the loop returns (and its thread, the stream's own, ends with the
// stream).
// A batch process outlives its transfer, so its threads can be looked at
// during it and after it.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { batchInBackground, IPCCTL, newQueue, run } from './helpers/run.js';

const SCHED_OTHER = 0;
const SCHED_BATCH = 3;

/** Scheduling policy of every thread of `pid` (field 41 of /proc/PID/task/TID/stat). */
function policies(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Fields after the command name (which may hold blanks) start at field 3.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push(Number(fields[41 - 3]));
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return out;
}

const hasTaskset = run('taskset', ['-c', '0', 'true']).code === 0;

describe.skipIf(!hasTaskset)('pacing of a waiting stream (C helper)', () => {
  // Retried: on a machine busy enough that CPU 0 is shared with other work, the
  // waits are long and the loop rightly never turns SCHED_BATCH.
  it(
    'both ends on one CPU: the waiting thread turns SCHED_BATCH during the transfer and is SCHED_OTHER after it; every message arrives once, in order',
    { timeout: 90_000, retry: 2 },
    async () => {
      const id = newQueue();
      const n = 20_000;
      const lines = Array.from({ length: n }, (_, i) => `${i} ${'y'.repeat(90)}`);
      const input = lines.join('\n') + '\n';
      const { child: batch, firstReply: replied, exited } = batchInBackground(['taskset', '-c', '0', IPCCTL]);
      try {
        batch.stdin.write(`msgq recv ${id} --count ${n} --timeout 60s\n`);
        const sender = spawn('taskset', ['-c', '0', IPCCTL, 'msgq', 'send', String(id), '--lines', '--timeout', '60s'], { stdio: ['pipe', 'ignore', 'pipe'] });
        const sent = new Promise<number | null>((resolve) => sender.on('exit', resolve));
        sender.stdin.end(input);
        const seen = new Set<number>();
        let done = false;
        void replied.then(() => (done = true));
        while (!done) {
          for (const p of policies(batch.pid!)) seen.add(p);
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        expect(await sent).toBe(0);
        const [code, out] = (await replied).trimEnd().split('|');
        expect(code).toBe('0');
        // The reply escapes each newline as \n (two characters).
        expect(out!.split('\\n').slice(0, -1)).toEqual(lines);
        expect(seen.has(SCHED_BATCH)).toBe(true);
        expect(policies(batch.pid!).every((p) => p === SCHED_OTHER)).toBe(true);
      } finally {
        batch.stdin.end();
        expect(await exited).toBe(0);
      }
    },
  );
});
