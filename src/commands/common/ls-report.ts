// What every view of `ls` hands the command (a Report), and which kinds a
// KIND word names. No ffi-rs here: `ipcctl ls` must not load libc.
import { UsageError } from '../../errors.js';
import { type PosixKind, POSIX_KINDS } from '../../ipc/posix/names.js';
import { KINDS, type Kind } from '../../ipc/sysv/procfs.js';
import { isKindWord, parseKind } from './select-options.js';

/** What one run of `ls` shows; `watch` repeats it. */
export interface Report {
  /** The JSON value of one snapshot. */
  json(): unknown;
  /** The human text of one snapshot. */
  text(): string;
  /** Serialise `json()` (limits need exact big integers). */
  serialize(v: unknown, indent?: number): string;
}

/** The kinds one `ls` shows, of each family. */
export interface Kinds {
  sysv: readonly Kind[];
  posix: readonly PosixKind[];
  /** The user named the kind (or family): a view may then cost more (libc for MSGS). */
  named: boolean;
}

const posixWords: Record<string, readonly PosixKind[]> = { pmq: ['pmq'], pshm: ['pshm'], psem: ['psem'], posix: POSIX_KINDS };

export function kindsOf(kindArg: string | undefined): Kinds {
  if (kindArg === undefined) return { sysv: KINDS, posix: POSIX_KINDS, named: false };
  const posix = posixWords[kindArg.toLowerCase()];
  if (posix) return { sysv: [], posix, named: true };
  if (kindArg.toLowerCase() === 'sysv') return { sysv: KINDS, posix: [], named: true };
  if (!isKindWord(kindArg)) throw new UsageError(`ls: unknown kind '${kindArg}': use msgq, shm, sem, pmq, pshm, psem (or sysv, posix)`);
  return { sysv: [parseKind(kindArg, 'ls')], posix: [], named: true };
}

export const isAnyKindWord = (w: string) => isKindWord(w) || w.toLowerCase() in posixWords || w.toLowerCase() === 'sysv';
