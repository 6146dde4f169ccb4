// Writing to stdout and stderr. Writes are synchronous (fs.writeSync) so that
// a command knows, message by message, whether its output reached the reader:
// a reader that closed early (`| head -1`) shows up as OutputClosedError right
// where the write failed, and the command can put back what it had taken.
import { writeSync } from 'node:fs';
import { CliError, EXIT } from '../errors.js';
import { sleepSync } from '../sleep.js';

const phrases: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EIO: 'input/output error',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EBADF: 'not open for writing',
  EPIPE: 'the reader went away',
};

/** A write to fd 1 or 2 that failed: how many bytes got out, and the errno name. */
export class OutputError extends CliError {
  readonly syscall = 'write';
  constructor(
    readonly written: number,
    readonly code: string,
    readonly fd = 1,
  ) {
    super(`writing ${fd === 2 ? 'stderr' : fd === 1 ? 'stdout' : `fd ${fd}`}: ${code}, ${phrases[code] ?? 'write failed'}`, EXIT.FAILED);
  }

  get detail(): string {
    return phrases[this.code] ?? 'write failed';
  }
}

/** The reader went away (EPIPE): `| head -1`. Not an error to report. */
export class OutputClosedError extends OutputError {
  constructor(written: number, fd = 1) {
    super(written, 'EPIPE', fd);
  }
}

/**
 * A write that failed for another reason than a reader going away (ENOSPC on
 * /dev/full, EIO, EFBIG): exit 1 with the errno name. Shaped like a Node
 * system error (code, syscall) so that code testing `.code` keeps working.
 */
export class OutputFailedError extends OutputError {}

/**
 * Write all of `data` to `fd`. Returns when everything is written; throws
 * OutputClosedError (with the count written so far) when the reader is gone.
 */
export function writeAll(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) {
    try {
      done += writeSync(fd, data, done, data.length - done);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        // A non-blocking stdout inherited from the parent: wait, do not spin.
        sleepSync(1);
        continue;
      }
      if (code === 'EPIPE' || code === 'ECONNRESET') throw new OutputClosedError(done, fd);
      if (typeof code === 'string') throw new OutputFailedError(done, code, fd);
      throw err;
    }
  }
}

export function writeStdout(data: Uint8Array | string): void {
  writeAll(1, typeof data === 'string' ? Buffer.from(data) : data);
}

/** Diagnostics never fail a command: a closed stderr is ignored. */
export function writeStderr(text: string): void {
  eraseLiveLine?.();
  writeStderrRaw(text);
}

// A line redrawn in place on stderr (--progress) erases itself before a
// diagnostic is written, so that the diagnostic starts on a clean line.
let eraseLiveLine: (() => void) | null = null;

export function setStderrLiveLine(erase: (() => void) | null): void {
  eraseLiveLine = erase;
}

/**
 * Node opens process.stdout and process.stderr lazily, as libuv streams, and
 * that puts a piped fd in non-blocking mode: our synchronous writes then spin
 * on EAGAIN, and so does every other process that shares the pipe (a shell's
 * `(ipcctl ...; cat big) | slow` would see cat fail). Any ESM import of
 * node:process opens them (chalk's does), so whoever loads such a module
 * calls this afterwards to put them back in blocking mode.
 */
export function keepStdioBlocking(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const handle = (stream as unknown as { _handle?: { setBlocking?: (on: boolean) => number } })._handle;
    handle?.setBlocking?.(true);
  }
}

/** Straight to stderr, for the live line itself. */
export function writeStderrRaw(text: string): void {
  try {
    writeAll(2, Buffer.from(text));
  } catch {
    /* nobody is listening */
  }
}
