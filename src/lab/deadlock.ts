// deadlock: process A takes semaphore 1 then 2, process B takes 2 then 1.
// To make the bad interleaving certain rather than likely, each takes its
// first semaphore and then waits at a barrier (a third semaphore) until the
// other holds its first too; only then does each ask for its second. Both
// block for ever: the lab sees it (semncnt of both is 1, the values 0, and
// nothing changes for --timeout), reports who holds what, kills both by pid
// and removes the set. With --atomic each takes both in ONE semop, which the
// kernel applies all or nothing: one waits for the other, both finish.
//
// In the set, semaphore "1" of the lesson is #0 and "2" is #1; #2 is the barrier.
import { RepeatedOps } from '../ipc/sysv/sem-repeat.js';
import { formatMs } from '../ipc/wait.js';
import { type LabResult, type LabRun, type WorkerContext, seconds } from './runner.js';

export interface DeadlockOptions {
  atomic: boolean;
  timeoutMs: number;
}

const BARRIER = 2;
/** How long a process holds both semaphores once it has them. */
const HOLD_MS = 50;

interface Args {
  sem: number;
  /** Semaphores in the order this process takes them. */
  order: [number, number];
  atomic: boolean;
}

async function taker(ctx: WorkerContext<Args>): Promise<{ finished: true }> {
  const { sem, order, atomic } = ctx.args;
  const take = (nums: number[]) =>
    new RepeatedOps(
      sem,
      nums.map((num) => ({ num, op: -1 })),
      { undo: true },
    );
  const give = new RepeatedOps(
    sem,
    order.map((num) => ({ num, op: 1 })),
    { undo: true },
  );
  const arrive = new RepeatedOps(sem, [{ num: BARRIER, op: -1 }], { undo: false });
  const allThere = new RepeatedOps(sem, [{ num: BARRIER, op: 0 }], { undo: false });
  if (atomic) {
    await arrive.apply();
    await allThere.apply();
    await take(order).apply();
    ctx.note(`has #${order[0]} and #${order[1]} (one semop, both at once)`);
  } else {
    await take([order[0]]).apply();
    ctx.note(`has #${order[0]}; waits at the barrier for the other`);
    await arrive.apply();
    await allThere.apply();
    ctx.note(`asks for #${order[1]}`);
    await take([order[1]]).apply();
    ctx.note(`has #${order[0]} and #${order[1]}`);
  }
  await new Promise((r) => setTimeout(r, HOLD_MS));
  give.tryNow();
  ctx.note('released both');
  return { finished: true };
}

export const roles = { taker };

export async function run(lab: LabRun, opts: DeadlockOptions): Promise<LabResult> {
  const { atomic, timeoutMs } = opts;
  lab.say(
    atomic
      ? 'A and B each take semaphores #0 and #1 in ONE semop (all or nothing)'
      : 'A takes semaphore #0 then #1; B takes #1 then #0; a barrier makes each hold its first before asking for its second',
    'step',
  );
  const sem = await lab.semaphores([1, 1, 2]);
  lab.say(`semaphore set ${sem.id}: #0 = 1 and #1 = 1 (free), #2 = 2 (the barrier)`);
  const start = Date.now();
  const a = lab.spawn('taker', { sem: sem.id, order: [0, 1], atomic } satisfies Args, 'A');
  const b = lab.spawn('taker', { sem: sem.id, order: [1, 0], atomic } satisfies Args, 'B');
  let finished = 0;
  for (const c of [a, b])
    void c.result.then(
      () => finished++,
      () => {},
    );

  // Both blocked: each of #0 and #1 has a waiter and neither is free.
  const bothBlocked = () => {
    const d = sem.details('lab deadlock');
    return d[0]!.ncnt >= 1 && d[1]!.ncnt >= 1 && d[0]!.value === 0 && d[1]!.value === 0;
  };
  let deadlocked = false;
  while (finished < 2) {
    if (!(await lab.until(() => finished === 2 || bothBlocked(), { everyMs: 5 }))) break;
    if (finished === 2) break;
    const since = Date.now();
    lab.say(`both are blocked: semncnt of #0 and #1 is 1 each, both values 0; waiting ${formatMs(timeoutMs)} to see if it resolves`, 'step');
    // Still blocked after the timeout, with no change in between: deadlock.
    const resolved = await lab.until(() => finished === 2 || !bothBlocked(), { timeoutMs, everyMs: 10 });
    if (!resolved) {
      deadlocked = true;
      const holder0 = sem.get('pid', 0) === a.pid ? 'A' : 'B';
      const holder1 = sem.get('pid', 1) === a.pid ? 'A' : 'B';
      lab.say(
        `DEADLOCK after ${Date.now() - since} ms blocked: ${holder0} (pid ${holder0 === 'A' ? a.pid : b.pid}) holds #0 and waits for #1; ${holder1} (pid ${holder1 === 'A' ? a.pid : b.pid}) holds #1 and waits for #0`,
        'bad',
      );
      a.kill();
      b.kill();
      await Promise.all([a.gone(2000), b.gone(2000)]);
      lab.say(`killed A and B; SEM_UNDO gave back what they held: values now ${sem.getAll().join(' ')}`, 'step');
      break;
    }
  }
  const elapsedMs = Date.now() - start;
  if (!deadlocked) lab.say('both finished', 'good');
  const ok = deadlocked === !atomic;
  let verdict: string;
  if (atomic) verdict = ok ? 'taking both semaphores in one semop cannot deadlock: both finished' : 'the atomic run deadlocked: that should never happen';
  else
    verdict = ok
      ? 'each held one semaphore and waited for the other: a deadlock (hold and wait, circular wait); --atomic avoids it'
      : 'no deadlock happened, though the barrier should force one';
  return { lab: 'deadlock', ok, verdict, seconds: seconds(elapsedMs), deadlocked, atomic, timeout: timeoutMs / 1000 };
}
