// ipcctl rm: remove System V objects by kind and id, by key, or all of those
// a filter selects. Named objects that do not exist are exit 4; any other
// failure is exit 1 (after trying every object). The objects are looked up in
// /proc first, so that what is reported (and --dry-run) names them fully.
import { isatty } from 'node:tty';
// Options come from program.createOption: commander is resolved once, by cli.ts.
import type { Command } from 'commander';
import { IpcError, UsageError } from '../errors.js';
import { parseKey, describeKey } from '../ipc/sysv/keys.js';
import { KINDS, type Kind, readObjects } from '../ipc/sysv/procfs.js';
import { select } from '../ipc/sysv/select.js';
import { writeStderr } from '../output/sink.js';
import { settings } from '../output/style.js';
import { parseId } from './common/args.js';
import { confirm } from './common/confirm.js';
import { addFilterOptions, type FilterOpts, hasFilter, parseKind, selectionFrom } from './common/select-options.js';
import { posixKindOf, removePosix } from './common/posix-rm.js';
import { announceRemoved, countByKind, dryRun, type Failure, reportRemoval, type Target } from './common/rm-report.js';

interface RmOpts extends Omit<FilterOpts, 'key'> {
  key: string[];
  all?: boolean;
  kind: string[];
  dryRun?: boolean;
  yes?: boolean;
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
      // A reader that went away (| head) stops the report, not the removal.
      if (opts.all && !settings.json && !readerGone) readerGone = !announceRemoved(t);
    } catch (e) {
      if (!(e instanceof IpcError)) throw e;
      // Selected by --all but gone since: someone else removed it; not a failure.
      if (opts.all && isGone(e)) continue;
      failed.push({ target: t, error: e });
      writeStderr(`ipcctl: ${e.message}\n`);
    }
  }
  for (const e of missing) writeStderr(`ipcctl: ${e.message}\n`);

  reportRemoval(removed, failed, missing);
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
