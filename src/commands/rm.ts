// ipcctl rm: remove System V objects by kind and id, by key, or all of those
// a filter selects. Named objects that do not exist are exit 4; any other
// failure is exit 1 (after trying every object). The objects are looked up in
// /proc first, so that what is reported (and --dry-run) names them fully.
import { isatty } from 'node:tty';
// Options come from program.createOption: commander is resolved once, by cli.ts.
import type { Command } from 'commander';
import { EXIT, IpcError, UsageError } from '../errors.js';
import { parseKey, describeKey } from '../ipc/sysv/keys.js';
import { CAP_SYS_ADMIN, hasCapability, KINDS, type IpcObject, type Kind, readObjects } from '../ipc/sysv/procfs.js';
import { mayRemove, select } from '../ipc/sysv/select.js';
import { userName } from '../ipc/users.js';
import { formatKey, printJson } from '../output/json.js';
import { OutputClosedError, writeStderr, writeStdout } from '../output/sink.js';
import { settings } from '../output/style.js';
import { parseId } from './common/args.js';
import { toJson } from './common/ipc-columns.js';
import { confirm } from './common/confirm.js';
import { addFilterOptions, type FilterOpts, hasFilter, parseKind, selectionFrom } from './common/select-options.js';
import { posixKindOf, removePosix } from './common/posix-rm.js';

interface RmOpts extends Omit<FilterOpts, 'key'> {
  key: string[];
  all?: boolean;
  kind: string[];
  dryRun?: boolean;
  yes?: boolean;
}

/** One object to remove: known from /proc, or only by the kind and id the user typed. */
interface Target {
  kind: Kind;
  id: number;
  object?: IpcObject;
}

interface Failure {
  target: Target;
  error: IpcError;
}

const collect = (v: string, prev: string[]) => [...prev, v];
// Every part is checked: an empty --kind must never mean "every kind".
const collectKinds = (v: string, prev: string[]) => [...prev, ...v.split(',').map(checkedKind)];

function checkedKind(word: string): string {
  const k = word.trim();
  if (posixKindOf(k)) return k;
  try {
    parseKind(k, 'rm --kind');
  } catch {
    throw new UsageError(`rm --kind: unknown kind '${k}': use msgq, shm, sem, pmq, pshm or psem`);
  }
  return k;
}

function describe(t: Target): Record<string, unknown> {
  return { kind: t.kind, id: t.id, key: t.object ? formatKey(t.object.key) : null };
}

/** What the user named: `KIND ID...` and `-k KEY` (any kind that has it). */
function namedTargets(kindArg: string | undefined, ids: string[], opts: RmOpts, missing: IpcError[]): Target[] {
  if (ids.length > 0 && kindArg === undefined) throw new UsageError('rm: give the kind before the ids: rm msgq|shm|sem ID...');
  const kinds: readonly Kind[] = kindArg === undefined ? KINDS : [parseKind(kindArg, 'rm')];
  const objects = readObjects(kinds);
  const byId = new Map(objects.map((o) => [`${o.kind}:${o.id}`, o]));
  const targets: Target[] = ids.map((text) => {
    const id = parseId(text, `${kinds[0]} id`);
    return { kind: kinds[0]!, id, object: byId.get(`${kinds[0]}:${id}`) };
  });
  for (const text of opts.key) {
    const key = parseKey(text);
    if (key === 0) throw new UsageError("rm: 'private' names no object (every private object has key 0); give its kind and id");
    const found = objects.filter((o) => o.key === key);
    if (found.length === 0) {
      const where = kindArg === undefined ? 'no object has that key' : `no ${kinds[0]} has that key`;
      missing.push(IpcError.of('ENOENT', 'rm', `key ${describeKey(key)}`, { detail: where }));
    }
    for (const o of found) targets.push({ kind: o.kind, id: o.id, object: o });
  }
  // The same object named twice is removed once.
  const seen = new Set<string>();
  return targets.filter((t) => !seen.has(`${t.kind}:${t.id}`) && seen.add(`${t.kind}:${t.id}`));
}

function selectedTargets(kindArg: string | undefined, opts: RmOpts): Target[] {
  const named = [...(kindArg === undefined ? [] : [kindArg]), ...opts.kind].map((k) => parseKind(k, 'rm'));
  const kinds = named.length > 0 ? KINDS.filter((k) => named.includes(k)) : KINDS;
  return select(readObjects(kinds), selectionFrom({ ...opts, key: undefined }, kinds)).map((o) => ({ kind: o.kind, id: o.id, object: o }));
}

function countByKind(targets: Target[]): string {
  return KINDS.map((k) => [k, targets.filter((t) => t.kind === k).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

/**
 * --dry-run: one line per object, "would remove" or why it would fail (not
 * there, or not ours to remove), then the counts. Nothing is touched.
 */
function dryRun(targets: Target[], missing: IpcError[]): void {
  const euid = process.geteuid?.() ?? -1;
  const admin = hasCapability(CAP_SYS_ADMIN);
  const nounOf = (k: Kind) => (k === 'msgq' ? 'queue' : k === 'shm' ? 'segment' : 'semaphore set');
  const will: Target[] = [];
  const denied: Target[] = [];
  // Named ids /proc does not list would fail: say so as the real run would.
  for (const t of targets) {
    if (!t.object) missing.push(IpcError.of('EINVAL', `rm ${t.kind}`, String(t.id), { detail: `no such ${nounOf(t.kind)}` }));
    else if (mayRemove(t.object, euid, admin)) will.push(t);
    else denied.push(t);
  }
  const keyOf = (t: Target) => (t.object ? ` (key ${describeKey(t.object.key)})` : '');
  const deniedLine = (t: Target) =>
    `rm ${t.kind} ${t.id}: EPERM, would be refused: only the owner (${userName(t.object!.uid)}), the creator or root may remove this ${nounOf(t.kind)}`;
  if (settings.json) {
    printJson({
      dryRun: true,
      wouldRemove: will.map((t) => ({ kind: t.kind, ...toJson(t.object!) })),
      wouldFail: [
        ...denied.map((t) => ({ ...describe(t), error: 'EPERM', message: deniedLine(t) })),
        ...missing.map((e) => ({ kind: null, id: null, error: e.code, message: e.message })),
      ],
      counts: { wouldRemove: will.length, wouldFail: denied.length + missing.length },
    });
  } else {
    for (const t of will) writeStdout(`would remove ${t.kind} ${t.id}${keyOf(t)}\n`);
    const counts = will.length > 0 ? ` (${countByKind(will)})` : '';
    writeStdout(
      `would remove ${will.length} object${will.length === 1 ? '' : 's'}${counts}${denied.length > 0 ? `; ${denied.length} would be refused` : ''}\n`,
    );
  }
  for (const t of denied) writeStderr(`ipcctl: ${deniedLine(t)}\n`);
  for (const e of missing) writeStderr(`ipcctl: ${e.message}\n`);
  if (missing.length > 0) process.exitCode = EXIT.NO_OBJECT;
  else if (denied.length > 0) process.exitCode = EXIT.PERMISSION;
}

async function rm(kindArg: string | undefined, ids: string[], opts: RmOpts): Promise<void> {
  // POSIX kinds, by name or by --all --kind: their own path (common/posix-rm.ts).
  const posixArg = kindArg === undefined ? undefined : posixKindOf(kindArg);
  const posixKinds = opts.kind.map(posixKindOf).filter((k): k is NonNullable<typeof k> => k !== undefined);
  if (posixArg || posixKinds.length > 0) {
    if ((posixArg && opts.kind.some((k) => !posixKindOf(k))) || (!posixArg && (kindArg !== undefined || posixKinds.length !== opts.kind.length))) {
      throw new UsageError('rm: give System V kinds and POSIX kinds in separate calls');
    }
    if (opts.key.length > 0) throw new UsageError('rm: --key names System V objects; POSIX objects go by name');
    return removePosix(posixArg ? [posixArg, ...posixKinds.filter((k) => k !== posixArg)] : posixKinds, ids, opts);
  }
  if (kindArg !== undefined && /^[0-9]+$/.test(kindArg)) {
    throw new UsageError(`rm: give the kind before the ids: rm msgq|shm|sem ${[kindArg, ...ids].join(' ')}`);
  }
  if (opts.all) {
    if (ids.length > 0) throw new UsageError('rm: give IDs or --all, not both');
    if (opts.key.length > 0) throw new UsageError('rm: give --key or --all, not both (--key names objects, --all selects them)');
  } else {
    if (opts.kind.length > 0 || hasFilter({ ...opts, key: undefined })) {
      throw new UsageError('rm: --kind, --owner, --creator, --orphans and --older-than narrow --all; add --all');
    }
    if (ids.length === 0 && opts.key.length === 0) {
      throw new UsageError(kindArg === undefined ? 'rm: nothing named: give KIND ID..., --key KEY, or --all' : `rm: missing ${kindArg} ids (or --all)`);
    }
  }
  if (kindArg !== undefined) parseKind(kindArg, 'rm');

  const missing: IpcError[] = [];
  const targets = opts.all ? selectedTargets(kindArg, opts) : namedTargets(kindArg, ids, opts, missing);
  const bare = opts.all && kindArg === undefined && opts.kind.length === 0 && !hasFilter({ ...opts, key: undefined });

  if (opts.dryRun) {
    dryRun(targets, missing);
    return;
  }

  if (bare && targets.length > 0 && !opts.yes) {
    const what = `all ${targets.length} object${targets.length === 1 ? '' : 's'} (${countByKind(targets)})`;
    if (!isatty(0)) {
      throw new UsageError(
        `rm --all would remove ${what}; not on a terminal, so add --yes to confirm`,
        'or narrow it: --kind, --owner, --orphans, --older-than',
      );
    }
    if (!confirm(`ipcctl: remove ${what}? [y/N] `)) {
      writeStderr('ipcctl: rm: nothing removed\n');
      return;
    }
  }

  const { removeObject, isGone } = await import('../ipc/sysv/remove.js');
  const removed: Target[] = [];
  const failed: Failure[] = [];
  let readerGone = false;
  for (const t of targets) {
    try {
      removeObject(t.kind, t.id);
      removed.push(t);
      if (opts.all && !settings.json && !readerGone) {
        // A reader that went away (| head) stops the report, not the removal.
        try {
          writeStdout(`removed ${t.kind} ${t.id}${t.object ? ` (key ${describeKey(t.object.key)})` : ''}\n`);
        } catch (e) {
          if (!(e instanceof OutputClosedError)) throw e;
          readerGone = true;
        }
      }
    } catch (e) {
      if (!(e instanceof IpcError)) throw e;
      // Selected by --all but gone since: someone else removed it; not a failure.
      if (opts.all && isGone(e)) continue;
      failed.push({ target: t, error: e });
      writeStderr(`ipcctl: ${e.message}\n`);
    }
  }
  for (const e of missing) writeStderr(`ipcctl: ${e.message}\n`);

  if (settings.json) {
    printJson({
      removed: removed.map(describe),
      failed: [
        ...failed.map((f) => ({ ...describe(f.target), error: f.error.code, message: f.error.message })),
        ...missing.map((e) => ({ kind: null, id: null, key: e.object.replace(/^key /, ''), error: e.code, message: e.message })),
      ],
    });
  }
  const errors = [...failed.map((f) => f.error), ...missing];
  if (errors.length === 0) return;
  const allMissing = errors.every((e) => e.exitCode === EXIT.NO_OBJECT);
  // One failure keeps its own code (4 missing, 5 permission); several: 4 if
  // they are all missing objects, else 1.
  process.exitCode = errors.length === 1 ? errors[0]!.exitCode : allMissing ? EXIT.NO_OBJECT : EXIT.FAILED;
}

export function register(program: Command): void {
  addFilterOptions(
    program
      .command('rm')
      .description('remove IPC objects: System V by kind and id, by key, or --all of a selection; POSIX by kind and name')
      .argument('[kind]', 'msgq, shm, sem, pmq, pshm or psem (before ids or names; with --all, only that kind)')
      .argument('[id...]', 'kernel ids of that kind, or /NAMEs of a POSIX kind')
      .addOption(program.createOption('-k, --key <key>', 'the object(s) with KEY, of any kind (repeatable)').argParser(collect).default([]))
      .option('-a, --all', 'every object you may remove, narrowed by the options below')
      .addOption(
        program
          .createOption('--kind <kind>', 'with --all: only msgq, shm, sem, or the POSIX pmq, pshm, psem (repeatable, or comma-separated)')
          .argParser(collectKinds)
          .default([]),
      ),
    { key: false },
  )
    .option('-n, --dry-run', 'print what would be removed; remove nothing')
    .option('-y, --yes', 'do not ask before a bare --all (required when not on a terminal)')
    .addHelpText(
      'after',
      '\nExamples:\n  ipcctl rm msgq 3 4\n  ipcctl rm pmq /jobs\n  ipcctl rm -k 0x1a2b\n  ipcctl rm --all --orphans --dry-run\n  ipcctl rm --all --kind shm --owner "$(id -un)" --older-than 2h\n\n' +
        'A bare --all (no kind, no filter) asks first on a terminal; elsewhere it is refused (exit 2) unless --yes is given.\n' +
        'POSIX objects are removed only when their kind is named (rm pmq NAME, rm --all --kind pshm): a bare --all leaves /dev/shm alone.',
    )
    .action(rm);
}
