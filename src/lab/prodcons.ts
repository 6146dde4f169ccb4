// prodcons: the bounded buffer. P producers and C consumers share a ring of
// B slots in shared memory, guarded by three semaphores: empty (free slots,
// starts at B), full (filled slots, starts at 0) and mutex (1, SEM_UNDO).
// A producer waits on empty, a consumer on full; the mutex keeps the ring
// indices whole. Every item must be consumed exactly once, and the items of
// one producer in the order it made them.
//
// Segment layout, Int32 words: [0] in, [1] out, [2] takes so far (the order
// in which items left the ring), then B slots of (producer, sequence).
// Producer 0 is the "stop" item the lab puts in once the producers are done.
import { SharedMemory } from '../ipc/sysv/shm.js';
import { RepeatedOps } from '../ipc/sysv/sem-repeat.js';
import { type LabResult, type LabRun, type WorkerContext, seconds } from './runner.js';

export interface ProdconsOptions {
  producers: number;
  consumers: number;
  buffer: number;
  items: number;
}

const EMPTY = 0;
const FULL = 1;
const MUTEX = 2;
const GATE = 3;

const IN = 0;
const OUT = 1;
const TAKES = 2;
const SLOTS = 3;

interface Args {
  shm: number;
  sem: number;
  buffer: number;
  producer?: number;
  items?: number;
}

/** The ring operations, shared by producers, consumers and the lab itself. */
class Ring {
  readonly words: Int32Array;
  readonly takeEmpty: RepeatedOps;
  readonly giveEmpty: RepeatedOps;
  readonly takeFull: RepeatedOps;
  readonly giveFull: RepeatedOps;
  readonly lock: RepeatedOps;
  readonly unlock: RepeatedOps;

  constructor(
    view: Buffer,
    sem: number,
    readonly size: number,
  ) {
    this.words = new Int32Array(view.buffer, view.byteOffset, SLOTS + 2 * size);
    this.takeEmpty = new RepeatedOps(sem, [{ num: EMPTY, op: -1 }], { undo: false });
    this.giveEmpty = new RepeatedOps(sem, [{ num: EMPTY, op: 1 }], { undo: false });
    this.takeFull = new RepeatedOps(sem, [{ num: FULL, op: -1 }], { undo: false });
    this.giveFull = new RepeatedOps(sem, [{ num: FULL, op: 1 }], { undo: false });
    this.lock = new RepeatedOps(sem, [{ num: MUTEX, op: -1 }], { undo: true });
    this.unlock = new RepeatedOps(sem, [{ num: MUTEX, op: 1 }], { undo: true });
  }

  /** Inside the mutex: put one item at `in`. */
  put(producer: number, seq: number): void {
    const w = this.words;
    const at = SLOTS + 2 * w[IN]!;
    Atomics.store(w, at, producer);
    Atomics.store(w, at + 1, seq);
    Atomics.store(w, IN, (w[IN]! + 1) % this.size);
  }

  /** Inside the mutex: take the item at `out`, with its take number. */
  take(): [producer: number, seq: number, take: number] {
    const w = this.words;
    const at = SLOTS + 2 * w[OUT]!;
    const item: [number, number, number] = [Atomics.load(w, at), Atomics.load(w, at + 1), Atomics.load(w, TAKES)];
    Atomics.store(w, TAKES, item[2] + 1);
    Atomics.store(w, OUT, (w[OUT]! + 1) % this.size);
    return item;
  }

  free(): void {
    for (const o of [this.takeEmpty, this.giveEmpty, this.takeFull, this.giveFull, this.lock, this.unlock]) o.free();
  }
}

function segmentSize(buffer: number): number {
  return 4 * (SLOTS + 2 * buffer);
}

async function withRing<T>(args: Args, fn: (ring: Ring) => Promise<T>): Promise<T> {
  const { attachment } = SharedMemory.fromId(args.shm).attach(false, 'lab prodcons');
  const ring = new Ring(attachment.view(0, segmentSize(args.buffer)), args.sem, args.buffer);
  try {
    const gate = new RepeatedOps(args.sem, [{ num: GATE, op: -1 }], { undo: false });
    await gate.apply();
    return await fn(ring);
  } finally {
    ring.free();
    attachment.detach();
  }
}

async function producer(ctx: WorkerContext<Args>): Promise<{ produced: number }> {
  const { producer: me = 1, items = 0 } = ctx.args;
  return withRing(ctx.args, async (ring) => {
    for (let seq = 0; seq < items; seq++) {
      await ring.takeEmpty.apply();
      await ring.lock.apply();
      ring.put(me, seq);
      ring.unlock.tryNow();
      ring.giveFull.tryNow();
    }
    return { produced: items };
  });
}

/** Returns what it took as flat triples: producer, sequence, take number. */
async function consumer(ctx: WorkerContext<Args>): Promise<{ taken: number[] }> {
  return withRing(ctx.args, async (ring) => {
    const taken: number[] = [];
    for (;;) {
      await ring.takeFull.apply();
      await ring.lock.apply();
      const [p, seq, take] = ring.take();
      ring.unlock.tryNow();
      ring.giveEmpty.tryNow();
      if (p === 0) return { taken };
      taken.push(p, seq, take);
    }
  });
}

export const roles = { producer, consumer };

interface Check {
  consumed: number;
  duplicates: number;
  missing: number;
  outOfOrder: number;
}

/** Every (producer, seq) once, and each producer's items taken in order. */
function check(opts: ProdconsOptions, taken: number[][]): Check {
  const seen = new Map<number, number>();
  const byTake: Array<[number, number, number]> = [];
  let consumed = 0;
  for (const list of taken) {
    for (let i = 0; i < list.length; i += 3) {
      const [p, seq, take] = [list[i]!, list[i + 1]!, list[i + 2]!];
      const key = p * opts.items + seq;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      byTake.push([take, p, seq]);
      consumed++;
    }
  }
  let duplicates = 0;
  for (const n of seen.values()) duplicates += n - 1;
  let missing = 0;
  for (let p = 1; p <= opts.producers; p++) for (let s = 0; s < opts.items; s++) if (!seen.has(p * opts.items + s)) missing++;
  byTake.sort((a, b) => a[0] - b[0]);
  const last = new Map<number, number>();
  let outOfOrder = 0;
  for (const [, p, seq] of byTake) {
    if (seq <= (last.get(p) ?? -1)) outOfOrder++;
    last.set(p, seq);
  }
  return { consumed, duplicates, missing, outOfOrder };
}

export async function run(lab: LabRun, opts: ProdconsOptions): Promise<LabResult> {
  const { producers, consumers, buffer, items } = opts;
  lab.say(
    `${producers} producer${producers === 1 ? '' : 's'} make ${items} items each; ${consumers} consumer${consumers === 1 ? '' : 's'} take them from a ring of ${buffer} slot${buffer === 1 ? '' : 's'} in shared memory`,
    'step',
  );
  const shm = await lab.sharedMemory(segmentSize(buffer));
  const sem = await lab.semaphores([buffer, 0, 1, 0]);
  lab.say(`shared memory ${shm.id}: the ring; semaphore set ${sem.id}: #0 empty = ${buffer}, #1 full = 0, #2 mutex = 1, #3 start gate`);
  const base = { shm: shm.id, sem: sem.id, buffer };
  const prod = Array.from({ length: producers }, (_, i) => lab.spawn('producer', { ...base, producer: i + 1, items } satisfies Args, `producer ${i + 1}`));
  const cons = Array.from({ length: consumers }, (_, i) => lab.spawn('consumer', base satisfies Args, `consumer ${i + 1}`));
  const all = producers + consumers;
  await lab.expect(() => sem.get('ncnt', GATE) === all, `all ${all} processes waiting at the start gate`, 30_000);
  lab.say('all wait at the start gate; opening it', 'step');
  const start = Date.now();
  sem.setVal(GATE, all);

  // While they work, show the semaphores now and then: who waits on what.
  let producersDone = false;
  const sampler = (async () => {
    let last = '';
    while (!producersDone && !lab.stopping) {
      await lab.sleep(100).catch(() => {});
      if (producersDone || lab.stopping) break;
      const d = sem.details('lab prodcons');
      const line = `ring ${d[FULL]!.value}/${buffer} full; waiting: ${d[EMPTY]!.ncnt} producer(s) on empty, ${d[FULL]!.ncnt} consumer(s) on full, ${d[MUTEX]!.ncnt} on the mutex`;
      if (line !== last) lab.say(line);
      last = line;
    }
  })();
  const made = (await lab.wait(Promise.all(prod.map((c) => c.result)))) as Array<{ produced: number }>;
  producersDone = true;
  await sampler;
  const produced = made.reduce((n, r) => n + r.produced, 0);
  lab.say(`the producers made ${produced} items; putting one stop item per consumer into the ring`, 'step');

  // The lab is the last producer: a stop item (producer 0) for each consumer.
  // It polls (never blocks in the kernel), so Ctrl-C stays immediate.
  const { attachment } = shm.attach(false, 'lab prodcons');
  const ring = new Ring(attachment.view(0, segmentSize(buffer)), sem.id, buffer);
  try {
    for (let i = 0; i < consumers; i++) {
      await lab.until(() => ring.takeEmpty.tryNow(), { everyMs: 2 });
      await lab.until(() => ring.lock.tryNow(), { everyMs: 1 });
      ring.put(0, i);
      ring.unlock.tryNow();
      ring.giveFull.tryNow();
    }
  } finally {
    ring.free();
    attachment.detach();
  }
  const taken = ((await lab.wait(Promise.all(cons.map((c) => c.result)))) as Array<{ taken: number[] }>).map((r) => r.taken);
  const elapsedMs = Date.now() - start;
  taken.forEach((t, i) => lab.say(`consumer ${i + 1} took ${t.length / 3} items`));
  const c = check(opts, taken);
  const ok = c.consumed === produced && c.duplicates === 0 && c.missing === 0 && c.outOfOrder === 0 && produced === producers * items;
  const verdict = ok
    ? `every one of the ${produced} items was consumed exactly once, each producer's in order`
    : `${c.consumed} of ${produced} items consumed: ${c.duplicates} duplicate(s), ${c.missing} missing, ${c.outOfOrder} out of order`;
  if (!ok) lab.say(verdict, 'bad');
  return {
    lab: 'prodcons',
    ok,
    verdict,
    seconds: seconds(elapsedMs),
    produced,
    consumed: c.consumed,
    duplicates: c.duplicates,
    missing: c.missing,
    outOfOrder: c.outOfOrder,
    producers,
    consumers,
    buffer,
  };
}
