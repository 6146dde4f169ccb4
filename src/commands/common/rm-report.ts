// What `rm` reports: the --dry-run listing (what would go, what would be
// refused and why), and after a real run the JSON document and the exit code
// its failures make.
import { EXIT, IpcError } from '../../errors.js';
import { describeKey } from '../../ipc/sysv/keys.js';
import { CAP_SYS_ADMIN, hasCapability, KINDS, type IpcObject, type Kind } from '../../ipc/sysv/procfs.js';
import { mayRemove } from '../../ipc/sysv/select.js';
import { userName } from '../../ipc/users.js';
import { formatKey, printJson } from '../../output/json.js';
import { OutputClosedError, writeStderr, writeStdout } from '../../output/sink.js';
import { settings } from '../../output/style.js';
import { toJson } from './ipc-columns.js';

/** One object to remove: known from /proc, or only by the kind and id the user typed. */
export interface Target {
  kind: Kind;
  id: number;
  object?: IpcObject;
}

export interface Failure {
  target: Target;
  error: IpcError;
}

function describe(t: Target): Record<string, unknown> {
  return { kind: t.kind, id: t.id, key: t.object ? formatKey(t.object.key) : null };
}

export function countByKind(targets: Target[]): string {
  return KINDS.map((k) => [k, targets.filter((t) => t.kind === k).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

/**
 * --dry-run: one line per object, "would remove" or why it would fail (not
 * there, or not ours to remove), then the counts. Nothing is touched.
 */
export function dryRun(targets: Target[], missing: IpcError[]): void {
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

/** After a real run: the JSON document (with --json), and the exit code of the failures. */
export function reportRemoval(removed: Target[], failed: Failure[], missing: IpcError[]): void {
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

/** The `removed KIND ID` line of `rm --all`; false when the reader went away. */
export function announceRemoved(t: Target): boolean {
  try {
    writeStdout(`removed ${t.kind} ${t.id}${t.object ? ` (key ${describeKey(t.object.key)})` : ''}\n`);
    return true;
  } catch (e) {
    if (!(e instanceof OutputClosedError)) throw e;
    return false;
  }
}
