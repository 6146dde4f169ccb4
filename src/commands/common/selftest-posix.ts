// The selftest round-trips for the POSIX kinds, on names of this process
// (pid + random) that are unlinked again whatever happens.
import { randomBytes } from 'node:crypto';

const uniqueName = (kind: string) => `/ipcctl-selftest-${kind}-${process.pid}-${randomBytes(4).toString('hex')}`;

/** Two messages of different priorities: the higher comes first, both byte-exact. */
export async function pmqRoundTrip(): Promise<string> {
  const { PosixQueue } = await import('../../ipc/posix/mqueue.js');
  const { Deadline } = await import('../../ipc/wait.js');
  const name = uniqueName('pmq');
  const { queue } = PosixQueue.create(name, { mode: 0o600, exclusive: true, maxmsg: 2, msgsize: 64 });
  try {
    const low = Buffer.from(`selftest ${process.pid} \u00e9\u0000`);
    const high = Buffer.from([0xff, 0, 1]);
    const opts = { nowait: true, deadline: new Deadline(undefined) };
    if (!(await queue.send(low, 1, opts)) || !(await queue.send(high, 9, opts))) throw new Error('a send to an empty queue would block');
    const a = queue.receiveNow();
    const b = queue.receiveNow();
    if (!a || a.priority !== 9 || !a.data.equals(high) || !b || b.priority !== 1 || !b.data.equals(low))
      throw new Error('messages came back different or out of priority order');
    return `queue ${name}: priorities 9 then 1`;
  } finally {
    queue.close();
    PosixQueue.remove(name);
  }
}

/** Write and read back across a page boundary through two mappings. */
export async function pshmRoundTrip(): Promise<string> {
  const { PosixSegment } = await import('../../ipc/posix/shm.js');
  const name = uniqueName('pshm');
  const { segment } = PosixSegment.create(name, 8192, 0o600, true);
  try {
    const payload = Buffer.from(`selftest ${process.pid} \u00e9\u0000\u00ff`);
    segment.write(4093, payload);
    let back = Buffer.alloc(0);
    segment.read(4093, payload.length, (v) => (back = Buffer.from(v)));
    if (!back.equals(payload)) throw new Error('bytes came back different');
    return `segment ${name}: ${payload.length} bytes at offset 4093`;
  } finally {
    segment.close();
    PosixSegment.remove(name);
  }
}

/** Post twice, take once, and a take at 0 must not succeed. */
export async function psemRoundTrip(): Promise<string> {
  const { PosixSemaphore } = await import('../../ipc/posix/sem.js');
  const name = uniqueName('psem');
  const { semaphore } = PosixSemaphore.create(name, 0, 0o600, true);
  try {
    semaphore.post(2);
    if (!semaphore.tryWait()) throw new Error('a wait at value 2 would block');
    if (semaphore.value() !== 1) throw new Error(`value is ${semaphore.value()}, expected 1`);
    if (!semaphore.tryWait() || semaphore.tryWait()) throw new Error('a wait at value 0 succeeded');
    return `semaphore ${name}: post, trywait, getvalue`;
  } finally {
    semaphore.close();
    PosixSemaphore.remove(name);
  }
}
