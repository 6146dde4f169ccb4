// ipcctl batch [FILE]: many commands in one process. The engine (reading,
// splitting, running, capturing) is ipc/batch/; the reply framing is
// output/batch-reply.ts; this file wires them to the command line.
import type { Command } from 'commander';
import { IpcError } from '../errors.js';
import { exitProcess } from '../exit.js';
import { settings } from '../output/style.js';

interface Host {
  run(argv: string[]): Promise<number>;
  reusePrograms(): void;
}

async function batch(file: string | undefined, host: Host): Promise<void> {
  const json = settings.json;
  host.reusePrograms();
  const { StdioCapture } = await import('../ipc/batch/capture.js');
  const { runBatch } = await import('../ipc/batch/engine.js');
  const { replyTurn, writeReply } = await import('../output/batch-reply.js');
  let capture: InstanceType<typeof StdioCapture>;
  try {
    capture = new StdioCapture(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && /^E[A-Z]+$/.test(code) && !(e instanceof IpcError)) throw IpcError.of(code, 'batch', file ?? 'stdin');
    throw e;
  }
  try {
    process.exitCode = await runBatch({
      capture,
      run: (argv) => host.run(argv),
      reply: (r) => writeReply(capture.replies, r, json),
      turn: replyTurn({ input: capture.input, replies: capture.replies, stdout: capture.out, stderr: capture.err }, json),
      exit: exitProcess,
    });
  } finally {
    // The batch's own error, if any, goes to its own stderr.
    capture.restore();
  }
}

export function register(program: Command, host: Host): void {
  program
    .command('batch')
    .description('run commands read one per line (stdin or FILE) in this one process; answer each with one framed line')
    .argument('[file]', 'read the commands from FILE instead of stdin')
    .addHelpText(
      'after',
      `
Each line is split like a shell splits words (quotes, backslashes, # comments;
no expansion) and runs as 'ipcctl WORDS' would. Blank and comment lines get no
reply; every other line gets exactly one, on one line:
  EXIT|STDOUT|STDERR        (STDOUT, STDERR escaped for printf '%b')
or with --json: {"line":N,"exit":N,"stdout":"...","stderr":"..."}.
The batch ends at EOF with the last command's exit code.

Example:
  coproc B { ipcctl batch; }                   # a coprocess
  echo 'sem create --value 1' >&"\${B[1]}"
  IFS='|' read -r code out err <&"\${B[0]}"; printf '%b' "$out"`,
    )
    .action((file: string | undefined) => batch(file, host));
}
