// Pipes that carry bulk data (shm read | ..., ... | shm write): a bigger pipe
// buffer means fewer wake-ups of both ends. A failure changes nothing.
import { growPipe } from '../native/fd.js';

/** Bytes we ask for: the default /proc/sys/fs/pipe-max-size. */
const BULK_PIPE = 1 << 20;

/** Grow the pipe on fd (0 or 1) when it is one; anything else is left alone. */
export function preferBulkPipe(fd: number): void {
  growPipe(fd, BULK_PIPE);
}
