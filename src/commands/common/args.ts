// Parsing of the values users type: ids, durations, sizes, modes, counts.
// Each parser throws UsageError (exit 2) with a message that names the value
// and says what would have been accepted.
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { type KeySpec, parseKey, parseProj } from '../../ipc/sysv/keys.js';

export function parseId(text: string, what = 'id'): number {
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`invalid ${what} '${text}': a kernel id is a decimal number (see 'ipcctl ls')`);
  const n = Number(text);
  if (n > 2 ** 31 - 1) throw new UsageError(`invalid ${what} '${text}': out of range`);
  return n;
}

export function parseInteger(text: string, what: string, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
  if (!/^[-+]?[0-9]+$/.test(text.trim())) throw new UsageError(`invalid ${what} '${text}': expected an integer`);
  const n = Number(text);
  if (n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`invalid ${what} '${text}': must be ${range}`);
  }
  return n;
}

const durationUnits: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * The longest duration accepted: 2^31-1 seconds (about 68 years, the largest
 * 32-bit time_t). Waits of any length up to it are honoured in full (see
 * src/timer.ts); beyond it a value is a typo, not a plan.
 */
export const MAX_DURATION_MS = (2 ** 31 - 1) * 1000;

/**
 * "1.5" or "1.5s", "250ms", "2m", "1h" (and "2d" when `days`): milliseconds.
 * A bare number is seconds, as timeout(1). Negative, not a number, or beyond
 * MAX_DURATION_MS: UsageError naming `what`.
 */
export function parseDuration(text: string, what = 'duration', { days = false } = {}): number {
  const t = text.trim();
  const units = days ? '250ms, 2s, 1m, 1h, 2d' : '250ms, 2s, 1m, 1h';
  if (/^-/.test(t)) throw new UsageError(`invalid ${what} '${text}': must not be negative`);
  const m = /^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(ms|s|m|h|d)?$/.exec(t);
  if (!m || (m[2] === 'd' && !days)) throw new UsageError(`invalid ${what} '${text}': use seconds (1.5), or ${units}`);
  const ms = Math.round(Number(m[1]) * durationUnits[m[2] ?? '']!);
  if (!Number.isFinite(ms) || ms > MAX_DURATION_MS)
    throw new UsageError(`invalid ${what} '${text}': too long (at most ${(MAX_DURATION_MS / 3_600_000) | 0}h, about 68 years)`);
  return ms;
}

const sizeUnits: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "4096", "64K", "1M", "2G" (powers of 1024): bytes. */
export function parseSize(text: string, what = 'size'): number {
  const m = /^([0-9]+)([bkmg])?i?b?$/i.exec(text.trim());
  if (!m) throw new UsageError(`invalid ${what} '${text}': use bytes, or a K, M or G suffix (64K)`);
  const n = Number(m[1]) * sizeUnits[(m[2] ?? '').toLowerCase()]!;
  if (!Number.isSafeInteger(n)) throw new UsageError(`invalid ${what} '${text}': too large`);
  return n;
}

/** Octal permission bits as chmod takes them: 600, 0644, 0o600. */
export function parseMode(text: string): number {
  const t = text.trim().replace(/^0o/i, '');
  if (!/^[0-7]{1,4}$/.test(t)) throw new UsageError(`invalid mode '${text}': octal permission bits like 0600`);
  const n = parseInt(t, 8);
  if (n > 0o777) throw new UsageError(`invalid mode '${text}': only permission bits (0000 to 0777)`);
  return n;
}

/** --owner UID[:GID] (numbers or names). */
export function parseOwner(text: string): { uid?: string; gid?: string } {
  const m = /^([^:]*)(?::(.*))?$/.exec(text)!;
  const uid = m[1] || undefined;
  const gid = m[2] || undefined;
  if (!uid && !gid) throw new UsageError(`invalid owner '${text}': use UID, UID:GID or :GID`);
  return { uid, gid };
}

/** A size for a kernel field that holds at most `max` (`field` names it): refused rather than wrapped. */
export function parseSizeUpTo(text: string, what: string, max: number, field: string): number {
  const n = parseSize(text, what);
  if (n > max) throw new UsageError(`invalid ${what} '${text}': ${field} holds at most ${max} bytes (it would wrap)`);
  return n;
}

// commander argParser adaptors: commander calls fn(value, previous).
export const asDuration = (v: string) => parseDuration(v, 'duration');
export const asSize = (v: string) => parseSize(v);
export const asMode = (v: string) => parseMode(v);
export const asCount = (v: string) => parseInteger(v, 'count', 1);

/** The -k/-f/--proj options every System V command shares. */
export function addKeyOptions(cmd: Command, defaultPrivate = false): Command {
  return cmd
    .addOption(cmd.createOption('-k, --key <key>', 'the object by key: 0x1a2b (hex), 6699 (decimal)' + (defaultPrivate ? " or 'private'" : '')))
    .addOption(cmd.createOption('-f, --path <file>', 'the object by ftok(FILE, --proj) key'))
    .addOption(cmd.createOption('--proj <n>', 'project id for --path (1-255)').default('1'));
}

export function keySpecFrom(opts: { key?: string; path?: string; proj?: string }): KeySpec | undefined {
  if (opts.key !== undefined && opts.path !== undefined) throw new UsageError('give either --key or --path, not both');
  if (opts.key !== undefined) return { kind: 'key', key: parseKey(opts.key) };
  if (opts.path !== undefined) return { kind: 'path', path: opts.path, proj: parseProj(opts.proj ?? '1') };
  return undefined;
}

/** How a command names an existing object: a positional id, or -k/-f. */
export type Target = { kind: 'id'; id: number } | KeySpec;

/**
 * `[id] [words...]` after a command: with -k/-f the object is named by its
 * key, so the first positional word commander took for the id is the first
 * word of the rest (TEXT, DATA or an OP). Returns the id and the words as meant.
 */
export function idAndWords(idArg: string | undefined, words: string[], opts: { key?: string; path?: string }): { id: string | undefined; words: string[] } {
  if ((opts.key !== undefined || opts.path !== undefined) && idArg !== undefined) return { id: undefined, words: [idArg, ...words] };
  return { id: idArg, words };
}

export function targetFrom(idArg: string | undefined, opts: { key?: string; path?: string; proj?: string }, op: string): Target {
  const spec = keySpecFrom(opts);
  if (idArg !== undefined && spec) throw new UsageError(`${op}: give an ID or --key/--path, not both`);
  if (idArg !== undefined) return { kind: 'id', id: parseId(idArg) };
  if (spec) {
    if (spec.kind === 'key' && spec.key === 0) throw new UsageError(`${op}: 'private' names no existing object; give its ID`);
    return spec;
  }
  throw new UsageError(`${op}: missing ID (or --key/--path)`);
}
