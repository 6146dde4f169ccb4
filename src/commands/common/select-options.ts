// The words and options `ls` and `rm` share: object kinds, and the filters
// that choose objects (--key, --owner, --creator, --orphans, --older-than).
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { parseKey } from '../../ipc/sysv/keys.js';
import { KINDS, type Kind } from '../../ipc/sysv/procfs.js';
import type { Selection } from '../../ipc/sysv/select.js';
import { userId } from '../../ipc/users.js';
import { parseDuration, parseInteger } from './args.js';

const kindWords: Record<string, Kind> = { msgq: 'msgq', msg: 'msgq', q: 'msgq', shm: 'shm', m: 'shm', sem: 'sem', s: 'sem' };

export function parseKind(text: string, op: string): Kind {
  const k = kindWords[text.toLowerCase()];
  if (!k) throw new UsageError(`${op}: unknown kind '${text}': use msgq, shm or sem`);
  return k;
}

export function isKindWord(text: string): boolean {
  return text.toLowerCase() in kindWords;
}

/** An age: a duration as parseDuration takes it, or days ("2d"). */
export function parseAge(text: string, what = 'age'): number {
  return parseDuration(text, what, { days: true });
}

export interface FilterOpts {
  key?: string;
  owner?: string;
  creator?: string;
  orphans?: boolean;
  olderThan?: string;
}

/** The filter options; `key: false` leaves --key to the command (rm names objects by key). */
export function addFilterOptions(cmd: Command, { key = true } = {}): Command {
  if (key) cmd.addOption(cmd.createOption('-k, --key <key>', "objects with this key: 0x1a2b, 6699, or 'private'"));
  return cmd
    .addOption(cmd.createOption('--owner <user>', 'objects owned by USER (name or uid)'))
    .addOption(cmd.createOption('--creator <pid>', 'segments created by process PID (only segments record their creator)'))
    .option('--orphans', 'segments nobody attached whose creator is gone, untouched for --older-than (default 1h)')
    .addOption(cmd.createOption('--older-than <age>', 'objects last changed more than AGE ago (30s, 15m, 2h, 7d)'));
}

/** True when any filter option narrows the selection. */
export function hasFilter(o: FilterOpts): boolean {
  return o.key !== undefined || o.owner !== undefined || o.creator !== undefined || Boolean(o.orphans) || o.olderThan !== undefined;
}

export function selectionFrom(o: FilterOpts, kinds: readonly Kind[]): Selection {
  const sel: Selection = { kinds };
  if (o.key !== undefined) sel.key = parseKey(o.key);
  if (o.owner !== undefined) sel.owner = userId(o.owner);
  if (o.creator !== undefined) sel.creator = parseInteger(o.creator, 'creator pid', 1, 2 ** 31 - 1);
  if (o.olderThan !== undefined) sel.olderThanMs = parseAge(o.olderThan, '--older-than age');
  if (o.orphans) {
    if (!kinds.includes('shm')) throw new UsageError('--orphans concerns shared memory segments only: drop the other kinds');
    sel.orphans = true;
  }
  return sel;
}

export { KINDS };
