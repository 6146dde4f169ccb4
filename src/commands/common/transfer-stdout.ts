// stdout as a queue transfer's output: a write that fails says how far it
// got, as the transfer's own OutputFailure, so that the transfer can put back
// exactly what was not delivered.
import type { OutputFailure } from '../../ipc/transfer-output.js';
import { OutputClosedError, OutputError, OutputFailedError, writeStdout } from '../../output/sink.js';

/** The transfer module's OutputFailure class. */
type FailureClass = new (written: number, code: string, detail: string, closed: boolean) => OutputFailure;

/** `Failure` is passed in by the command, so that this file does not load the transfer module. */
export function transferStdout(Failure: FailureClass): {
  write(data: Uint8Array): void;
  direct: { fd: number; failure(written: number, code: string): OutputFailure };
} {
  const failure = (e: OutputError) => new Failure(e.written, e.code, e.detail, e instanceof OutputClosedError);
  return {
    write(data: Uint8Array) {
      try {
        writeStdout(data);
      } catch (e) {
        if (e instanceof OutputError) throw failure(e);
        throw e;
      }
    },
    // Raw bytes to fd 1 are all writeStdout does: native code may write them itself, and
    // a failed write of its means what writeStdout's would (sink.ts writeAll).
    direct: {
      fd: 1,
      failure: (written, code) => failure(code === 'EPIPE' || code === 'ECONNRESET' ? new OutputClosedError(written) : new OutputFailedError(written, code)),
    },
  };
}
