// race: N processes each add 100 to a counter in shared memory and subtract
// 100 again, many times. Each update is a plain read-modify-write on the
// segment (load, add, store): two processes that load the same value both
// store their own result, and one update is lost. With --lock a semaphore
// used as a binary semaphore (initial value 1, SEM_UNDO) makes each update
// whole, and the counter ends at 0.
//
// What "ok" means: with --lock, the counter ended at 0. Without it, the run
// showed the lesson, that is lost updates (the counter did not end at 0).
// A run in which, by chance, no update was lost is not ok: the race is still
// there, it just did not show; the verdict says so and suggests a bigger run.
import type { Attachment } from '../ipc/sysv/shm.js';
import { SharedMemory } from '../ipc/sysv/shm.js';
import { RepeatedOps } from '../ipc/sysv/sem-repeat.js';
import { type LabResult, type LabRun, type WorkerContext, seconds } from './runner.js';

export interface RaceOptions {
  processes: number;
  iterations: number;
  lock: boolean;
}

export const DEFAULT_ITERATIONS = 1_000_000;
export const DEFAULT_LOCKED_ITERATIONS = 2_000;

/** Semaphores of the set: the start gate, and the lock. */
const GATE = 0;
const LOCK = 1;

interface AdderArgs {
  shm: number;
  sem: number;
  iterations: number;
  lock: boolean;
}

/** The counter as an Int32Array over the attached segment (no copy). */
function counterIn(a: Attachment): Int32Array {
  const view = a.view(0, 4);
  return new Int32Array(view.buffer, view.byteOffset, 1);
}

// Atomics.load and Atomics.store only keep the JIT from merging or dropping
// accesses to the segment; the load-add-store SEQUENCE is still not atomic
// (Atomics.add would be), so the race is the real one.
function update(c: Int32Array, delta: number): void {
  const v = Atomics.load(c, 0);
  Atomics.store(c, 0, v + delta);
}

async function adder(ctx: WorkerContext<AdderArgs>): Promise<{ ms: number }> {
  const { shm, sem, iterations, lock } = ctx.args;
  const { attachment } = SharedMemory.fromId(shm).attach(false, 'lab race');
  try {
    const counter = counterIn(attachment);
    const gate = new RepeatedOps(sem, [{ num: GATE, op: -1 }], { undo: false });
    await gate.apply();
    const start = performance.now();
    if (lock) {
      const take = new RepeatedOps(sem, [{ num: LOCK, op: -1 }], { undo: true });
      const give = new RepeatedOps(sem, [{ num: LOCK, op: 1 }], { undo: true });
      for (let i = 0; i < iterations; i++) {
        await take.apply();
        update(counter, 100);
        give.tryNow();
        await take.apply();
        update(counter, -100);
        give.tryNow();
      }
    } else {
      for (let i = 0; i < iterations; i++) {
        update(counter, 100);
        update(counter, -100);
      }
    }
    return { ms: performance.now() - start };
  } finally {
    attachment.detach();
  }
}

export const roles = { adder };

export async function run(lab: LabRun, opts: RaceOptions): Promise<LabResult> {
  const { processes, iterations, lock } = opts;
  lab.say(
    `${processes} processes will each do "counter += 100; counter -= 100" ${iterations} times on one int in shared memory${lock ? ', each update inside a semaphore lock' : ', with no lock'}`,
    'step',
  );
  const shm = await lab.sharedMemory(4096);
  const sem = await lab.semaphores([0, 1]);
  lab.say(
    `shared memory ${shm.id} holds the counter, 0; semaphore set ${sem.id}: #0 is the start gate${lock ? ', #1 the lock (value 1: free; SEM_UNDO)' : ''}`,
  );
  const children = Array.from({ length: processes }, (_, i) =>
    lab.spawn('adder', { shm: shm.id, sem: sem.id, iterations, lock } satisfies AdderArgs, `process ${i + 1}`),
  );
  await lab.expect(() => sem.get('ncnt', GATE) === processes, `all ${processes} processes waiting at the start gate`, 30_000);
  lab.say(`all ${processes} wait at the gate (semncnt ${processes}); opening it so they run at the same time`, 'step');
  const start = Date.now();
  sem.setVal(GATE, processes);
  const results = (await lab.wait(Promise.all(children.map((c) => c.result)))) as Array<{ ms: number }>;
  const elapsedMs = Date.now() - start;
  const slowest = Math.max(...results.map((r) => r.ms));
  lab.say(`all finished; the slowest took ${Math.round(slowest)} ms`);
  const final = shm.withAttached(true, 'lab race', (a) => Atomics.load(counterIn(a), 0));
  lab.say(`counter = ${final}`, final === 0 ? 'good' : 'bad');
  const lost = Math.abs(final) / 100;
  let ok: boolean;
  let verdict: string;
  if (lock) {
    ok = final === 0;
    verdict = ok
      ? 'the lock made every read-modify-write whole: the counter is 0, as it must be'
      : `the counter is ${final} although every update held the lock: that should never happen`;
  } else if (final !== 0) {
    ok = true;
    verdict = `lost updates: the counter is ${final}, not 0. A process loaded the counter, another stored its update, and the first then stored a result computed from the stale value: at least ${lost} update${lost === 1 ? ' was' : 's were'} lost. Run again with --lock`;
  } else {
    ok = false;
    verdict = 'no update was lost this time, by chance; the race is still there (run again, or with more --iterations or --processes)';
  }
  return { lab: 'race', ok, verdict, seconds: seconds(elapsedMs), final, processes, iterations, lock, lost };
}
