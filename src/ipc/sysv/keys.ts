// Keys of System V objects: hex (0x1a2b), decimal (6699), `private`
// (IPC_PRIVATE), or ftok(path, proj). Parsing is pure; ftok needs libc and is
// imported only when a path is given.
import { BoundedMap } from '../../bounded-map.js';
import { IpcError, UsageError } from '../../errors.js';

export const IPC_PRIVATE = 0;

/** A key as the user wrote it: a number, or a path for ftok. */
export type KeySpec = { kind: 'key'; key: number } | { kind: 'path'; path: string; proj: number };

// A batch sends the same keys on every line: each text is parsed once.
const parsedKeys = new BoundedMap<string, number>(64);

export function parseKey(text: string): number {
  const known = parsedKeys.get(text);
  if (known !== undefined) return known;
  const key = parseKeyText(text);
  parsedKeys.add(text, key);
  return key;
}

function parseKeyText(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'private' || t === 'ipc_private') return IPC_PRIVATE;
  let n: number;
  if (/^0x[0-9a-f]{1,8}$/.test(t)) n = parseInt(t.slice(2), 16);
  else if (/^-?[0-9]+$/.test(t)) n = Number(t);
  else throw new UsageError(`invalid key '${text}': use hex (0x1a2b), decimal (6699) or 'private'`);
  if (n < -(2 ** 31) || n > 2 ** 32 - 1) throw new UsageError(`invalid key '${text}': keys are 32-bit`);
  // key_t is a signed int: 0xffffffff and -1 are the same key.
  return n | 0;
}

export function parseProj(text: string): number {
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`invalid --proj '${text}': a number from 1 to 255`);
  const n = Number(text);
  if (n < 1 || n > 255) throw new UsageError(`invalid --proj '${text}': a number from 1 to 255 (ftok uses its low 8 bits, and 0 is reserved)`);
  return n;
}

// In a batch, keys and the ids they name are looked up once: ftok(path)
// and msgget/shmget/semget(key) are remembered until the object is removed
// (by the batch, or found gone: EIDRM/EINVAL on that id). Off otherwise.
let ftokCache: Map<string, number> | null = null;
/** kind -> key -> id (two levels: a lookup builds no string). */
let idCache: Map<string, Map<number, number>> | null = null;

export function rememberKeys(): void {
  ftokCache ??= new Map();
  idCache ??= new Map();
}

/** Turn what the user gave into the key_t value. */
export async function resolveKey(spec: KeySpec): Promise<number> {
  if (spec.kind === 'key') return spec.key;
  const name = `${spec.proj}:${spec.path}`;
  const known = ftokCache?.get(name);
  if (known !== undefined) return known;
  const { ftok } = await import('../../native/sysv/ipc.js');
  let key: number;
  try {
    key = ftok(spec.path, spec.proj);
  } catch (e) {
    // ftok needs the file to exist: say so, rather than "no such object".
    if (e instanceof IpcError && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) {
      throw new IpcError(e.errno, 'ftok', `'${spec.path}'`, {
        detail: 'no such file: --path names an existing file (create it first, e.g. with touch)',
        exitCode: e.exitCode,
      });
    }
    throw e;
  }
  ftokCache?.set(name, key);
  return key;
}

/** The id of the `kind` object with `key`: `open()` (the *get call) once per batch. */
export function idForKey(kind: string, key: number, open: () => number): number {
  if (!idCache || key === IPC_PRIVATE) return open();
  let ids = idCache.get(kind);
  if (!ids) idCache.set(kind, (ids = new Map<number, number>()));
  const known = ids.get(key);
  if (known !== undefined) return known;
  const id = open();
  ids.set(key, id);
  return id;
}

/**
 * The id a batch already found for `kind` at this numeric key, at once (no
 * promise, no call); undefined when it has to be looked up (idOfKey).
 */
export function rememberedId(kind: string, spec: KeySpec): number | undefined {
  return spec.kind === 'key' && spec.key !== IPC_PRIVATE ? idCache?.get(kind)?.get(spec.key) : undefined;
}

/** The object `kind` `id` is gone (or going): its key must be looked up again. */
export function forgetId(kind: string, id: number): void {
  const ids = idCache?.get(kind);
  if (!ids) return;
  for (const [key, known] of ids) if (known === id) ids.delete(key);
}

/**
 * The id of the object of `kind` that exists at `spec` (`open` is its *get
 * with no flags), remembered for the batch; a failure re-described by the
 * kind's `relabel` as `<kind> key 0x...`.
 */
export async function idOfKey(
  kind: string,
  spec: KeySpec,
  open: (key: number) => number,
  relabel: (err: unknown, op: string, object: string) => never,
): Promise<number> {
  const key = await resolveKey(spec);
  try {
    return idForKey(kind, key, () => open(key));
  } catch (e) {
    return relabel(e, kind, `key ${describeKey(key)}`);
  }
}

/**
 * Create, also saying whether this call made the object (a key without
 * --exclusive may open an existing one): a command that cannot report the
 * new id removes only what it made. IPC_EXCL first tells them apart.
 */
export async function createSayingWhether<O extends { key: KeySpec; exclusive: boolean }>(
  opts: O,
  create: (opts: O) => Promise<number>,
): Promise<{ id: number; created: boolean }> {
  if (opts.exclusive || (opts.key.kind === 'key' && opts.key.key === 0)) return { id: await create(opts), created: true };
  try {
    return { id: await create({ ...opts, exclusive: true }), created: true };
  } catch (e) {
    if (!(e instanceof IpcError && e.code === 'EEXIST')) throw e;
  }
  return { id: await create(opts), created: false };
}

export function describeKey(key: number): string {
  return key === IPC_PRIVATE ? 'private' : '0x' + (key >>> 0).toString(16).padStart(8, '0');
}
