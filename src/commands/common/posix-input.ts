// stdin for the POSIX commands, bounded by what the object can take: a
// queue's message is at most its msgsize, so no read ever gathers more than
// one message (stdin from /dev/zero fails at once instead of filling memory).
import { readerOf } from './input.js';

const CHUNK = 1 << 16;

/** All of fd, up to `max` bytes; null when there is more than that. */
export function readBounded(max: number, fd = 0): Buffer | null {
  const read = readerOf(fd);
  const buf = Buffer.allocUnsafe(max + 1);
  let have = 0;
  while (have <= max) {
    const n = read(buf, have, max + 1 - have);
    if (n === 0) return buf.subarray(0, have);
    have += n;
  }
  return null;
}

/**
 * Records of fd separated by `sep`, each handed to `each` as a view valid
 * only during the call (it may await). A record longer than `max` stops
 * the reading: `tooLong` is called with its size so far and must throw.
 */
export async function eachRecord(sep: number, max: number, each: (record: Buffer) => void | Promise<void>, tooLong: (size: number) => never, fd = 0): Promise<void> {
  const read = readerOf(fd);
  let buf = Buffer.allocUnsafe(Math.max(CHUNK, max + 1) * 2);
  let start = 0;
  let end = 0;
  for (;;) {
    if (end === buf.length) {
      // Move the partial record to the front; the buffer holds max+1 bytes at least twice.
      buf.copy(buf, 0, start, end);
      end -= start;
      start = 0;
      if (end === buf.length) buf = Buffer.concat([buf, Buffer.allocUnsafe(buf.length)]);
    }
    const n = read(buf, end, buf.length - end);
    if (n === 0) break;
    let from = end;

    end += n;
    const view = buf.subarray(0, end);
    for (let at = view.indexOf(sep, from); at !== -1; at = view.indexOf(sep, from)) {
      const r = each(buf.subarray(start, at));
      if (r) await r;
      start = at + 1;
      from = start;
    }
    if (end - start > max) tooLong(end - start);
  }
  if (end > start) {
    const r = each(buf.subarray(start, end));
    if (r) await r;
  }
}
