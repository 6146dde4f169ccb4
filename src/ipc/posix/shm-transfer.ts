// Writing a byte stream into a POSIX shared memory segment: the policy of
// `pshm write`, in one place. All or nothing: input that does not fit is
// refused before anything is written, and stdin is read at most one byte
// past what fits. Only one window of the segment is mapped at a time.
import { EXIT, OperationError } from '../../errors.js';
import { preferBulkPipe } from '../pipes.js';
import type { ReadInto } from '../sysv/record-batch.js';
import { stagingMemory } from '../sysv/shm.js';
import { type PosixSegment, WINDOW } from './shm.js';

/** From this many bytes on, a bigger pipe pays for its one fcntl. */
const BULK = 1 << 20;

/** DATA from the command line, or a reader (stdin) and its size when it is a regular file. */
export type PshmInput = { data: Buffer } | { read: ReadInto; fileSize: number | null };

/** read(2) until `into` is full or EOF: the bytes read. */
function fill(read: ReadInto, into: Buffer): number {
  let filled = 0;
  while (filled < into.length) {
    const n = read(into, filled, into.length - filled);
    if (n === 0) break;
    filled += n;
  }
  return filled;
}

/** Write `input` at `offset` of `seg` (named `name` in messages); the bytes written. */
export function writePosixSegment(seg: PosixSegment, name: string, offset: number, input: PshmInput): number {
  const size = seg.stat().size;
  seg.range('pshm write', offset, 0);
  const room = size - offset;
  const tooBig = (what: string) =>
    new OperationError(
      `pshm write ${name}: ${what} bytes at offset ${offset} go past the end of the ${size}-byte segment (${room} bytes fit); nothing written`,
      EXIT.USAGE,
    );
  if ('data' in input) {
    if (input.data.length > room) throw tooBig(String(input.data.length));
    seg.write(offset, input.data);
    return input.data.length;
  }
  if (input.fileSize !== null) {
    // A regular file: its size is known, so check first, then read(2) lands in the segment itself.
    if (input.fileSize > room) throw tooBig(String(input.fileSize));
    return readIntoSegment(seg, offset, input.fileSize, input.read);
  }
  // A pipe: its length is known only at its end, so it is gathered in
  // private memory first (one byte more than fits says it does not).
  if (room >= BULK) preferBulkPipe(0);
  // Small input, or no mapping could be made: a Buffer.
  const staging = room >= BULK ? stagingMemory(room + 1) : null;
  if (!staging) {
    const buf = Buffer.allocUnsafe(room + 1);
    const have = fill(input.read, buf);
    if (have > room) throw tooBig(`more than ${room}`);
    seg.write(offset, buf.subarray(0, have));
    return have;
  }
  try {
    let total = 0;
    while (total < staging.size) {
      const len = Math.min(WINDOW, staging.size - total);
      const got = fill(input.read, staging.view(total, len));
      total += got;
      if (got < len) break;
    }
    if (total > room) throw tooBig(`more than ${room}`);
    for (let done = 0; done < total; done += WINDOW) {
      const len = Math.min(WINDOW, total - done);
      seg.withMapping(offset + done, len, true, 'pshm write', (m) => {
        m.prefault(0, len);
        m.view(0, len).set(staging.view(done, len));
      });
    }
    return total;
  } finally {
    staging.free();
  }
}

/** Window by window: only one window of the segment is mapped (and counted in RSS) at a time. */
function readIntoSegment(seg: PosixSegment, offset: number, length: number, read: ReadInto): number {
  let done = 0;
  while (done < length) {
    const len = Math.min(WINDOW, length - done);
    const got = seg.withMapping(offset + done, len, true, 'pshm write', (m) => {
      m.prefault(0, len);
      return fill(read, m.view(0, len));
    });
    done += got;
    if (got < len) break; // the file shrank meanwhile
  }
  return done;
}
