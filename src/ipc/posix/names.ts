// POSIX IPC names as DESIGN fixes them: `/name`, one leading slash and no
// other; `name` alone gets the slash. Checked here, before any call, so that
// every kind refuses the same names with the same words (glibc would answer
// EINVAL for some, the kernel EACCES or ENAMETOOLONG for others).
import { UsageError } from '../../errors.js';

export type PosixKind = 'pmq' | 'pshm' | 'psem';
export const POSIX_KINDS: readonly PosixKind[] = ['pmq', 'pshm', 'psem'];

/** NAME_MAX; a semaphore's file is sem.NAME in /dev/shm, four bytes fewer. */
export const NAME_MAX = 255;
const maxLength: Record<PosixKind, number> = { pmq: NAME_MAX, pshm: NAME_MAX, psem: NAME_MAX - 4 };

/** The name with its one leading slash, or a UsageError saying what is wrong. */
export function parsePosixName(text: string, kind: PosixKind, op: string): string {
  const bare = text.startsWith('/') ? text.slice(1) : text;
  if (bare === '') throw new UsageError(`${op}: empty name: give /NAME`);
  if (bare.includes('/')) throw new UsageError(`${op}: invalid name '${text}': only one slash, at the start (/NAME)`);
  if (bare === '.' || bare === '..') throw new UsageError(`${op}: invalid name '${text}': '.' and '..' name no object`);
  if (bare.includes('\0')) throw new UsageError(`${op}: invalid name: it contains a NUL byte`);
  const bytes = Buffer.byteLength(bare);
  if (bytes > maxLength[kind]) throw new UsageError(`${op}: name of ${bytes} bytes is too long: at most ${maxLength[kind]} after the slash (NAME_MAX)`);
  return '/' + bare;
}
