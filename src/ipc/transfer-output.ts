// Where a transfer writes what it took (stdout, given by the command): the
// contract between a domain transfer and its sink. The sink lives above the
// domain (src/output writes the streams); a failed write comes back as an
// OutputFailure that says how far it got, so that the transfer knows exactly
// which messages were delivered and which it must put back.

/** Where received messages go: write all of `data` or throw OutputFailure. */
export interface Output {
  write(data: Uint8Array): void;
  /**
   * A descriptor that native code may write the same bytes to itself, with
   * the same meaning as write() (absent when the sink must see each byte),
   * and the OutputFailure that write() would have thrown for a write to it
   * that failed with errno name `code` after `written` bytes.
   */
  readonly direct?: { fd: number; failure(written: number, code: string): OutputFailure };
}

/** A write that did not complete: how many bytes got out, and the errno name. */
export class OutputFailure extends Error {
  constructor(
    readonly written: number,
    readonly code: string,
    readonly detail: string,
    /** The reader went away (EPIPE): not an error of ours. */
    readonly closed: boolean,
  ) {
    super(`${code}, ${detail}`);
  }
}
