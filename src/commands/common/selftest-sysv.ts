// The selftest round-trips for shared memory and semaphores, on private
// objects that are removed again whatever happens.

/** Write through one attachment, read back through a read-only one, at an odd offset. */
export async function shmRoundTrip(): Promise<string> {
  const { SharedMemory } = await import('../../ipc/sysv/shm.js');
  const id = await SharedMemory.create({ key: { kind: 'key', key: 0 }, size: 8192, mode: 0o600, exclusive: true });
  const seg = SharedMemory.fromId(id);
  try {
    const payload = Buffer.from(`selftest ${process.pid} \u00e9\u0000\u00ff`);
    const offset = 4093; // across a page boundary
    seg.withAttached(false, 'selftest shm', (a) => a.view(offset, payload.length).set(payload));
    const back = seg.withAttached(true, 'selftest shm', (a) => Buffer.from(a.view(offset, payload.length)));
    if (!back.equals(payload)) throw new Error('bytes came back different');
    const st = seg.stat('selftest shm');
    if (st.nattch !== 0) throw new Error(`still attached ${st.nattch} times after detach`);
    return `segment ${id}: ${payload.length} bytes at offset ${offset}`;
  } finally {
    seg.remove();
  }
}

/** Two ops in one semop, then one that must not apply under --nowait. */
export async function semRoundTrip(): Promise<string> {
  const { SemaphoreSet } = await import('../../ipc/sysv/sem.js');
  const { Deadline } = await import('../../ipc/wait.js');
  const { id } = await SemaphoreSet.create({ key: { kind: 'key', key: 0 }, values: [1, 0], mode: 0o600, exclusive: true, initWaitMs: 0 });
  const set = SemaphoreSet.fromId(id);
  try {
    const opts = { undo: false, nowait: true, deadline: new Deadline(undefined) };
    if (
      !(await set.op(
        [
          { num: 0, op: -1 },
          { num: 1, op: 1 },
        ],
        opts,
      ))
    )
      throw new Error('an op that could apply would block');
    if (
      await set.op(
        [
          { num: 1, op: -1 },
          { num: 0, op: -1 },
        ],
        opts,
      )
    )
      throw new Error('an op that must block applied');
    const values = set.getAll();
    if (values.join(',') !== '0,1') throw new Error(`values are ${values.join(',')}, expected 0,1`);
    return `set ${id}: 2 semaphores, atomic ops`;
  } finally {
    set.remove();
  }
}
