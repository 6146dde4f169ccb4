// The batch loop: read a line, split it into words, run it as `ipcctl WORDS`
// would, hand back its exit code and everything it wrote; the next line.
// Output is the caller's business (a reply callback): this layer never
// prints. Signals: SIGINT interrupts the command that runs (its reply says
// 130) and the batch goes on; a second SIGINT within that command, SIGINT
// while no command runs, or SIGTERM ends the batch.
import { read, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { CliError, EXIT, IpcError, UsageError } from '../../errors.js';
import { blockingCallEnded, blockingCallStarted } from '../../exit.js';
import { ensureHardExit } from '../../native/hard-exit.js';
import { enableFastCalls } from '../../native/fast-call.js';
import { POLLIN, PollSet } from '../../native/poll.js';
import { rememberKeys } from '../sysv/keys.js';
import { keepSegmentsAttached } from '../sysv/shm.js';
import { clearStopping, interruptWaits, keepProcessOnSigint } from '../wait.js';
import type { StdioCapture } from './capture.js';
import { LineWords } from './words.js';

export interface Reply {
  /** 1-based line number of the command in the input. */
  line: number;
  exit: number;
  stdout: Buffer;
  stderr: Buffer;
}

/**
 * The reply of a command and the read of the next input in one native call
 * (the C helper's), or null: then capture.take(), reply() and a read.
 */
export interface ReplyTurn {
  /** Input is read into this. */
  readonly buf: Buffer;
  /**
   * The reply of the command that just ran with `exit` (its output still in
   * the capture's files; null: no reply), then, when `read`, up to `waitMs`
   * of waiting for input: the bytes read (0 at EOF), or undefined when none
   * came. Throws as reply() does when the reply fails; a failed read is an
   * IpcError whose op is the system call.
   */
  step(exit: number | null, read: boolean, waitMs: number): number | undefined;
}

export interface BatchOptions {
  capture: StdioCapture;
  run: (argv: string[]) => Promise<number>;
  /** Writes one reply; may throw when the reader is gone (ends the batch). */
  reply: (r: Reply) => void;
  /** Replies of commands (not refusals) and reads together, when the C helper is there. */
  turn?: ReplyTurn | null;
  /** Ends the process (the batch never returns from a signal that ends it). */
  exit: (code: number) => never;
}

/** Why a command cannot run inside a batch, or null when it can. */
export function refusal(words: string[]): string | null {
  const group = words.find((w) => !w.startsWith('-'));
  if (group === 'batch') return 'a batch cannot run another batch';
  if (group === 'lab') return "'lab' runs worker processes and a live display; run it on its own";
  if (group === 'ls' && words.some((w) => w === '--watch' || w.startsWith('--watch=') || /^-[a-z]*w/.test(w))) {
    return "'ls --watch' redraws a terminal; run it on its own";
  }
  return null;
}

/** The longest command line a batch takes (longer ones get a usage error). */
export const MAX_LINE = 1 << 20;

function inputError(e: Error & { code?: string }): Error {
  return e.code && /^E[A-Z0-9]+$/.test(e.code)
    ? IpcError.of(e.code, 'batch', 'reading the commands', e.code === 'EISDIR' ? { detail: 'the input is a directory' } : {})
    : e;
}

/** Lines of a descriptor, read as they arrive (a coprocess sends one, waits for the reply). */
class LineReader {
  private pending = '';
  private readonly buf: Buffer;
  private eof = false;
  private lines: string[] = [];
  // A character split between two reads is completed by the next one.
  private readonly decoder = new StringDecoder('utf8');
  private readonly poll: PollSet | null;

  constructor(
    private readonly fd: number,
    private readonly turn: ReplyTurn | null,
  ) {
    this.buf = turn?.buf ?? Buffer.allocUnsafe(64 * 1024);
    // poll(2) changes only revents: the one entry is set up once.
    this.poll = turn ? null : new PollSet(1);
    this.poll?.add(fd, POLLIN);
  }

  /**
   * The next line (null at EOF) when it is here or comes within poll's
   * short wait, without a promise (a coprocess's line usually does);
   * undefined when waitForNext() has to wait for it. `exit`: the exit code
   * of a command whose reply the turn writes first (null: none).
   */
  nextNow(exit: number | null = null): string | null | undefined {
    if (exit !== null && (this.lines.length > 0 || this.eof)) {
      // The line is here already: the reply alone.
      this.turn!.step(exit, false, 0);
      exit = null;
    }
    while (this.lines.length === 0) {
      if (this.eof) {
        if (this.pending === '') return null;
        const last = this.pending;
        this.pending = '';
        return last;
      }
      const n = this.fillNow(exit);
      exit = null;
      if (n === undefined) return undefined;
      if (n === 0) this.eof = true;
    }
    return this.lines.shift()!;
  }

  /** Once nextNow() said undefined: the next line, or null at EOF, however long it takes to come. */
  async waitForNext(): Promise<string | null> {
    for (;;) {
      // Straight to the pool thread: nextNow() has just waited its short while.
      const n = await this.fillOnThread();
      if (n === 0) this.eof = true;
      const line = this.nextNow();
      if (line !== undefined) return line;
    }
  }

  /** The decoder holds no part of a character (the last byte it was given was ASCII). */
  private decoderClean = true;

  private take(n: number): void {
    // A coprocess's read is one whole line: no decoder, concatenation or split for it.
    if (n > 0 && this.decoderClean && this.pending === '' && this.buf[n - 1] === 0x0a && this.buf.indexOf(0x0a) === n - 1) {
      this.lines.push(this.buf.toString('utf8', 0, n - 1));
      return;
    }
    if (n > 0) {
      this.decoderClean = this.buf[n - 1]! < 0x80;
      const parts = (this.pending + this.decoder.write(this.buf.subarray(0, n))).split('\n');
      this.pending = parts.pop()!;
      this.lines.push(...parts);
      // Input that never ends a line (/dev/zero) must not grow without bound:
      // past the limit the line so far is handed on, and refused as too long.
      if (this.pending.length > MAX_LINE) {
        this.lines.push(this.pending);
        this.pending = '';
      }
    }
  }

  /** Bytes read (0: EOF) if they came within the short wait; undefined: wait on the pool thread. */
  private fillNow(exit: number | null): number | undefined {
    // A coprocess sends its next line within microseconds of our reply:
    // waiting for it in poll(2) on this thread (up to 20 ms) lets the kernel
    // wake us directly, where a pool-thread read costs two more thread
    // hand-offs per command. Longer idle waits go to the pool thread.
    if (this.turn) {
      let n: number | undefined;
      try {
        n = this.turn.step(exit, true, 20);
      } catch (e) {
        throw e instanceof IpcError && e.op === 'read' ? inputError(e) : e;
      }
      if (n !== undefined) this.take(n);
      return n;
    }
    if (this.poll!.wait(20) > 0) {
      try {
        const n = readSync(this.fd, this.buf, 0, this.buf.length, null);
        this.take(n);
        return n;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw inputError(e as NodeJS.ErrnoException);
      }
    }
    return undefined;
  }

  private fillOnThread(): Promise<number> {
    // The read waits on a pool thread: counted as a blocking call, so that
    // a signal ending the batch exits at once instead of joining it.
    // This read holds a pool thread that Node's exit would wait for: the
    // batch must be able to leave with _exit(2) while it is pending.
    ensureHardExit();
    blockingCallStarted();
    return new Promise((resolve, reject) => {
      read(this.fd, this.buf, 0, this.buf.length, null, (err, n) => {
        blockingCallEnded();
        if (err) {
          if (err.code === 'EAGAIN' || err.code === 'EINTR') return setTimeout(() => resolve(this.fillOnThread()), 5);
          return reject(inputError(err));
        }
        this.take(n);
        resolve(n);
      });
    });
  }
}

export async function runBatch(opts: BatchOptions): Promise<number> {
  rememberKeys();
  keepSegmentsAttached();
  // A batch makes a libc call or two per command: through the C helper's slot, without ffi-rs's cost per argument.
  enableFastCalls();
  keepProcessOnSigint();
  let running = false;
  let sigints = 0;
  let terminating = false;
  process.on('SIGINT', () => {
    if (!running || ++sigints >= 2) opts.exit(EXIT.INTERRUPTED);
  });
  process.on('SIGTERM', () => {
    if (!running) opts.exit(128 + 15);
    terminating = true;
    interruptWaits();
    // A command that does not stop by itself does not keep the batch alive.
    setTimeout(() => opts.exit(128 + 15), 2000).unref();
  });

  const turn = opts.turn ?? null;
  const reader = new LineReader(opts.capture.input, turn);
  const lineWords = new LineWords();
  let last: number = EXIT.OK;
  // With a turn, a command's reply is written by the call that reads the next line.
  let unanswered: number | null = null;
  for (let line = 1; ; line++) {
    let text = reader.nextNow(unanswered);
    unanswered = null;
    if (text === undefined) text = await reader.waitForNext();
    if (text === null) return last;
    let words: string[];
    try {
      if (text.length > MAX_LINE) throw new UsageError(`batch: line ${line} is longer than ${MAX_LINE} characters; refused`);
      words = lineWords.split(text);
    } catch (e) {
      last = EXIT.USAGE;
      opts.reply({ line, exit: last, stdout: Buffer.alloc(0), stderr: Buffer.from(`ipcctl: ${(e as CliError).message}\n`) });
      continue;
    }
    if (words.length === 0) continue;
    const refused = refusal(words);
    if (refused) {
      last = EXIT.USAGE;
      opts.reply({ line, exit: last, stdout: Buffer.alloc(0), stderr: Buffer.from(`ipcctl: batch: ${refused}\n`) });
      continue;
    }
    clearStopping();
    sigints = 0;
    running = true;
    try {
      last = await opts.run(words);
    } finally {
      running = false;
    }
    if (turn) {
      if (!terminating) {
        unanswered = last;
        continue;
      }
      turn.step(last, false, 0);
      opts.exit(128 + 15);
    }
    const out = opts.capture.take();
    opts.reply({ line, exit: last, stdout: out.stdout, stderr: out.stderr });
    if (terminating) opts.exit(128 + 15);
  }
}
