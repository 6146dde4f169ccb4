// stdout as a queue transfer's output: a write that fails says how far it
// got, as the transfer's own OutputFailure, so that the transfer can put back
// exactly what was not delivered.
import type { OutputFailure } from '../../ipc/sysv/msgq-transfer.js';
import { OutputClosedError, OutputError, writeStdout } from '../../output/sink.js';

/** `Failure` is the transfer module's class, passed in so that this file does not load it. */
export function transferStdout(Failure: typeof OutputFailure): { write(data: Uint8Array): void } {
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
