// `create` prints the new id so that `id=$(ipcctl msgq create)` works. When
// that write fails (stdout full or failing, its reader gone) nobody learns the id
// and the object would be left behind for good: remove it again, and fail.
import { EXIT, OperationError } from '../../errors.js';
import { OutputClosedError } from '../../output/sink.js';

export interface Made {
  /** The kernel id, or the name of a POSIX object. */
  id: number | string;
  /** False when an existing object with the key was opened: never removed here. */
  created: boolean;
}

/**
 * Run `print`; if the new id could not be written, remove the object again
 * (when this call made it) and fail. `rmKind` is the kind word of `ipcctl rm`
 * for the hint (default: the command group).
 */
export function reportCreated(op: string, noun: string, made: Made, print: () => void, remove: () => void, rmKind = op.split(' ')[0]): void {
  try {
    print();
  } catch (e) {
    const why = e instanceof OutputClosedError ? 'EPIPE' : ((e as { code?: string }).code ?? (e as Error).message);
    let after: string;
    if (!made.created) after = `the ${noun} existed before and is left as it was`;
    else {
      try {
        remove();
        after = `removed the new ${noun} again`;
      } catch {
        after = `and could not remove it: run ipcctl rm ${rmKind} ${made.id}`;
      }
    }
    throw new OperationError(
      `${op}: could not write the new ${typeof made.id === 'string' ? 'name' : 'id'} ${made.id} to stdout (${why}); ${after}`,
      EXIT.FAILED,
    );
  }
}
