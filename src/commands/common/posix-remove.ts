// `pmq rm`, `pshm rm` and `psem rm` share the rule of the System V rm
// commands: try every name, report each failure on its own line, exit with
// the first failure's code; with a single name its error is the command's.
import { CliError, EXIT } from '../../errors.js';
import { printJson } from '../../output/json.js';
import { writeStderr } from '../../output/sink.js';
import { settings } from '../../output/style.js';

export function removeNames(names: string[], remove: (name: string) => void): void {
  let firstError: unknown = null;
  const removed: string[] = [];
  for (const n of names) {
    try {
      remove(n);
      removed.push(n);
    } catch (e) {
      if (names.length === 1) throw e;
      writeStderr(`ipcctl: ${(e as Error).message}\n`);
      firstError ??= e;
    }
  }
  if (settings.json) printJson({ removed });
  if (firstError) process.exitCode = firstError instanceof CliError ? firstError.exitCode : EXIT.FAILED;
}
