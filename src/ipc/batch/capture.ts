// Where a batch's commands read and write. For the life of the batch, fd 0
// is /dev/null (a command must not eat the batch's own input), and fds 1 and
// 2 are in-memory files: whatever a command writes there, by our sink, by
// native code (splice) or by a child it runs, is read back afterwards as
// that command's reply. The batch itself reads its lines and writes its
// replies on duplicates of the descriptors it was started with.
import { closeSync, fstatSync, ftruncateSync, openSync, readSync } from 'node:fs';
import { EXIT, IpcError } from '../../errors.js';
import { duplicate, memoryFile, redirect, rewind } from '../../native/stdio.js';

export interface Captured {
  stdout: Buffer;
  stderr: Buffer;
}

export class StdioCapture {
  /** The batch's own input (its stdin or FILE), its reply stream and its stderr. */
  readonly input: number;
  readonly replies: number;
  readonly diagnostics: number;
  /** The in-memory files behind fds 1 and 2 (a native turn drains them itself). */
  readonly out: number;
  readonly err: number;

  constructor(inputFile?: string) {
    // A closed 0, 1 or 2 would be handed out again by the dups below.
    for (const [fd, name] of [
      [0, 'stdin'],
      [1, 'stdout'],
      [2, 'stderr'],
    ] as const) {
      try {
        fstatSync(fd);
      } catch {
        throw IpcError.of('EBADF', 'batch', name, { detail: 'is closed', exitCode: EXIT.FAILED });
      }
    }
    this.input = inputFile === undefined ? duplicate(0) : openSync(inputFile, 'r');
    this.replies = duplicate(1);
    this.diagnostics = duplicate(2);
    this.out = memoryFile('ipcctl-batch-stdout');
    this.err = memoryFile('ipcctl-batch-stderr');
    const devNull = openSync('/dev/null', 'r');
    redirect(devNull, 0);
    closeSync(devNull);
    redirect(this.out, 1);
    redirect(this.err, 2);
  }

  /** Give fds 1 and 2 back to the batch's own streams (its last words go there). */
  restore(): void {
    redirect(this.replies, 1);
    redirect(this.diagnostics, 2);
  }

  /** What the last command wrote, and empty files for the next one. */
  take(): Captured {
    return { stdout: drain(this.out, this.scratch), stderr: drain(this.err, this.scratch) };
  }

  // Most replies are short: one pread into this tells an empty file (the
  // common stderr) from a small one without an fstat (whose Stats object
  // costs more than the read) and reads the small one whole.
  private readonly scratch = Buffer.allocUnsafe(64 * 1024);
}

function drain(fd: number, scratch: Buffer): Buffer {
  const first = readSync(fd, scratch, 0, scratch.length, 0);
  if (first === 0) return EMPTY;
  let data: Buffer;
  if (first < scratch.length) data = Buffer.from(scratch.subarray(0, first));
  else {
    // More than the scratch holds: the file's size says how much.
    const size = Math.max(fstatSync(fd).size, first);
    data = Buffer.allocUnsafe(size);
    scratch.copy(data, 0, 0, first);
    let got = first;
    while (got < size) {
      const n = readSync(fd, data, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    if (got < size) data = data.subarray(0, got);
  }
  ftruncateSync(fd, 0);
  // fd 1 shares this file's offset: the next command writes from the start.
  rewind(fd);
  return data;
}

const EMPTY = Buffer.alloc(0);
