// The one column table for System V objects, as lsipc has one: each column
// is defined once, with its header, its JSON name, its typed value and its
// human formatting. The table views (default, --time, --pid), the JSON
// documents of `ls` and `rm --dry-run`, and the watch snapshots are all
// drawn from this list, so a field can never mean two things.
import type { IpcObject, Kind } from '../../ipc/procfs.js';
import { groupName, userName } from '../../ipc/users.js';
import { formatKey, formatMode } from '../../output/json.js';
import { type Column, formatTime, humanBytes } from '../../output/table.js';

export type View = 'default' | 'time' | 'pid';
export type JsonValue = number | string | null;

export interface ObjectColumn {
  header: string;
  /** The field name in JSON; absent for table-only columns. */
  json?: string;
  /** The kinds that have this column; others show '-' in a mixed table. */
  kinds: readonly Kind[];
  /** The table views that show it (JSON always has every json column). */
  views: readonly View[];
  value(o: IpcObject): JsonValue;
  /** Human text for a table cell; default String(value). */
  human?(o: IpcObject): string;
  align?: 'left' | 'right';
}

const ALL: readonly Kind[] = ['msgq', 'shm', 'sem'];
const SHM_DEST = 0o1000;
const SHM_LOCKED = 0o2000;

/** A numeric field of whichever object kind has it. */
const field =
  (name: string) =>
  (o: IpcObject): JsonValue =>
    (o as unknown as Record<string, JsonValue>)[name] ?? null;

const time = (name: string) => (o: IpcObject) => formatTime(field(name)(o) as number | null);
const bytes = (name: string) => (o: IpcObject) => humanBytes(field(name)(o) as number);

export const COLUMNS: readonly ObjectColumn[] = [
  { header: 'TYPE', kinds: ALL, views: ['default', 'time', 'pid'], value: (o) => o.kind },
  { header: 'ID', json: 'id', kinds: ALL, views: ['default', 'time', 'pid'], value: (o) => o.id, align: 'right' },
  { header: 'KEY', json: 'key', kinds: ALL, views: ['default', 'time', 'pid'], value: (o) => formatKey(o.key) },
  { header: 'PERMS', json: 'mode', kinds: ALL, views: ['default'], value: (o) => formatMode(o.mode) },
  { header: 'OWNER', json: 'uid', kinds: ALL, views: ['default', 'time', 'pid'], value: (o) => o.uid, human: (o) => userName(o.uid) },
  { header: 'GROUP', json: 'gid', kinds: ALL, views: [], value: (o) => o.gid, human: (o) => groupName(o.gid) },
  { header: 'CREATOR', json: 'cuid', kinds: ALL, views: ['pid'], value: (o) => o.cuid, human: (o) => userName(o.cuid) },
  { header: 'CGROUP', json: 'cgid', kinds: ALL, views: [], value: (o) => o.cgid, human: (o) => groupName(o.cgid) },
  // message queues
  { header: 'MSGS', json: 'qnum', kinds: ['msgq'], views: ['default'], value: field('qnum'), align: 'right' },
  { header: 'USED', json: 'cbytes', kinds: ['msgq'], views: ['default'], value: field('cbytes'), human: bytes('cbytes'), align: 'right' },
  // /proc does not report msg_qbytes: JSON keeps the field (null), tables omit it.
  { header: 'QBYTES', json: 'qbytes', kinds: ['msgq'], views: [], value: field('qbytes'), align: 'right' },
  { header: 'LSPID', json: 'lspid', kinds: ['msgq'], views: ['pid'], value: field('lspid'), align: 'right' },
  { header: 'LRPID', json: 'lrpid', kinds: ['msgq'], views: ['pid'], value: field('lrpid'), align: 'right' },
  { header: 'SEND', json: 'stime', kinds: ['msgq'], views: ['time'], value: field('stime'), human: time('stime') },
  { header: 'RECV', json: 'rtime', kinds: ['msgq'], views: ['time'], value: field('rtime'), human: time('rtime') },
  // shared memory
  { header: 'SIZE', json: 'size', kinds: ['shm'], views: ['default'], value: field('size'), human: bytes('size'), align: 'right' },
  { header: 'NATTCH', json: 'nattch', kinds: ['shm'], views: ['default'], value: field('nattch'), align: 'right' },
  {
    header: 'STATUS',
    kinds: ['shm'],
    views: ['default'],
    value: (o) => [o.mode & SHM_DEST ? 'dest' : '', o.mode & SHM_LOCKED ? 'locked' : ''].filter(Boolean).join(',') || '',
  },
  { header: 'CPID', json: 'cpid', kinds: ['shm'], views: ['pid'], value: field('cpid'), align: 'right' },
  { header: 'LPID', json: 'lpid', kinds: ['shm'], views: ['pid'], value: field('lpid'), align: 'right' },
  { header: 'ATTACH', json: 'atime', kinds: ['shm'], views: ['time'], value: field('atime'), human: time('atime') },
  { header: 'DETACH', json: 'dtime', kinds: ['shm'], views: ['time'], value: field('dtime'), human: time('dtime') },
  // semaphore sets
  { header: 'NSEMS', json: 'nsems', kinds: ['sem'], views: ['default'], value: field('nsems'), align: 'right' },
  { header: 'OP', json: 'otime', kinds: ['sem'], views: ['time'], value: field('otime'), human: time('otime') },
  // all
  { header: 'CHANGE', json: 'ctime', kinds: ALL, views: ['time'], value: (o) => o.ctime, human: time('ctime') },
];

/** One object as its JSON record: every json column its kind has, in order. */
export function toJson(o: IpcObject): Record<string, JsonValue> {
  const rec: Record<string, JsonValue> = {};
  for (const c of COLUMNS) if (c.json && c.kinds.includes(o.kind)) rec[c.json] = c.value(o);
  return rec;
}

/** Objects grouped by kind, as `ls --json` prints them: {"msgq":[...],...}. */
export function toJsonDocument(objects: readonly IpcObject[], kinds: readonly Kind[]): Record<string, Array<Record<string, JsonValue>>> {
  const doc: Record<string, Array<Record<string, JsonValue>>> = {};
  for (const k of kinds) doc[k] = [];
  for (const o of objects) doc[o.kind]?.push(toJson(o));
  return doc;
}

/**
 * The table columns of a view for the kinds shown: TYPE only when more than
 * one kind is, a kind's columns only when that kind is, '-' in the cells of
 * objects of other kinds.
 */
export function tableColumns(view: View, kinds: readonly Kind[]): Column<IpcObject>[] {
  return COLUMNS.filter((c) => c.views.includes(view))
    .filter((c) => (c.header === 'TYPE' ? kinds.length > 1 : c.kinds.some((k) => kinds.includes(k))))
    .map((c) => {
      // Decided once per column and kind, not once per cell: with thousands
      // of objects the per-cell work is what `ls` spends its time on.
      const text = c.human ?? ((o: IpcObject) => String(c.value(o) ?? '-'));
      const byKind: Record<Kind, (o: IpcObject) => string> = {
        msgq: c.kinds.includes('msgq') ? text : () => '-',
        shm: c.kinds.includes('shm') ? text : () => '-',
        sem: c.kinds.includes('sem') ? text : () => '-',
      };
      return { header: c.header, align: c.align, value: (o: IpcObject) => byKind[o.kind](o) };
    });
}
