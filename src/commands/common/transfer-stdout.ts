// stdout as a queue transfer's output: a write that fails says how far it
// got, as the transfer's own OutputFailure, so that the transfer can put back
// exactly what was not delivered.
import type { OutputFailure } from '../../ipc/transfer-output.js';
import { OutputClosedError, OutputError, writeStdout } from '../../output/sink.js';

/** The transfer module's OutputFailure class. */
type FailureClass = new (written: number, code: string, detail: string, closed: boolean) => OutputFailure;

/** `Failure` is passed in by the command, so that this file does not load the transfer module. */
export function transferStdout(Failure: FailureClass): { write(data: Uint8Array): void } {
  return {
    write(data: Uint8Array) {
      try {
        writeStdout(data);
      } catch (e) {
        if (e instanceof OutputError) throw new Failure(e.written, e.code, e.detail, e instanceof OutputClosedError);
        throw e;
      }
    },
  };
}
