// The ipc_perm part of every `stat`: the same JSON fields, in the contract's
// order, and the same human rows, for queues, segments and semaphore sets.
import type { ObjectBase } from '../../ipc/sysv/procfs.js';
import { groupId, groupName, userId, userName } from '../../ipc/users.js';
import { formatKey, formatMode } from '../../output/json.js';
import { UsageError } from '../../errors.js';
import { parseOwner } from './args.js';

export type PermFacts = Pick<ObjectBase, 'id' | 'key' | 'mode' | 'uid' | 'gid' | 'cuid' | 'cgid'>;

export function permJson(st: PermFacts) {
  return { id: st.id, key: formatKey(st.key), mode: formatMode(st.mode), uid: st.uid, gid: st.gid, cuid: st.cuid, cgid: st.cgid };
}

export function permRows(st: PermFacts): Array<[string, string | number]> {
  return [
    ['id', st.id],
    ['key', formatKey(st.key)],
    ['owner', `${userName(st.uid)}:${groupName(st.gid)}`],
    ['creator', `${userName(st.cuid)}:${groupName(st.cgid)}`],
    ['mode', formatMode(st.mode)],
  ];
}

/** `set --owner UID[:GID]` as the ids IPC_SET takes (names looked up); none given, none changed. */
export function ownerIds(text: string | undefined): { uid?: number; gid?: number } {
  if (text === undefined) return {};
  const owner = parseOwner(text);
  return { uid: owner.uid !== undefined ? userId(owner.uid) : undefined, gid: owner.gid !== undefined ? groupId(owner.gid) : undefined };
}

/** `set` with nothing to change is refused: `also` names the command's other options, and whether each was given. */
export function requireChange(op: string, opts: { mode?: number; owner?: string }, also: Record<string, boolean> = {}): void {
  if (opts.mode !== undefined || opts.owner !== undefined || Object.values(also).some(Boolean)) return;
  const names = ['--mode', '--owner', ...Object.keys(also)];
  throw new UsageError(`${op}: nothing to change: give ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`);
}

/** The ipc_perm changes of `set --mode --owner`. */
export function permChanges(opts: { mode?: number; owner?: string }): { mode?: number; uid?: number; gid?: number } {
  return { mode: opts.mode, ...ownerIds(opts.owner) };
}
