// What stdin and stdout are, for the commands that move bytes in bulk and
// choose how (shm read/write, pshm read/write).
import { fstatSync } from 'node:fs';

/** Is stdout a character device (/dev/null, a terminal)? Touching pages ahead pays only when it is not. */
export function stdoutIsCharDevice(): boolean {
  try {
    return fstatSync(1).isCharacterDevice();
  } catch {
    return false;
  }
}

/** How much stdin holds when it is a regular file, else null (a pipe: unknown). */
export function stdinFileSize(): number | null {
  try {
    const st = fstatSync(0);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}
