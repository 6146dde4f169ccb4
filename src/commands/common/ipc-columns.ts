// The one column table for System V objects, as lsipc has one: each column
// is defined once, with its header, its JSON name, its typed value and its
// human formatting. The table views (default, --time, --pid), the JSON
// documents of `ls` and `rm --dry-run`, and the watch snapshots are all
// drawn from this list, so a field can never mean two things.
import type { IpcObject, Kind } from '../../ipc/sysv/procfs.js';
import { groupName, userName } from '../../ipc/users.js';
import { formatKey, formatMode } from '../../output/json.js';
import { type Column, formatTime, humanBytes } from '../../output/table.js';

export type View = 'default' | 'time' | 'pid' | 'creator';
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
  human?: (o: IpcObject) => string;
  align?: 'left' | 'right';
  /** Other names -o accepts (lsipc's where ours differ). */
  aliases?: readonly string[];
  /** A byte count: human units unless --bytes. */
  bytes?: true;
}

let processCommands: typeof import('../../ipc/process-command.js') | null = null;
function processCommandModule(): typeof import('../../ipc/process-command.js') {
  return (processCommands ??= require('../../ipc/process-command.js') as typeof import('../../ipc/process-command.js'));
}

const ALL: readonly Kind[] = ['msgq', 'shm', 'sem'];
const SHM_DEST = 0o1000;
const SHM_LOCKED = 0o2000;

/** A numeric field of whichever object kind has it. */
const field =
  (name: string) =>
  (o: IpcObject): JsonValue =>
    (o as unknown as Record<string, JsonValue>)[name] ?? null;

/**
 * `format` remembering its last answer. Listed objects mostly share their
 * key (private), mode, size and times (made in the same second), and a
 * table of thousands then formats each distinct value about once.
 */
function lastOf<T, R>(format: (v: T) => R): (v: T) => R {
  let known = false;
  let input: T;
  let output: R;
  return (v: T) => {
    if (!known || v !== input) {
      input = v;
      output = format(v);
      known = true;
    }
    return output!;
  };
}

const time = (name: string) => {
  const get = field(name);
  const text = lastOf(formatTime);
  return (o: IpcObject) => text(get(o) as number | null);
};
const bytes = (name: string) => {
  const get = field(name);
  const text = lastOf(humanBytes);
  return (o: IpcObject) => text(get(o) as number);
};
const keyText = lastOf(formatKey);
const modeText = lastOf(formatMode);

/** What STATUS shows for a segment's flag bits. */
function segmentStatus(mode: number): string {
  const dest = (mode & SHM_DEST) !== 0;
  const locked = (mode & SHM_LOCKED) !== 0;
  return dest ? (locked ? 'dest,locked' : 'dest') : locked ? 'locked' : '';
}

export const COLUMNS: readonly ObjectColumn[] = [
  { header: 'TYPE', kinds: ALL, views: ['default', 'time', 'pid', 'creator'], value: (o) => o.kind },
  { header: 'ID', json: 'id', kinds: ALL, views: ['default', 'time', 'pid', 'creator'], value: (o) => o.id, align: 'right' },
  { header: 'KEY', json: 'key', kinds: ALL, views: ['default', 'time', 'pid', 'creator'], value: (o) => keyText(o.key) },
  { header: 'PERMS', json: 'mode', kinds: ALL, views: ['default', 'creator'], value: (o) => modeText(o.mode) },
  { header: 'OWNER', aliases: ['USER'], json: 'uid', kinds: ALL, views: ['default', 'time', 'pid'], value: (o) => o.uid, human: (o) => userName(o.uid) },
  { header: 'GROUP', json: 'gid', kinds: ALL, views: [], value: (o) => o.gid, human: (o) => groupName(o.gid) },
  { header: 'CREATOR', aliases: ['CUSER'], json: 'cuid', kinds: ALL, views: ['pid'], value: (o) => o.cuid, human: (o) => userName(o.cuid) },
  { header: 'CGROUP', json: 'cgid', kinds: ALL, views: [], value: (o) => o.cgid, human: (o) => groupName(o.cgid) },
  // The creator view (ipcs -c, lsipc -c): the numbers, creator beside owner.
  { header: 'CUID', kinds: ALL, views: ['creator'], value: (o) => o.cuid, align: 'right' },
  { header: 'CGID', kinds: ALL, views: ['creator'], value: (o) => o.cgid, align: 'right' },
  { header: 'UID', kinds: ALL, views: ['creator'], value: (o) => o.uid, align: 'right' },
  { header: 'GID', kinds: ALL, views: ['creator'], value: (o) => o.gid, align: 'right' },
  // message queues
  { header: 'MSGS', json: 'qnum', kinds: ['msgq'], views: ['default'], value: field('qnum'), align: 'right' },
  {
    header: 'USED',
    aliases: ['USEDBYTES'],
    json: 'cbytes',
    kinds: ['msgq'],
    views: ['default'],
    value: field('cbytes'),
    human: bytes('cbytes'),
    bytes: true,
    align: 'right',
  },
  // /proc does not report msg_qbytes: JSON keeps the field (null), tables omit it.
  { header: 'QBYTES', json: 'qbytes', kinds: ['msgq'], views: [], value: field('qbytes'), align: 'right' },
  { header: 'LSPID', json: 'lspid', kinds: ['msgq'], views: ['pid'], value: field('lspid'), align: 'right' },
  { header: 'LRPID', json: 'lrpid', kinds: ['msgq'], views: ['pid'], value: field('lrpid'), align: 'right' },
  { header: 'SEND', aliases: ['STIME'], json: 'stime', kinds: ['msgq'], views: ['time'], value: field('stime'), human: time('stime') },
  { header: 'RECV', aliases: ['RTIME'], json: 'rtime', kinds: ['msgq'], views: ['time'], value: field('rtime'), human: time('rtime') },
  // shared memory
  { header: 'SIZE', json: 'size', kinds: ['shm'], views: ['default'], value: field('size'), human: bytes('size'), bytes: true, align: 'right' },
  { header: 'NATTCH', json: 'nattch', kinds: ['shm'], views: ['default'], value: field('nattch'), align: 'right' },
  {
    header: 'STATUS',
    kinds: ['shm'],
    views: ['default'],
    value: (o) => segmentStatus(o.mode),
  },
  { header: 'CPID', json: 'cpid', kinds: ['shm'], views: ['pid'], value: field('cpid'), align: 'right' },
  { header: 'LPID', json: 'lpid', kinds: ['shm'], views: ['pid'], value: field('lpid'), align: 'right' },
  // The creating process's command line while it still runs (lsipc's COMMAND); table only.
  // Its module is loaded on the first cell (only the --pid view has the column).
  { header: 'COMMAND', kinds: ['shm'], views: ['pid'], value: (o) => (o.kind === 'shm' ? processCommandModule().processCommand(o.cpid) : null) ?? '-' },
  { header: 'ATTACH', aliases: ['ATIME'], json: 'atime', kinds: ['shm'], views: ['time'], value: field('atime'), human: time('atime') },
  { header: 'DETACH', aliases: ['DTIME'], json: 'dtime', kinds: ['shm'], views: ['time'], value: field('dtime'), human: time('dtime') },
  // semaphore sets
  { header: 'NSEMS', json: 'nsems', kinds: ['sem'], views: ['default'], value: field('nsems'), align: 'right' },
  { header: 'OP', aliases: ['OTIME'], json: 'otime', kinds: ['sem'], views: ['time'], value: field('otime'), human: time('otime') },
  // all
  { header: 'CHANGE', aliases: ['CTIME'], json: 'ctime', kinds: ALL, views: ['time'], value: (o) => o.ctime, human: time('ctime') },
];

/** Find a column by header or alias (case-insensitive); undefined when System V has none. */
export function columnNamed(name: string): ObjectColumn | undefined {
  const n = name.toUpperCase();
  return COLUMNS.find((c) => c.header === n || c.aliases?.includes(n));
}

/** Each kind's json columns, in order: chosen once, not once per object. */
const JSON_COLUMNS: Record<Kind, ReadonlyArray<ObjectColumn & { json: string }>> = {
  msgq: jsonColumnsOf('msgq'),
  shm: jsonColumnsOf('shm'),
  sem: jsonColumnsOf('sem'),
};

function jsonColumnsOf(kind: Kind) {
  return COLUMNS.filter((c): c is ObjectColumn & { json: string } => Boolean(c.json) && c.kinds.includes(kind));
}

/** One object as its JSON record: every json column its kind has, in order. */
export function toJson(o: IpcObject): Record<string, JsonValue> {
  const rec: Record<string, JsonValue> = {};
  for (const c of JSON_COLUMNS[o.kind]) rec[c.json] = c.value(o);
  return rec;
}

/** Objects grouped by kind, as `ls --json` prints them: {"msgq":[...],...}. */
export function toJsonDocument(objects: readonly IpcObject[], kinds: readonly Kind[]): Record<string, Array<Record<string, JsonValue>>> {
  const doc: Record<string, Array<Record<string, JsonValue>>> = {};
  for (const k of kinds) doc[k] = [];
  for (const o of objects) doc[o.kind]?.push(toJson(o));
  return doc;
}

/** `text` for objects of `kind`, '-' for the others. */
function oneKind(kind: Kind, text: (o: IpcObject) => string): (o: IpcObject) => string {
  return (o) => (o.kind === kind ? text(o) : '-');
}

/**
 * The table columns of a view for the kinds shown: TYPE only when more than
 * one kind is, a kind's columns only when that kind is, '-' in the cells of
 * objects of other kinds.
 */
export function tableColumns(view: View, kinds: readonly Kind[], opts: { bytes?: boolean; chosen?: readonly ObjectColumn[] } = {}): Column<IpcObject>[] {
  const base =
    opts.chosen ??
    COLUMNS.filter((c) => c.views.includes(view)).filter((c) => (c.header === 'TYPE' ? kinds.length > 1 : c.kinds.some((k) => kinds.includes(k))));
  return base.map((c) => {
    // Decided once per column, not once per cell: with thousands of
    // objects the per-cell work is what `ls` spends its time on.
    const plain = (o: IpcObject) => String(c.value(o) ?? '-');
    const text = c.bytes && opts.bytes ? plain : (c.human ?? plain);
    const kinds = c.kinds;
    const value =
      kinds.length === ALL.length ? text : kinds.length === 1 ? oneKind(kinds[0]!, text) : (o: IpcObject) => (kinds.includes(o.kind) ? text(o) : '-');
    return { header: c.header, align: c.align, value };
  });
}
