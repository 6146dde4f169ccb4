// Reading stdin for commands that send it: all of it as one payload, or one
// record per line / per NUL, streamed so that `tail -f | ipcctl msgq send
// --lines` sends each line as it comes.
import { readSync } from 'node:fs';

const CHUNK = 1 << 20;

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Chunks of fd until EOF. Copies: each yielded Buffer is the caller's. */
export function* readChunks(fd = 0): Generator<Buffer> {
  const buf = Buffer.allocUnsafe(CHUNK);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, CHUNK, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        sleepMs(2); // a non-blocking stdin inherited from the parent
        continue;
      }
      if (code === 'EOF') return;
      throw err;
    }
    if (n === 0) return;
    yield Buffer.from(buf.subarray(0, n));
  }
}

export function readAll(fd = 0): Buffer {
  return Buffer.concat([...readChunks(fd)]);
}

/**
 * Records separated by `sep` (10 for lines, 0 for NUL), separator removed.
 * A last record without a separator still counts; an empty input has none.
 */
export function* readRecords(sep: number, fd = 0): Generator<Buffer> {
  for (const group of readRecordGroups(sep, fd)) yield* group;
}

/**
 * The same records, grouped by the read that completed them: each group is
 * everything that arrived together, so a consumer can handle a group at
 * once and still pass every record on as soon as it comes (`tail -f`).
 */
export function* readRecordGroups(sep: number, fd = 0): Generator<Buffer[]> {
  let carry: Buffer | null = null;
  for (const chunk of readChunks(fd)) {
    const data: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    const group: Buffer[] = [];
    let start = 0;
    for (let at = data.indexOf(sep); at !== -1; at = data.indexOf(sep, start)) {
      group.push(data.subarray(start, at));
      start = at + 1;
    }
    carry = start < data.length ? data.subarray(start) : null;
    if (group.length > 0) yield group;
  }
  if (carry && carry.length > 0) yield [carry];
}

/** The same records from a buffer already in memory. */
export function* splitRecords(data: Buffer, sep: number): Generator<Buffer> {
  let start = 0;
  for (let at = data.indexOf(sep); at !== -1; at = data.indexOf(sep, start)) {
    yield data.subarray(start, at);
    start = at + 1;
  }
  if (start < data.length) yield data.subarray(start);
}
