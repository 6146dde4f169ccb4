// `msgq rm`, `shm rm` and `sem rm` share one rule: try every named object,
// report each failure on its own line, and exit with the first failure's
// code; with a single object its error is simply the command's error.
import { EXIT, UsageError, CliError } from '../../errors.js';
import { printJson } from '../../output/json.js';
import { writeStderr } from '../../output/sink.js';
import { settings } from '../../output/style.js';
import { keySpecFrom, targetFrom, type Target } from './args.js';

export type KeyOpts = { key?: string; path?: string; proj?: string };

export async function removeEach(op: string, ids: string[], opts: KeyOpts, open: (t: Target) => Promise<{ id: number; remove(): void }>): Promise<void> {
  if (ids.length > 0 && keySpecFrom(opts)) throw new UsageError(`${op}: give IDs or --key/--path, not both`);
  const targets: Target[] = ids.length > 0 ? ids.map((id) => targetFrom(id, {}, op)) : [targetFrom(undefined, opts, op)];
  let firstError: unknown = null;
  const removed: number[] = [];
  for (const t of targets) {
    try {
      const obj = await open(t);
      obj.remove();
      removed.push(obj.id);
    } catch (e) {
      if (targets.length === 1) throw e;
      writeStderr(`ipcctl: ${(e as Error).message}\n`);
      firstError ??= e;
    }
  }
  if (settings.json) printJson({ removed });
  if (firstError) process.exitCode = firstError instanceof CliError ? firstError.exitCode : EXIT.FAILED;
}
