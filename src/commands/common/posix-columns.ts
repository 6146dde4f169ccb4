// The column table of the POSIX kinds, as ipc-columns.ts is for System V:
// each column once, with its header, JSON name, value and human text. The
// default views are lsipc 2.41's: pmq NAME PERMS OWNER MTIME USEDBYTES MSGS,
// pshm NAME PERMS OWNER SIZE MTIME, psem NAME PERMS OWNER MTIME SVAL.
import type { PosixKind } from '../../ipc/posix/names.js';
import type { PosixObject } from '../../ipc/posix/listing.js';
import { groupName, userName } from '../../ipc/users.js';
import { formatMode } from '../../output/json.js';
import { type Column, formatTime, humanBytes } from '../../output/table.js';
import type { JsonValue, View } from './ipc-columns.js';

export interface PosixColumn {
  header: string;
  /** Other names -o accepts (lsipc's where ours differ). */
  aliases?: readonly string[];
  json?: string;
  kinds: readonly PosixKind[];
  views: readonly View[];
  value(o: PosixObject): JsonValue;
  human?: (o: PosixObject) => string;
  /** A byte count: human units unless --bytes. */
  bytes?: true;
  align?: 'left' | 'right';
}

const ALL: readonly PosixKind[] = ['pmq', 'pshm', 'psem'];

/** `format` remembering its last answer: listed objects mostly share a mode and a second. */
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
const mtimeText = lastOf(formatTime);
const ctimeText = lastOf(formatTime);
const modeText = lastOf(formatMode);
const field =
  (name: string) =>
  (o: PosixObject): JsonValue =>
    (o as unknown as Record<string, JsonValue>)[name] ?? null;

export const POSIX_COLUMNS: readonly PosixColumn[] = [
  { header: 'TYPE', kinds: ALL, views: ['default', 'time', 'pid', 'creator'], value: (o) => o.kind },
  { header: 'NAME', json: 'name', kinds: ALL, views: ['default', 'time', 'pid', 'creator'], value: (o) => o.name },
  { header: 'PERMS', json: 'mode', kinds: ALL, views: ['default', 'creator'], value: (o) => modeText(o.mode) },
  { header: 'OWNER', aliases: ['USER'], json: 'uid', kinds: ALL, views: ['default', 'time', 'pid'], value: (o) => o.uid, human: (o) => userName(o.uid) },
  { header: 'GROUP', json: 'gid', kinds: ALL, views: [], value: (o) => o.gid, human: (o) => groupName(o.gid) },
  { header: 'UID', kinds: ALL, views: ['creator'], value: (o) => o.uid, align: 'right' },
  { header: 'GID', kinds: ALL, views: ['creator'], value: (o) => o.gid, align: 'right' },
  { header: 'SIZE', json: 'size', kinds: ['pshm'], views: ['default'], value: field('size'), bytes: true, align: 'right' },
  { header: 'USED', aliases: ['USEDBYTES'], json: 'usedbytes', kinds: ['pmq'], views: ['default'], value: field('usedbytes'), bytes: true, align: 'right' },
  { header: 'MSGS', json: 'msgs', kinds: ['pmq'], views: ['default'], value: field('msgs'), align: 'right' },
  { header: 'MAXMSG', json: 'maxmsg', kinds: ['pmq'], views: [], value: field('maxmsg'), align: 'right' },
  { header: 'MSGSIZE', json: 'msgsize', kinds: ['pmq'], views: [], value: field('msgsize'), bytes: true, align: 'right' },
  { header: 'SVAL', json: 'value', kinds: ['psem'], views: ['default'], value: field('value'), align: 'right' },
  { header: 'MTIME', json: 'mtime', kinds: ALL, views: ['default', 'time'], value: (o) => o.mtime, human: (o) => mtimeText(o.mtime) },
  { header: 'CTIME', aliases: ['CHANGE'], json: 'ctime', kinds: ALL, views: ['time'], value: (o) => o.ctime, human: (o) => ctimeText(o.ctime) },
];

const JSON_OF: Record<PosixKind, ReadonlyArray<PosixColumn & { json: string }>> = {
  pmq: POSIX_COLUMNS.filter((c): c is PosixColumn & { json: string } => Boolean(c.json) && c.kinds.includes('pmq')),
  pshm: POSIX_COLUMNS.filter((c): c is PosixColumn & { json: string } => Boolean(c.json) && c.kinds.includes('pshm')),
  psem: POSIX_COLUMNS.filter((c): c is PosixColumn & { json: string } => Boolean(c.json) && c.kinds.includes('psem')),
};

export function posixToJson(o: PosixObject, only?: ReadonlySet<string>): Record<string, JsonValue> {
  const rec: Record<string, JsonValue> = {};
  for (const c of JSON_OF[o.kind]) if (!only || only.has(c.json)) rec[c.json] = c.value(o);
  return rec;
}

export function posixJsonDocument(
  objects: readonly PosixObject[],
  kinds: readonly PosixKind[],
  only?: ReadonlySet<string>,
): Record<string, Array<Record<string, JsonValue>>> {
  const doc: Record<string, Array<Record<string, JsonValue>>> = {};
  for (const k of kinds) doc[k] = [];
  for (const o of objects) doc[o.kind]?.push(posixToJson(o, only));
  return doc;
}

/** Find a column by header or alias (case-insensitive); undefined when this family has none. */
export function posixColumnNamed(name: string): PosixColumn | undefined {
  const n = name.toUpperCase();
  return POSIX_COLUMNS.find((c) => c.header === n || c.aliases?.includes(n));
}

// lsipc 2.41's order of the default columns of one kind (one order for a
// table of several kinds cannot be theirs: SIZE comes before MTIME, SVAL after).
const LSIPC_ORDER: Record<PosixKind, readonly string[]> = {
  pmq: ['NAME', 'PERMS', 'OWNER', 'MTIME', 'USED', 'MSGS'],
  pshm: ['NAME', 'PERMS', 'OWNER', 'SIZE', 'MTIME'],
  psem: ['NAME', 'PERMS', 'OWNER', 'MTIME', 'SVAL'],
};

/** A view's columns for the kinds shown, in lsipc's order when one kind is. */
export function viewColumns(view: View, kinds: readonly PosixKind[]): PosixColumn[] {
  const cols = POSIX_COLUMNS.filter((c) => c.views.includes(view)).filter((c) =>
    c.header === 'TYPE' ? kinds.length > 1 : c.kinds.some((k) => kinds.includes(k)),
  );
  if (kinds.length !== 1) return cols;
  const order = LSIPC_ORDER[kinds[0]!];
  const rank = (c: PosixColumn) => (order.includes(c.header) ? order.indexOf(c.header) : order.length);
  return cols
    .map((c, i) => [c, i] as const)
    .sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1])
    .map(([c]) => c);
}

/** The table columns for the kinds shown: a view's, or the ones chosen by -o. */
export function posixTableColumns(
  view: View,
  kinds: readonly PosixKind[],
  opts: { bytes?: boolean; chosen?: readonly PosixColumn[] } = {},
): Column<PosixObject>[] {
  const base = opts.chosen ?? viewColumns(view, kinds);
  return base.map((c) => {
    const text =
      c.bytes && !opts.bytes
        ? (o: PosixObject) => (c.value(o) === null ? '-' : humanBytes(c.value(o) as number))
        : (c.human ?? ((o: PosixObject) => String(c.value(o) ?? '-')));
    const value = c.kinds.length === ALL.length ? text : (o: PosixObject) => (c.kinds.includes(o.kind) ? text(o) : '-');
    return { header: c.header, align: c.align, value };
  });
}
