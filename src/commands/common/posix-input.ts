// stdin for the POSIX commands, bounded by what the object can take: a
// queue's message is at most its msgsize and a segment's room its size, so
// no read gathers more than one byte beyond that (stdin from /dev/zero fails
// at once instead of filling memory).
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
