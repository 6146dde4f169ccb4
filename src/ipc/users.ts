// User and group names <-> numbers, from /etc/passwd and /etc/group (what
// ipcs shows as "owner"). Read once, on first use.
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

function table(path: string): Map<number, string> {
  const byId = new Map<number, string>();
  try {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && id !== undefined && /^[0-9]+$/.test(id) && !byId.has(Number(id))) byId.set(Number(id), name);
    }
  } catch {
    /* no file: numbers only */
  }
  return byId;
}

let users: Map<number, string> | null = null;
let groups: Map<number, string> | null = null;

export function userName(uid: number): string {
  users ??= table('/etc/passwd');
  return users.get(uid) ?? String(uid);
}

export function groupName(gid: number): string {
  groups ??= table('/etc/group');
  return groups.get(gid) ?? String(gid);
}

/** The largest uid/gid: (uid_t)-1 = 4294967295 means "no change" to the kernel. */
export const MAX_ID = 4294967294;

function lookup(map: Map<number, string>, name: string, what: string): number {
  if (name.trim() === '') throw new UsageError(`empty ${what}: give a ${what} name or number`);
  if (/^[0-9]+$/.test(name)) {
    const n = Number(name);
    if (n > MAX_ID) throw new UsageError(`invalid ${what} '${name}': ${what === 'user' ? 'uid' : 'gid'}s go from 0 to ${MAX_ID}`);
    return n;
  }
  if (/^-[0-9]+$/.test(name)) throw new UsageError(`invalid ${what} '${name}': ${what === 'user' ? 'uid' : 'gid'}s go from 0 to ${MAX_ID}`);
  for (const [id, n] of map) if (n === name) return id;
  throw new UsageError(`unknown ${what} '${name}'`);
}

export function userId(name: string): number {
  users ??= table('/etc/passwd');
  return lookup(users, name, 'user');
}

export function groupId(name: string): number {
  groups ??= table('/etc/group');
  return lookup(groups, name, 'group');
}
