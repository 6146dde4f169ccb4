// heartbeat: a monitor checks that its workers are alive. Each worker has
// two semaphores: an event the monitor raises ("are you there?") and a reply
// the worker raises in answer. The monitor (the lab process itself) raises
// every event, then waits up to the response time for each reply; a worker
// that does not answer in time is declared unhealthy. With --stall N,
// worker N answers the first round, then stops answering (it stays alive:
// a hung worker, not a dead one, which is what a heartbeat is for).
//
// Semaphores of the set: #2i is worker i's event, #2i+1 its reply (i from 0).
import { RepeatedOps } from '../ipc/sysv/sem-repeat.js';
import { formatMs } from '../ipc/wait.js';
import { type LabResult, type LabRun, type WorkerContext, seconds } from './runner.js';

export interface HeartbeatOptions {
  workers: number;
  rounds: number;
  responseMs: number;
  /** Worker number (1-based) that stalls, or null. */
  stall: number | null;
}

const event = (i: number) => 2 * i;
const reply = (i: number) => 2 * i + 1;
/** Pause between rounds. */
const PERIOD_MS = 100;

async function worker(ctx: WorkerContext<{ sem: number; index: number; stallAfter: number | null }>): Promise<never> {
  const { sem, index, stallAfter } = ctx.args;
  const wait = new RepeatedOps(sem, [{ num: event(index), op: -1 }], { undo: false });
  const answer = new RepeatedOps(sem, [{ num: reply(index), op: 1 }], { undo: false });
  ctx.ready();
  for (let round = 1; ; round++) {
    if (stallAfter !== null && round > stallAfter) {
      ctx.note('stops answering (hangs, still alive)');
      // Hung: alive, but never looks at its event again. The lab kills it.
      await new Promise(() => {});
    }
    await wait.apply();
    answer.tryNow();
  }
}

export const roles = { worker };

export async function run(lab: LabRun, opts: HeartbeatOptions): Promise<LabResult> {
  const { workers, rounds, responseMs, stall } = opts;
  lab.say(
    `a monitor asks ${workers} worker${workers === 1 ? '' : 's'} for a heartbeat ${rounds} time${rounds === 1 ? '' : 's'}; each must answer within ${formatMs(responseMs)}${stall ? `; worker ${stall} will stall` : ''}`,
    'step',
  );
  const sem = await lab.semaphores(new Array<number>(2 * workers).fill(0));
  lab.say(`semaphore set ${sem.id}: for worker N, #2(N-1) is its event and #2(N-1)+1 its reply`);
  // A stalled worker answers round 1 when there is more than one round, so
  // the monitor sees it go from healthy to unhealthy.
  const stallAfter = rounds > 1 ? 1 : 0;
  const kids = Array.from({ length: workers }, (_, i) =>
    lab.spawn('worker', { sem: sem.id, index: i, stallAfter: stall === i + 1 ? stallAfter : null }, `worker ${i + 1}`),
  );
  await lab.wait(Promise.all(kids.map((k) => k.ready)));
  const firstRound = kids.map((_, i) => i).filter((i) => !(stall === i + 1 && stallAfter === 0));
  await lab.expect(() => firstRound.every((i) => sem.get('ncnt', event(i)) === 1), `all workers waiting on their event semaphore`, 30_000);
  lab.say(`all workers wait on their event semaphore (semncnt 1 each): pids ${kids.map((k) => k.pid).join(', ')}`);
  const start = Date.now();
  const raise = kids.map((_, i) => new RepeatedOps(sem.id, [{ num: event(i), op: 1 }], { undo: false }));
  const take = kids.map((_, i) => new RepeatedOps(sem.id, [{ num: reply(i), op: -1 }], { undo: false }));
  const unhealthy = new Set<number>();
  try {
    for (let round = 1; round <= rounds; round++) {
      if (round > 1) await lab.sleep(PERIOD_MS);
      const asked = Date.now();
      raise.forEach((r) => r.tryNow());
      const pending = new Set(kids.map((_, i) => i));
      await lab.until(
        () => {
          for (const i of pending) if (take[i]!.tryNow()) pending.delete(i);
          return pending.size === 0;
        },
        { timeoutMs: responseMs, everyMs: 2 },
      );
      const answered = workers - pending.size;
      lab.say(`round ${round}: ${answered} of ${workers} answered in ${Date.now() - asked} ms`, pending.size === 0 ? 'info' : 'step');
      for (const i of pending) {
        const backlog = sem.get('val', event(i));
        if (!unhealthy.has(i + 1))
          lab.say(
            `worker ${i + 1} (pid ${kids[i]!.pid}) did not answer within ${formatMs(responseMs)}: UNHEALTHY (its event semaphore is at ${backlog}: nobody takes it)`,
            'bad',
          );
        unhealthy.add(i + 1);
      }
    }
  } finally {
    for (const o of [...raise, ...take]) o.free();
  }
  const elapsedMs = Date.now() - start;
  const list = [...unhealthy].sort((a, b) => a - b);
  const expected = stall === null ? [] : [stall];
  const ok = list.length === expected.length && list.every((n, i) => n === expected[i]);
  const verdict = ok
    ? stall === null
      ? `every worker answered every heartbeat within ${formatMs(responseMs)}`
      : `exactly the stalled worker ${stall} was declared unhealthy; the others answered every heartbeat`
    : `unhealthy: ${list.length ? list.join(', ') : 'none'}; expected ${expected.length ? expected.join(', ') : 'none'} (a busy machine may need a longer --response-time)`;
  return { lab: 'heartbeat', ok, verdict, seconds: seconds(elapsedMs), unhealthy: list, workers, rounds, responseTime: responseMs / 1000, stall };
}
