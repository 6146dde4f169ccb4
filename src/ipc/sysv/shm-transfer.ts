// Moving bytes between a shared memory segment and a byte stream: the
// policy of `shm read` and `shm write`, in one place. A write is all or
// nothing: input that does not fit leaves the segment untouched, and input
// is read only one byte past what fits (memory stays bounded whatever stdin
// is). A read goes from the segment to the output one window at a time,
// without a copy.
import { EXIT, IpcError, OperationError } from '../../errors.js';
import type { ReadInto } from './record-batch.js';
import { preferBulkPipe } from '../pipes.js';
import { CHUNK, SharedMemory, stagingMemory, type Attachment, type Staging } from './shm.js';

/** From this many bytes on, a bigger pipe pays for its one fcntl. */
export const BULK = 1 << 20;
/** Below this many bytes a prefault is no call at all (native/memory.ts skips under 16 pages). */
export const PREFAULT_FROM = 64 << 10;

export interface ShmReadOptions {
  offset: number;
  length?: number;
  /** Touch the pages before each write(2) (it pays when the output reads them; /dev/null never does). */
  prefault: boolean;
  /** Bytes done so far, for a progress display. */
  counter: Float64Array;
}

/**
 * Hand the segment's bytes [offset, offset+length) to `write`, one window
 * (a view of the segment, valid during the call) at a time.
 * `begin` learns the length first (for JSON, which wants one piece).
 */
export function readSegment(
  seg: SharedMemory,
  opts: ShmReadOptions,
  write: (window: Buffer, at: number) => void,
  begin?: (length: number, a: Attachment) => boolean,
): void {
  seg.withAttached(true, 'shm read', (a, st) => {
    const length = SharedMemory.checkRange('shm read', seg.id, st.size, opts.offset, opts.length);
    if (begin && !begin(length, a)) return;
    for (let at = opts.offset, end = opts.offset + length; at < end; at += CHUNK) {
      const window = a.view(at, Math.min(CHUNK, end - at));
      if (opts.prefault) a.prefault(at, window.length, false);
      write(window, at);
      opts.counter[0] = at + window.length - opts.offset;
    }
  });
}

/** Where a write's bytes come from: DATA given on the command line, or a reader (stdin). */
export type ShmInput = { data: Buffer } | { read: ReadInto; fd: number; fileSize: number | null };

/**
 * Write `input` into the segment at `offset`, whole or not at all.
 * Returns the bytes written. `counter[0]` adds up what was read.
 */
export function writeSegment(seg: SharedMemory, input: ShmInput, offset: number, counter: Float64Array): number {
  const st = seg.stat('shm write');
  const tooBig = (n: number | string) =>
    new OperationError(
      `shm write ${seg.id}: ${n} bytes at offset ${offset} do not fit in the ${st.size}-byte segment (${Math.max(0, st.size - offset)} bytes fit); nothing written`,
      EXIT.USAGE,
    );
  if (offset > st.size)
    throw new OperationError(`shm write ${seg.id}: offset ${offset} is past the end of the ${st.size}-byte segment; nothing written`, EXIT.USAGE);
  const capacity = st.size - offset;

  if ('data' in input) {
    const data = input.data;
    if (data.length > capacity) throw tooBig(data.length);
    // The IPC_STAT above is the attach's: one per write, not two.
    return seg.withAttached(
      false,
      'shm write',
      (a) => {
        a.view(offset, data.length).set(data);
        return data.length;
      },
      st,
    );
  }
  const read = countingReader(input.read, counter, `shm write ${seg.id}`);
  if (input.fileSize !== null) {
    // Known size: check first, then read(2) lands in the segment itself.
    const fileSize = input.fileSize;
    if (fileSize > capacity) throw tooBig(fileSize);
    return seg.withAttached(false, 'shm write', (a) => readFileInto(a, read, offset, fileSize));
  }
  if (capacity >= BULK) preferBulkPipe(input.fd);
  // A pipe: its length is known only at its end, so gather it privately
  // first (one byte more than fits is enough to know it does not).
  const staging = capacity >= BULK ? stagingMemory(capacity + 1) : null;
  if (staging) {
    try {
      const total = readInto(staging, read);
      if (total > capacity) throw tooBig(`more than ${capacity}`);
      return seg.withAttached(false, 'shm write', (a) => {
        for (let done = 0; done < total; done += CHUNK) {
          const n = Math.min(CHUNK, total - done);
          a.prefault(offset + done, n, true);
          a.view(offset + done, n).set(staging.view(done, n));
        }
        return total;
      });
    } finally {
      staging.free();
    }
  }
  const parts = readUpTo(read, capacity);
  if (parts === null) throw tooBig(`more than ${capacity}`);
  return seg.withAttached(false, 'shm write', (a) => {
    let at = offset;
    for (const p of parts) {
      a.view(at, p.length).set(p);
      at += p.length;
    }
    return at - offset;
  });
}

/** The reader, counting what it reads, with its errors (EISDIR) named in one line. */
function countingReader(read: ReadInto, counter: Float64Array, what: string): ReadInto {
  return (into, at, length) => {
    let n: number;
    try {
      n = read(into, at, length);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) throw e;
      throw IpcError.of(code, what, '', {
        detail: code === 'EISDIR' ? 'stdin is a directory; nothing written' : 'reading stdin failed; nothing written',
        exitCode: EXIT.FAILED,
      });
    }
    counter[0] += n;
    return n;
  };
}

/** Up to `capacity` bytes; null when there is more than that. Private memory first: a pipe's length is known only at its end. */
function readUpTo(read: ReadInto, capacity: number): Buffer[] | null {
  const parts: Buffer[] = [];
  let total = 0;
  for (;;) {
    // One byte beyond the capacity is enough to know it does not fit.
    const want = Math.min(4 << 20, capacity + 1 - total);
    const buf = Buffer.allocUnsafe(want);
    let filled = 0;
    while (filled < want) {
      const n = read(buf, filled, want - filled);
      if (n <= 0) break;
      filled += n;
    }
    if (filled > 0) parts.push(buf.subarray(0, filled));
    total += filled;
    if (total > capacity) return null;
    if (filled < want) return parts;
  }
}

/** Input into `staging` until EOF or full: the byte count. */
function readInto(staging: Staging, read: ReadInto): number {
  let done = 0;
  while (done < staging.size) {
    const window = staging.view(done, Math.min(CHUNK, staging.size - done));
    let filled = 0;
    while (filled < window.length) {
      const n = read(window, filled, window.length - filled);
      if (n <= 0) return done + filled;
      filled += n;
    }
    done += filled;
  }
  return done;
}

/** A regular file of known size: read straight into the segment. */
function readFileInto(a: Attachment, read: ReadInto, offset: number, size: number): number {
  let done = 0;
  while (done < size) {
    const window = a.view(offset + done, Math.min(CHUNK, size - done));
    a.prefault(offset + done, window.length, true);
    let filled = 0;
    while (filled < window.length) {
      const n = read(window, filled, window.length - filled);
      if (n <= 0) return done + filled; // the file shrank meanwhile
      filled += n;
    }
    done += filled;
  }
  return done;
}

/**
 * The segment's bytes [offset, offset+length) as one copy, for an output that
 * wants them in one piece (JSON). `check` learns the length first and may
 * refuse it by throwing, before anything is copied.
 */
export function copySegment(seg: SharedMemory, offset: number, length: number | undefined, check: (length: number) => void): Buffer {
  return seg.withAttached(true, 'shm read', (a, st) => {
    const n = SharedMemory.checkRange('shm read', seg.id, st.size, offset, length);
    check(n);
    return Buffer.from(a.view(offset, n));
  });
}
