// Re-pointing the process's own stdin, stdout and stderr, for `batch`: a
// command's output (also what native code splices to fd 1, or a child
// inherits) lands in an in-memory file, and the batch reads it back as that
// command's reply. dup2/memfd_create/lseek have no Node API.
import { IpcError } from '../errors.js';
import { duplicateCloseOnExec } from './fd.js';
import { bind } from './bind.js';
import { C } from './library.js';

const dup2 = bind('dup2', C.int, [C.int, C.int]);
const memfdCreate = bind('memfd_create', C.int, [C.string, C.uint]);
const lseek = bind('lseek', C.long, [C.int, C.long, C.int]);

const MFD_CLOEXEC = 1;
const SEEK_SET = 0;

/**
 * A new descriptor for what `fd` refers to, closed on exec: the batch's own
 * input and output must not leak into a command's children (a child that
 * outlives its command would hold the coprocess's pipes open).
 */
export const duplicate = duplicateCloseOnExec;

/** Make `target` refer to what `source` refers to (dup2). */
export function redirect(source: number, target: number): void {
  const r = dup2.call(source, target);
  if (r.value === -1) throw new IpcError(r.errno, 'dup2', `${source} -> ${target}`);
}

/** An anonymous in-memory file, closed on exec (children get it only through dup2). */
export function memoryFile(name: string): number {
  const r = memfdCreate.call(name, MFD_CLOEXEC);
  if (r.value === -1) throw new IpcError(r.errno, 'memfd_create', name);
  return r.value;
}

/** Put the file offset of `fd` back at the start. */
export function rewind(fd: number): void {
  const r = lseek.call(fd, 0, SEEK_SET);
  if (r.value === -1) throw new IpcError(r.errno, 'lseek', String(fd));
}
