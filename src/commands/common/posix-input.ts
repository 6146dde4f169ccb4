// stdin for the POSIX commands, bounded by what the object can take: a
// queue's message is at most its msgsize and a segment's room its size, so
// no read gathers more than one byte beyond that (stdin from /dev/zero fails
// at once instead of filling memory).
import type { ReadInto } from '../../ipc/sysv/record-batch.js';
import { readerOf } from './input.js';

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
 * stdin for --lines/--null that refuses a record longer than `max` without
 * reading it whole (stdin from /dev/zero would otherwise fill memory). The
 * complete records read with it are sent first: the batch reads again only
 * when no complete record is left, and only then does an overlong one fail.
 */
export function boundedRecords(read: ReadInto, sep: number, max: number, tooLong: () => never): ReadInto {
  let tail = 0;
  return (into, offset, length) => {
    if (tail > max) tooLong();
    const n = read(into, offset, length);
    if (n > 0) {
      const last = into.subarray(offset, offset + n).lastIndexOf(sep);
      tail = last === -1 ? tail + n : n - last - 1;
    }
    return n;
  };
}
