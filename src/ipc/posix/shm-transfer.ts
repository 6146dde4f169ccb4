// Writing a byte stream into a POSIX shared memory segment: the policy of
// `pshm write`, in one place. All or nothing: input that does not fit
// leaves the segment as it was, and stdin is read at most one byte past
// what fits. Memory stays bounded by a few pieces whatever the input's size
// (plus, for a pipe, a copy of what the write replaced: see below).
import { EXIT, OperationError } from '../../errors.js';
import { preferBulkPipe } from '../pipes.js';
import { SIGNAL_EXIT, StopSignals } from '../stop-signals.js';
import type { ReadInto } from '../sysv/record-batch.js';
import { POLLIN, readyNow } from '../../native/poll.js';
import { Deadline } from '../wait.js';
import { waitUntilReady } from './poll-wait.js';
import { type PosixSegment, WINDOW } from './shm.js';

/** From this many bytes on, a bigger pipe pays for its one fcntl, and a pipe is streamed. */
const BULK = 1 << 20;

/** Bytes per read(2) and pwrite(2) of a streamed pipe: the bulk pipe's size, as dd bs=1M. */
const PIECE = 1 << 20;

/** Bytes between two turns of the event loop while input keeps coming, so a stop signal is seen. */
const YIELD_EVERY = 16 * PIECE;

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
export async function writePosixSegment(seg: PosixSegment, name: string, offset: number, input: PshmInput): Promise<number> {
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
  if (room < BULK) {
    // Small: one Buffer, one byte longer than what fits, says whether it does.
    const buf = Buffer.allocUnsafe(room + 1);
    const have = fill(input.read, buf);
    if (have > room) throw tooBig(`more than ${room}`);
    seg.write(offset, buf.subarray(0, have));
    return have;
  }
  preferBulkPipe(0);
  return streamIntoSegment(seg, name, offset, room, input.read, tooBig);
}

/**
 * A pipe's length is known only at its end, so its bytes go into the
 * segment as they come, piece by piece (pwrite from one reused buffer), and
 * what each piece replaces is kept: when the input turns out longer than
 * what fits, or reading fails, or SIGINT/SIGTERM/SIGHUP arrives, the kept
 * bytes go back and the segment is as it was. A replaced piece that was all
 * zeros (a fresh segment, whose pages are holes that read as zeros) is kept
 * as a mark, not a copy, so writing into a fresh or cleared segment holds
 * no more than three pieces of memory; only replaced data that is not zero
 * costs its size. A reader of the segment meanwhile sees the new bytes
 * arrive, and then the old ones again if the write is refused; only SIGKILL
 * can leave the new bytes half written.
 */
async function streamIntoSegment(
  seg: PosixSegment,
  name: string,
  offset: number,
  room: number,
  read: ReadInto,
  tooBig: (what: string) => Error,
): Promise<number> {
  const incoming = Buffer.allocUnsafe(PIECE);
  const before = Buffer.allocUnsafe(PIECE);
  const zeros = Buffer.alloc(PIECE);
  /** What each written piece replaced, in order: its bytes, or null for all zeros. */
  const replaced: Array<Buffer | null> = [];
  let written = 0;
  const restore = () => {
    for (let i = 0, at = 0; at < written; i++, at += PIECE) seg.pwrite(replaced[i] ?? zeros, Math.min(PIECE, written - at), offset + at);
    written = 0;
  };
  const signals = new StopSignals();
  const what = `pshm write ${name}`;
  const stopped = () => new OperationError(`${what}: interrupted by ${signals.signal}; nothing written`, SIGNAL_EXIT[signals.signal!]);
  const stop = () => (signals.signal ? { signal: signals.signal, code: SIGNAL_EXIT[signals.signal] } : null);
  // A read that would block waits in poll(2) instead, where a stop signal
  // is seen at once (a blocked read(2) would hold it until the pipe moves).
  // After a read that got all it asked for, the pipe likely holds more, and
  // the next read goes without asking.
  let drained = true;
  const readPiece = async (into: Buffer, length: number): Promise<number> => {
    let filled = 0;
    while (filled < length) {
      if (drained && readyNow(0, POLLIN) === 0) await waitUntilReady(0, POLLIN, what, new Deadline(undefined), () => {}, stop);
      const want = length - filled;
      const n = read(into, filled, want);
      if (n === 0) break;
      drained = n < want;
      filled += n;
    }
    return filled;
  };
  try {
    while (written < room && !signals.signal) {
      const want = Math.min(PIECE, room - written);
      const n = await readPiece(incoming, want);
      if (n === 0) break;
      const at = offset + written;
      const had = seg.pread(before, n, at);
      if (had < n) before.fill(0, had, n); // the segment shrank meanwhile: what lay past its end reads as zeros
      replaced.push(before.subarray(0, n).equals(zeros.subarray(0, n)) ? null : Buffer.from(before.subarray(0, n)));
      written += n; // counted before the pwrite: a partial one is undone too
      seg.pwrite(incoming, n, at);
      if (n < want) break; // EOF inside the piece
      // Now and then let a stop signal's handler run (reads that need not wait never yield).
      if (written % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
    }
    // Everything that fits arrived: one byte more says the input does not fit.
    if (!signals.signal && written === room && (await readPiece(incoming, 1)) > 0) {
      restore();
      throw tooBig(`more than ${room}`);
    }
    // A stop signal that came while the last pieces were read (its handler runs now).
    await new Promise((r) => setImmediate(r));
    if (signals.signal) throw stopped();
    return written;
  } catch (e) {
    if (written > 0) restore();
    // The poll wait's own words for SIGINT/SIGTERM/SIGHUP become ours, which say what became of the segment.
    throw signals.signal ? stopped() : e;
  } finally {
    signals.dispose();
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
