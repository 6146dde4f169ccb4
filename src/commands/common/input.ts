// Reading stdin for commands that send it: all of it as one payload, or one
// record per line / per NUL, streamed so that `tail -f | ipcctl msgq send
// --lines` sends each line as it comes.
import { readSync } from 'node:fs';
import { IpcError } from '../../errors.js';
import type { ReadInto } from '../../ipc/sysv/record-batch.js';
import { sleepSync } from '../../sleep.js';

const CHUNK = 1 << 20;

/**
 * A reader of fd: fills the given range, 0 at EOF (for RecordBatch and shm
 * write). Waits (without spinning) on a non-blocking stdin inherited from
 * the parent.
 */
export function readerOf(fd = 0, op = 'read'): ReadInto {
  return (into, offset, length) => {
    for (;;) {
      try {
        return readSync(fd, into, offset, length, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EOF') return 0;
        // A directory or a device that cannot be read: one line naming it.
        if (code === 'EISDIR')
          throw IpcError.of('EISDIR', op, 'stdin', { detail: 'stdin is a directory; redirect a file or give the data as arguments', exitCode: 1 });
        if (code !== 'EAGAIN' && code && /^E[A-Z0-9]+$/.test(code)) throw IpcError.of(code, op, 'stdin', { exitCode: 1 });
        if (code !== 'EAGAIN') throw err;
        sleepSync(2);
      }
    }
  };
}

/** A reader over bytes already in memory, for the same consumers. */
export function readerOfBuffer(data: Buffer): ReadInto {
  let at = 0;
  return (into, offset, length) => {
    const n = Math.min(length, data.length - at);
    into.set(data.subarray(at, at + n), offset);
    at += n;
    return n;
  };
}

/** Chunks of fd until EOF. Copies: each yielded Buffer is the caller's. */
export function* readChunks(fd = 0): Generator<Buffer> {
  const read = readerOf(fd);
  const buf = Buffer.allocUnsafe(CHUNK);
  for (let n = read(buf, 0, CHUNK); n > 0; n = read(buf, 0, CHUNK)) yield Buffer.from(buf.subarray(0, n));
}

export function readAll(fd = 0): Buffer {
  return Buffer.concat([...readChunks(fd)]);
}

/** Thrown by readAllUpTo/readRecords when the input holds more than `limit` bytes in one piece. */
export class InputTooLong extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} bytes`);
  }
}

/** All of fd, reading at most `limit` + 1 bytes: InputTooLong when there is more. */
export function readAllUpTo(limit: number, fd = 0): Buffer {
  const read = readerOf(fd);
  const buf = Buffer.allocUnsafe(limit + 1);
  let filled = 0;
  for (let n = 1; n > 0 && filled < buf.length; filled += n) n = read(buf, filled, buf.length - filled);
  if (filled > limit) throw new InputTooLong(limit);
  return buf.subarray(0, filled);
}

/**
 * Records separated by `sep` (10 for lines, 0 for NUL), separator removed.
 * A last record without a separator still counts; an empty input has none.
 */
export function* readRecords(sep: number, fd = 0, maxRecord = Infinity): Generator<Buffer> {
  let carry: Buffer | null = null;
  for (const chunk of readChunks(fd)) {
    if (carry && carry.length > maxRecord) throw new InputTooLong(maxRecord);
    const data: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let at = data.indexOf(sep); at !== -1; at = data.indexOf(sep, start)) {
      if (at - start > maxRecord) throw new InputTooLong(maxRecord);
      yield data.subarray(start, at);
      start = at + 1;
    }
    carry = start < data.length ? data.subarray(start) : null;
  }
  if (carry && carry.length > 0) yield carry;
}
