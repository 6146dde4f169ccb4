// `rm` for the POSIX kinds: `rm pmq|pshm|psem NAME...` and `rm --all --kind
// pmq ...` (narrowed by --owner and --older-than, the filters POSIX objects
// have). A bare `rm --all` never removes POSIX objects: /dev/shm is shared
// with programs whose files are not IPC objects of anyone's (browsers,
// PulseAudio), so POSIX kinds go only when named.
import { EXIT, IpcError, UsageError } from '../../errors.js';
import type { PosixObject } from '../../ipc/posix/listing.js';
import { type PosixKind, POSIX_KINDS, parsePosixName } from '../../ipc/posix/names.js';
import { printJson } from '../../output/json.js';
import { OutputClosedError, writeStderr, writeStdout } from '../../output/sink.js';
import { settings } from '../../output/style.js';
import { renderTable } from '../../output/table.js';
import type { FilterOpts } from './select-options.js';
import { selectionFrom } from './select-options.js';

export function posixKindOf(word: string): PosixKind | undefined {
  const w = word.toLowerCase();
  return (POSIX_KINDS as readonly string[]).includes(w) ? (w as PosixKind) : undefined;
}

interface PosixRmOpts extends Omit<FilterOpts, 'key'> {
  all?: boolean;
  dryRun?: boolean;
}

interface Target {
  kind: PosixKind;
  name: string;
}

async function remover(kind: PosixKind): Promise<(name: string) => void> {
  if (kind === 'pmq') {
    const { PosixQueue } = await import('../../ipc/posix/mqueue.js');
    return (n) => PosixQueue.remove(n, 'rm pmq');
  }
  if (kind === 'pshm') {
    const { PosixSegment } = await import('../../ipc/posix/shm.js');
    return (n) => PosixSegment.remove(n, 'rm pshm');
  }
  const { PosixSemaphore } = await import('../../ipc/posix/sem.js');
  return (n) => PosixSemaphore.remove(n, 'rm psem');
}

export async function removePosix(kinds: readonly PosixKind[], names: string[], opts: PosixRmOpts): Promise<void> {
  if (opts.creator !== undefined || opts.orphans)
    throw new UsageError('rm: --creator and --orphans concern System V segments only: POSIX objects record no creator');
  const listing = await import('../../ipc/posix/listing.js');
  let targets: Target[];
  const missing: IpcError[] = [];
  if (opts.all) {
    if (names.length > 0) throw new UsageError('rm: give NAMEs or --all, not both');
    const sel = selectionFrom({ ...opts, key: undefined }, []);
    targets = listing.selectPosix(listing.readPosixObjects(kinds), sel).map((o) => ({ kind: o.kind, name: o.name }));
  } else {
    if (names.length === 0) throw new UsageError(`rm: missing ${kinds[0]} names (or --all)`);
    const seen = new Set<string>();
    targets = names
      .map((t) => ({ kind: kinds[0]!, name: parsePosixName(t, kinds[0]!, `rm ${kinds[0]}`) }))
      .filter((t) => !seen.has(t.name) && seen.add(t.name));
  }

  if (opts.dryRun) {
    const present = new Map(listing.readPosixObjects(kinds).map((o) => [`${o.kind}:${o.name}`, o] as const));
    const found: PosixObject[] = [];
    for (const t of targets) {
      const o = present.get(`${t.kind}:${t.name}`);
      if (o) found.push(o);
      else missing.push(IpcError.of('ENOENT', `rm ${t.kind}`, t.name, { detail: 'no such object' }));
    }
    if (settings.json) printJson({ dryRun: true, wouldRemove: found.map((o) => ({ kind: o.kind, name: o.name })) });
    else if (found.length > 0)
      writeStdout(
        renderTable(found, [
          { header: 'TYPE', value: (o) => o.kind },
          { header: 'NAME', value: (o) => o.name },
        ]),
      );
    for (const e of missing) writeStderr(`ipcctl: ${e.message}\n`);
    if (missing.length > 0) process.exitCode = EXIT.NO_OBJECT;
    return;
  }

  const removed: Target[] = [];
  const failed: Array<{ target: Target; error: IpcError }> = [];
  let readerGone = false;
  const removers = new Map<PosixKind, (n: string) => void>();
  for (const t of targets) {
    if (!removers.has(t.kind)) removers.set(t.kind, await remover(t.kind));
    try {
      removers.get(t.kind)!(t.name);
      removed.push(t);
      if (opts.all && !settings.json && !readerGone) readerGone = !announce(`removed ${t.kind} ${t.name}\n`);
    } catch (e) {
      if (!(e instanceof IpcError)) throw e;
      if (opts.all && e.code === 'ENOENT') continue; // gone since we listed it
      failed.push({ target: t, error: e });
      writeStderr(`ipcctl: ${e.message}\n`);
    }
  }
  if (settings.json) printJson({ removed, failed: failed.map((f) => ({ ...f.target, error: f.error.code, message: f.error.message })) });
  if (failed.length === 0) return;
  const allMissing = failed.every((f) => f.error.exitCode === EXIT.NO_OBJECT);
  process.exitCode = failed.length === 1 ? failed[0]!.error.exitCode : allMissing ? EXIT.NO_OBJECT : EXIT.FAILED;
}

/** Say what went; false once the reader has gone (the removing goes on). */
function announce(line: string): boolean {
  try {
    writeStdout(line);
    return true;
  } catch (e) {
    if (!(e instanceof OutputClosedError)) throw e;
    return false;
  }
}
